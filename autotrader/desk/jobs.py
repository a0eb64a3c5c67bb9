"""The desk's loops as registered jobs: the heartbeat and the six workers.

A step worker's tick: if its breaker (:mod:`autotrader.desk.breaker`) has disabled it, nothing;
else its own pass over the book (the position monitor's marks), then up to ``batch`` steps of
its kinds, claimed one at a time. Each step runs with its handler in one unit of work together
with its result (a fill and its step's success commit together). A handler that raises fails
the step — the unit of work rolled back, so it changed nothing — and counts against the breaker;
a busy store (``TemporaryError``) puts the step back in the queue and lets the harness back off,
up to ``missions.MAX_STEP_ATTEMPTS`` times; then the step fails like any other error.

A tick whose errors went to the breaker is still a failed tick to the harness
(``TickReport(failed=True)``: counted, backed off from, and a worker that stops while failing
exits 1): one in which every piece of work broke, one that tripped the breaker, and every tick
of a worker its breaker has disabled (it does no work until it is reset).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from autotrader.core.errors import TemporaryError
from autotrader.core.worker import TickContext, TickReport
from autotrader.desk import missions
from autotrader.desk.breaker import Breaker
from autotrader.desk.missions import Handler, StepResult
from autotrader.desk.repo import loop as loop_repo
from autotrader.desk.vocabulary import DeskWorker, StepKind

if TYPE_CHECKING:
    from autotrader.core.clock import Clock
    from autotrader.core.db import Store
    from autotrader.core.jobs import JobEnv
    from autotrader.desk.conversation import RoundtableRunner
    from autotrader.desk.heartbeat import Heartbeat
    from autotrader.desk.initiative import InitiativeWorker
    from autotrader.desk.schedule import ScheduleReport

STEP_BATCH = 20


class StepWorker:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        worker: DeskWorker,
        handlers: Mapping[StepKind, Handler],
        *,
        watch: Callable[[], dict[str, int]] | None = None,
        batch: int = STEP_BATCH,
    ) -> None:
        self.store = store
        self.clock = clock
        self.worker = worker
        self.handlers = dict(handlers)
        self.watch = watch
        self.batch = batch
        self.breaker = Breaker(store, clock, worker)

    def __call__(self, ctx: TickContext) -> TickReport:
        disabled = self.breaker.disabled()
        if disabled:
            return TickReport(summary=f"{self.worker}: {disabled}", idle=True, failed=True)
        counts = {"steps": 0, "succeeded": 0, "failed": 0, "errors": 0}
        if self.watch is not None:
            try:
                counts |= self.watch()
            except TemporaryError:
                raise
            except Exception as exc:
                counts["errors"] += 1
                if self.breaker.failed(f"{type(exc).__name__}: {exc}"):
                    return self._report(counts, tripped=True)
        while counts["steps"] < self.batch and not ctx.should_stop():
            claimed = missions.claim(
                self.store, self.clock, list(self.handlers), worker_id=ctx.worker_id
            )
            if not claimed:
                break
            counts["steps"] += 1
            outcome, tripped = self._run(claimed[0])
            counts[outcome] += 1
            if tripped:
                return self._report(counts, tripped=True)
        return self._report(counts)

    def _run(self, step: dict) -> tuple[str, bool]:
        """Run one claimed step; its outcome (succeeded/failed/errors), and whether its error
        tripped the breaker."""
        handler = self.handlers[StepKind(step["kind"])]
        try:
            with self.store.atomic():
                result = handler(step)
                missions.finish(self.store, step, result, now_ms=self.clock.now_ms())
        except TemporaryError as exc:
            with self.store.atomic():
                released = loop_repo.release_step(
                    self.store,
                    step["id"],
                    max_attempts=missions.MAX_STEP_ATTEMPTS,
                    now_ms=self.clock.now_ms(),
                )
                requeued = released is None or missions.given_back(
                    self.store,
                    released,
                    f"temporary error: {exc}"[:300],
                    now_ms=self.clock.now_ms(),
                )
            if requeued:
                raise
            return "errors", self.breaker.failed(f"{type(exc).__name__}: {exc}"[:500])
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            failed = StepResult(
                title=f"step {step['id']} ({step['kind']}) failed: {error}", ok=False, error=error
            )
            with self.store.atomic():
                missions.finish(self.store, step, failed, now_ms=self.clock.now_ms())
            return "errors", self.breaker.failed(error)
        self.breaker.succeeded()
        return ("succeeded" if result.ok else "failed"), False

    def _report(self, counts: dict[str, int], *, tripped: bool = False) -> TickReport:
        text = ", ".join(f"{k}={v}" for k, v in counts.items() if v)
        if tripped:
            text += "; the breaker tripped: worker disabled"
        return TickReport(
            summary=f"{self.worker}: {text or 'nothing to do'}",
            counts=counts,
            idle=not any(counts.values()),
            # errors and no step reached an outcome: nothing this tick worked
            failed=tripped or bool(counts["errors"] and not counts["succeeded"] + counts["failed"]),
        )


class HeartbeatJob:
    def __init__(self, heartbeat: Heartbeat) -> None:
        self.heartbeat = heartbeat

    def __call__(self, ctx: TickContext) -> TickReport:
        report = self.heartbeat.beat()
        return TickReport(
            summary=report.summary(),
            counts={"duration_ms": report.duration_ms, "failed_ops": len(report.failed)},
            result=report,
            failed=bool(report.failed),
        )


class InitiativeJob:
    def __init__(self, worker: InitiativeWorker, breaker: Breaker) -> None:
        self.worker = worker
        self.breaker = breaker

    def __call__(self, ctx: TickContext) -> TickReport:
        disabled = self.breaker.disabled()
        if disabled:
            return TickReport(summary=f"initiative: {disabled}", idle=True, failed=True)
        try:
            line = self.worker.run()
        except Exception as exc:
            tripped = self.breaker.failed(f"{type(exc).__name__}: {exc}")
            suffix = "; the breaker tripped: worker disabled" if tripped else ""
            return TickReport(
                summary=f"initiative: {exc}{suffix}", counts={"errors": 1}, failed=True
            )
        if line.startswith("idle"):
            return TickReport(summary=f"initiative: {line}", idle=True)
        self.breaker.succeeded()
        return TickReport(summary=f"initiative: {line}", counts={"initiatives": 1})


class RoundtableJob:
    """The roundtable-worker's tick: convene the meetings that are due, then hold one queued
    roundtable (a conversation is many model calls: one a tick). A conversation that ended
    because the model server could not be reached counts against the breaker; one the model
    spoiled with bad turns is an outcome."""

    def __init__(
        self, schedule: Callable[[], ScheduleReport], runner: RoundtableRunner, breaker: Breaker
    ) -> None:
        self.schedule = schedule
        self.runner = runner
        self.breaker = breaker

    def __call__(self, ctx: TickContext) -> TickReport:
        disabled = self.breaker.disabled()
        if disabled:
            return TickReport(summary=f"roundtable: {disabled}", idle=True, failed=True)
        try:
            scheduled = self.schedule()
            held = self.runner.hold(worker_id=ctx.worker_id)
        except TemporaryError:
            raise
        except Exception as exc:
            tripped = self.breaker.failed(f"{type(exc).__name__}: {exc}")
            suffix = "; the breaker tripped: worker disabled" if tripped else ""
            return TickReport(
                summary=f"roundtable: {exc}{suffix}", counts={"errors": 1}, failed=True
            )
        counts = {"queued": len(scheduled.queued), "held": int(held is not None)}
        parts = [f"{len(scheduled.queued)} queued"]
        if scheduled.refused:
            gates = ", ".join(sorted(set(scheduled.refused)))
            parts.append(f"{len(scheduled.refused)} refused ({gates})")
        if held is None:
            return TickReport(
                summary=f"roundtable: {', '.join(parts)}; none to hold",
                counts=counts,
                idle=not scheduled.queued,
            )
        if held.unreachable:
            if self.breaker.failed(held.line):
                held.line += "; the breaker tripped: worker disabled"
        elif not held.lost:
            self.breaker.succeeded()
        outcome = "lost (failed as stale)" if held.lost else f"{held.status}: {held.line}"
        parts.append(f"roundtable {held.roundtable_id} {outcome}")
        return TickReport(
            summary=f"roundtable: {'; '.join(parts)}",
            counts=counts,
            result=held,
            failed=held.unreachable,  # the model server could not be reached: no meeting
        )


# -- builders (named in autotrader/jobs.py) -----------------------------------------------------


def _watchlist(env: JobEnv) -> tuple[str, ...]:
    return tuple(env.settings.symbol_list)


def heartbeat_job(env: JobEnv) -> HeartbeatJob:
    from autotrader.desk.heartbeat import Heartbeat, operations
    from autotrader.desk.setup import desk_account_id

    desk_account_id(env.store)  # a desk that is not set up is one clear error, not six
    ops = operations(
        env.store,
        env.clock,
        watchlist=_watchlist(env),
        worker_stale_after_s=env.settings.worker_stale_after,
    )
    return HeartbeatJob(Heartbeat(env.store, env.clock, ops, worker_id=env.worker_id))


def trade_executor_job(env: JobEnv) -> StepWorker:
    from autotrader.desk.executor import TradeExecutor
    from autotrader.prop.factory import prop_desk

    executor = TradeExecutor(env.store, env.clock, prop_desk(env.store, env.clock))
    return StepWorker(env.store, env.clock, DeskWorker.TRADE_EXECUTOR, executor.handlers())


def position_monitor_job(env: JobEnv) -> StepWorker:
    from autotrader.desk.monitor import PositionMonitor
    from autotrader.prop.factory import precision
    from autotrader.prop.mtm import MarkToMarket

    mtm = MarkToMarket(env.store, env.clock, precision(env.store, env.clock))
    monitor = PositionMonitor(env.store, env.clock, mtm)
    return StepWorker(
        env.store, env.clock, DeskWorker.POSITION_MONITOR, monitor.handlers(), watch=monitor.watch
    )


def signal_analyzer_job(env: JobEnv) -> StepWorker:
    from autotrader.desk.analyzer import SignalAnalyzer

    analyzer = SignalAnalyzer(env.store, env.clock, watchlist=_watchlist(env))
    return StepWorker(env.store, env.clock, DeskWorker.SIGNAL_ANALYZER, analyzer.handlers())


def risk_calculator_job(env: JobEnv) -> StepWorker:
    from autotrader.desk.calculator import RiskCalculator

    calculator = RiskCalculator(env.store, env.clock)
    return StepWorker(env.store, env.clock, DeskWorker.RISK_CALCULATOR, calculator.handlers())


def initiative_job(env: JobEnv) -> InitiativeJob:
    from autotrader.decisions.factory import lazy_model_client
    from autotrader.desk.initiative import InitiativeWorker

    client = lazy_model_client(env.settings, env.store, env.clock)
    worker = InitiativeWorker(env.store, env.clock, client, model=env.settings.desk_model)
    return InitiativeJob(worker, Breaker(env.store, env.clock, DeskWorker.INITIATIVE))


def roundtable_job(env: JobEnv) -> RoundtableJob:
    from zoneinfo import ZoneInfo

    from autotrader.core.errors import ConfigError
    from autotrader.decisions.factory import lazy_model_client
    from autotrader.desk.conversation import NEEDS_A_MODEL, RoundtableRunner
    from autotrader.desk.schedule import schedule_due
    from autotrader.desk.setup import desk_account_id

    desk_account_id(env.store)  # a desk that is not set up is one clear error
    if not env.settings.model_configured:  # else every meeting of the day would fail, unheard
        raise ConfigError([NEEDS_A_MODEL])
    zone = ZoneInfo(env.settings.desk_timezone)
    client = lazy_model_client(env.settings, env.store, env.clock)
    return RoundtableJob(
        lambda: schedule_due(env.store, env.clock, zone=zone),
        RoundtableRunner(env.store, env.clock, client, model=env.settings.desk_model),
        Breaker(env.store, env.clock, DeskWorker.ROUNDTABLE),
    )
