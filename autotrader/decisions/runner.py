"""The decision loop: due runs → context → engine → intents → gates → fills.

One tick: recover runs abandoned by dead workers (at once when the claiming worker's process or
heartbeat is gone, after a stale window otherwise: :mod:`autotrader.decisions.claims`), queue
what is due, claim runs atomically,
evaluate them (model-backed engines concurrently, bounded by a setting, each on its own
connection; claimed in a rolling window so one slow model call never serialises the tick), store
what each run saw (:mod:`autotrader.decisions.audit`), then execute their intents through the
prop desk one run at a time, in claim order: the run's actions, fills and final status commit
together. Intents carry idempotency keys ``run:{id}:{seq}`` (stored in the account's decision
namespace, :mod:`autotrader.prop.idempotency`), so a run re-claimed after a crash replays its
fills instead of trading twice; a run whose actions were already recorded is closed from that
record instead of being decided again. A busy store (a lock timeout, ``TemporaryError``) anywhere
in a run's path — claiming, building the request, the engine's own writes, execution — puts every
run the tick still holds back in the queue untouched (no attempt counted, no HOLD recorded) and
fails the tick with that error, so the worker backs off.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any

from autotrader.clones.plan import EngineName
from autotrader.clones.plan_cache import CompiledPlans
from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import TemporaryError
from autotrader.decisions import repo, safe_mode
from autotrader.decisions.audit import RunArtifacts
from autotrader.decisions.claims import HeldRuns, recover_abandoned
from autotrader.decisions.engines.base import DecisionRequest, Engine, EngineResult
from autotrader.decisions.engines.hold import hold_result
from autotrader.decisions.scheduler import Scheduled, schedule
from autotrader.decisions.vocabulary import ActionStatus, RunStatus
from autotrader.prop.execution import PropDesk
from autotrader.prop.models import Action
from autotrader.prop.vocabulary import IntentOrigin

log = logging.getLogger("autotrader.decisions")

RequestBuilder = Callable[[Store, dict, Engine], DecisionRequest]
"""Builds an engine's request for a claimed run, on the given (thread's own) store."""


@dataclass
class RunOutcome:
    run_id: int
    symbol: str
    engine: str
    status: str
    actions: list[dict] = field(default_factory=list)
    error: str | None = None
    notes: str = ""
    safe_mode: bool = False  # the clone was in safe mode when the run finished (holds only)


@dataclass
class TickOutcome:
    scheduled: Scheduled
    runs: list[RunOutcome] = field(default_factory=list)
    recovered: int = 0

    def summary(self) -> str:
        executed = sum(a["status"] == ActionStatus.EXECUTED for r in self.runs for a in r.actions)
        rejected = sum(a["status"] == ActionStatus.REJECTED for r in self.runs for a in r.actions)
        failed = sum(r.status == RunStatus.FAILED for r in self.runs)
        return (
            f"{len(self.runs)} runs ({len(self.scheduled.queued)} newly due, "
            f"{len(self.scheduled.skipped)} skipped), {executed} fills, {rejected} rejected, "
            f"{failed} failed" + (f", {self.recovered} recovered" if self.recovered else "")
        )

    @property
    def all_failed(self) -> bool:
        """Runs were decided and every one failed (a revoked key, a dead server): the tick
        counts toward the worker's breaker."""
        return bool(self.runs) and all(r.status == RunStatus.FAILED for r in self.runs)


class DecisionRunner:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        engines: Mapping[str, Engine],
        desk: PropDesk,
        build_request: RequestBuilder,
        open_thread_store: Callable[[], Store],
        worker_id: str,
        concurrency: int = 8,
        stale_after_ms: int = 600_000,
        heartbeat_stale_after_s: float = 300.0,
        max_attempts: int = 3,
        batch: int = 200,
        artifacts: Any = None,
        safe_mode_after: int = 3,
        plans: CompiledPlans | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.engines = engines
        self.desk = desk
        self.build_request = build_request
        self.open_thread_store = open_thread_store
        self.worker_id = worker_id
        self.concurrency = concurrency
        self.stale_after_ms = stale_after_ms
        self.heartbeat_stale_after_s = heartbeat_stale_after_s
        self.max_attempts = max_attempts
        self.batch = batch
        self.artifacts = artifacts
        self.safe_mode_after = safe_mode_after  # consecutive model failures → safe mode
        # Shared with the request builder: one compiled plan per pipeline version, every tick.
        self.plans = plans if plans is not None else CompiledPlans()
        self._audit = RunArtifacts(artifacts, store)  # threads use ``self._audit.on(theirs)``
        self._held = HeldRuns(store, worker_id)

    def tick(
        self,
        *,
        clone_id: int | None = None,
        force: bool = False,
        asset: str | None = None,
        engine: str | None = None,
        dry_run: bool = False,
        only_scheduled: bool = False,
    ) -> TickOutcome:
        """One pass: recover stale runs, queue what is due (all active accounts, or one clone's;
        ``force`` ignores the cadence), then claim and run queued runs until none is left — the
        clone's only, when one is named, and only those this pass queued with
        ``only_scheduled`` (``decisions run-once``)."""
        recovered = self._begin_tick()
        with self.store.atomic():
            scheduled = schedule(
                self.store,
                self.clock,
                clone_id=clone_id,
                force=force,
                asset=asset,
                engine=engine,
                dry_run=dry_run,
                plans=self.plans,
            )
        outcome = TickOutcome(scheduled, recovered=recovered)

        def claim() -> list[dict]:
            runs = repo.claim_runs(
                self.store,
                worker_id=self.worker_id,
                now_ms=self.clock.now_ms(),
                run_ids=scheduled.queued if only_scheduled else None,
                limit=self.batch,
                clone_id=clone_id,
            )
            # Durations are wall time even under a replay clock (which may stand still).
            started = time.perf_counter()
            return [{**run, "_started": started} for run in runs]

        with self._audit.batch(), ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            try:
                for run in self._drain(claim, pool):
                    outcome.runs.append(run)
            except TemporaryError as busy:
                pool.shutdown(cancel_futures=True)  # decisions not yet started are not needed
                raise self._held.put_back_after(busy, finished=len(outcome.runs)) from busy
        return outcome

    def _begin_tick(self) -> int:
        """Hand back runs a busy store kept from being put back last tick, forget the last
        tick's caches (market data may have moved on) and requeue runs abandoned by dead
        workers; returns how many were requeued."""
        self._held.put_back()
        self._audit.start_tick()
        self.plans.start_tick(self.store)
        start_tick = getattr(self.build_request, "start_tick", None)
        if start_tick is not None:
            start_tick()
        return recover_abandoned(
            self.store,
            now_ms=self.clock.now_ms(),
            stale_after_ms=self.stale_after_ms,
            heartbeat_stale_after_s=self.heartbeat_stale_after_s,
            max_attempts=self.max_attempts,
        )

    # -- evaluation -------------------------------------------------------------------------

    def _drain(
        self, claim: Callable[[], list[dict]], pool: ThreadPoolExecutor
    ) -> Iterator[RunOutcome]:
        """Claim, evaluate and execute runs until none is left to claim.

        A rolling window, not batches: model-backed runs go to the pool as soon as they are
        claimed, and more runs are claimed whenever a pool slot is free. A decided run executes
        (one at a time) once every run of its account claimed before it has: each account's
        runs gate in claim order, the same way in a replay, while one slow model call holds
        back only its own account's later runs — never other calls or other accounts.
        """
        window: list[tuple[dict, Future | None]] = []  # claimed, not yet executed
        more = True
        while more or window:
            if more and self._has_room(window):
                claimed = claim()
                more = bool(claimed)
                yield from self._start(claimed, pool, window)
                continue
            ready = _next_ready(window)
            if ready is None:  # every run left waits on a model call: wait for one
                wait([f for _, f in window if f and not f.done()], return_when=FIRST_COMPLETED)
                continue
            run, future = window.pop(ready)
            result, keys = future.result() if future else self._decide(self.store, run, self._audit)
            yield self._execute_safely(run, result, keys)

    def _has_room(self, window: list[tuple[dict, Future | None]]) -> bool:
        """Whether to claim more: the window is short and a pool slot is free."""
        in_flight = sum(1 for _, f in window if f is not None and not f.done())
        return len(window) < self.batch and in_flight < self.concurrency

    def _start(
        self,
        claimed: list[dict],
        pool: ThreadPoolExecutor,
        window: list[tuple[dict, Future | None]],
    ) -> Iterator[RunOutcome]:
        """Count the attempt, close runs settled by an earlier attempt (yielded), and queue the
        rest on the window — model-backed ones already submitted to the pool."""
        for run in claimed:
            self._held.hold(run)
        with self.store.atomic():
            for run in claimed:
                repo.update_run(self.store, run["id"], attempts=run["attempts"] + 1)
        settled = self._settled(claimed)
        yield from settled.values()
        for run in claimed:
            if run["id"] in settled:
                continue
            concurrent = getattr(self._engine(run), "concurrent", False)
            future = pool.submit(self._decide_on_own_connection, run) if concurrent else None
            window.append((run, future))

    def _engine(self, run: dict) -> Engine:
        return self.engines.get(run["engine"]) or self.engines[EngineName.HOLD]

    def _decide_on_own_connection(self, run: dict) -> tuple[EngineResult, dict]:
        """:meth:`_decide` on a pool thread, with a connection of its own."""
        try:
            store = self.open_thread_store()
        except TemporaryError:
            raise
        except Exception as exc:  # e.g. too many open files: this run holds, the tick goes on
            why = f"no store connection for the engine: {type(exc).__name__}: {exc}"[:300]
            return hold_result(run["symbol"], why, error=why), {}
        try:
            return self._decide(store, run, self._audit.on(store))
        finally:
            store.close()

    def _decide(self, store: Store, run: dict, audit: RunArtifacts) -> tuple[EngineResult, dict]:
        """The engine's result for ``run`` and the artifact keys of what it saw and answered.
        An unknown or crashing engine is a recorded error and a HOLD; only a busy store
        (``TemporaryError``) raises, so that the run goes back to the queue instead."""
        engine = self._engine(run)
        if run["engine"] not in self.engines:
            why = f"unknown engine {run['engine']!r}; held"
            return hold_result(run["symbol"], why, error=why), {}
        request = None
        try:
            request = self.build_request(store, run, engine)
            result = engine.decide(request)
        except TemporaryError:
            raise  # a busy store is no decision: the run is decided again later
        except Exception as exc:  # an engine must never take the worker down
            log.exception("run %s: engine %s crashed", run["id"], run["engine"])
            why = f"engine crashed: {type(exc).__name__}: {exc}"[:300]
            result = hold_result(run["symbol"], why, error=why)
        return result, audit.store(request, result)

    # -- recovery ---------------------------------------------------------------------------

    def _settled(self, claimed: list[dict]) -> dict[int, RunOutcome]:
        """Recovered runs whose earlier attempt already committed its actions, closed from that
        record: deciding again would see the position it opened and record a different story
        (its fills are already booked; the idempotency keys would only replay them)."""
        settled: dict[int, RunOutcome] = {}
        for run in claimed:
            if run["attempts"] == 0:
                continue  # a first attempt: nothing can be recorded yet
            recorded = repo.actions(self.store, run["id"])
            if not recorded:
                continue
            now = self.clock.now_ms()
            with self.store.atomic():
                repo.update_run(self.store, run["id"], status=RunStatus.SUCCEEDED, finished_at=now)
            self._held.done(run["id"])
            settled[run["id"]] = RunOutcome(
                run["id"],
                run["symbol"],
                run["engine"],
                RunStatus.SUCCEEDED,
                actions=[_recorded_action(self.store, row) for row in recorded],
                error=run["error"],
                notes="recovered: its actions were already recorded",
            )
        return settled

    # -- execution --------------------------------------------------------------------------

    def _execute_safely(
        self, run: dict, result: EngineResult, keys: dict[str, str | None]
    ) -> RunOutcome:
        """:meth:`_execute`, or — when booking fails unexpectedly — the run recorded as failed
        (its transaction rolled back) so one bad run never ends the tick for the others. A busy
        store is not the run's failure: it raises, and the run goes back to the queue."""
        try:
            outcome = self._execute(run, result, keys)
        except TemporaryError:
            raise
        except Exception as exc:
            log.exception("run %s: execution failed", run["id"])
            error = f"execution failed: {type(exc).__name__}: {exc}"[:300]
            with self.store.atomic():
                repo.update_run(
                    self.store,
                    run["id"],
                    status=RunStatus.FAILED,
                    finished_at=self.clock.now_ms(),
                    error=error,
                    **keys,
                )
            self._held.done(run["id"])
            return RunOutcome(
                run["id"], run["symbol"], run["engine"], RunStatus.FAILED, error=error
            )
        self._held.done(run["id"])
        return outcome

    def _execute(self, run: dict, result: EngineResult, keys: dict[str, str | None]) -> RunOutcome:
        started = time.perf_counter()
        outcome = RunOutcome(
            run["id"],
            run["symbol"],
            run["engine"],
            RunStatus.FAILED if result.failed else RunStatus.SUCCEEDED,
            error=result.error,
            notes=result.notes,
        )
        now = self.clock.now_ms()
        with self.store.atomic():
            in_safe_mode = safe_mode.settle(
                self.store, run["clone_id"], result, now_ms=now, threshold=self.safe_mode_after
            )
            if in_safe_mode:
                result = held_in_safe_mode(result, run["symbol"])
                outcome.safe_mode = True
            acted: set[str] = set()
            for seq, intent in enumerate(result.intents):
                action = self._act(run, seq, intent, acted, now)
                outcome.actions.append(action)
                if result.source_invocation_id is not None:
                    _record_tool_call(self.store, result.source_invocation_id, intent, action, now)
            if result.next_wakeup_secs:
                repo.set_next_due(
                    self.store,
                    run["clone_id"],
                    now + result.next_wakeup_secs * 1000,
                    run_id=run["id"],
                    now_ms=now,
                )
            repo.update_run(
                self.store,
                run["id"],
                status=outcome.status,
                finished_at=now,
                duration_ms=round((time.perf_counter() - run.get("_started", started)) * 1000),
                error=result.error,
                notes=result.notes[:500] or None,
                plan=result.plan,
                verdict=result.verdict,
                safe_mode=int(in_safe_mode),
                **keys,
            )
        return outcome

    def _act(self, run: dict, seq: int, intent, acted: set[str], now: int) -> dict:
        common = {
            "run_id": run["id"],
            "seq": seq,
            "symbol": intent.symbol,
            "action": intent.action.value,
            "policy_id": intent.policy_id,
            "intent": intent.model_dump(mode="json"),
            "created_at": now,
        }
        if intent.action is Action.HOLD:
            action_id = repo.insert_action(
                self.store, status=ActionStatus.HOLD, reason=intent.hypothesis, **common
            )
            return {
                "seq": seq,
                "action": "HOLD",
                "status": ActionStatus.HOLD,
                "reason": intent.hypothesis or "",
                "action_id": action_id,
            }
        sub = self.desk.submit(
            run["account_id"],
            intent,
            origin=IntentOrigin.DECISION,
            idempotency_key=f"run:{run['id']}:{seq}",
            decision_run_id=run["id"],
            symbols_already_acted=frozenset(acted),
            dry_run=bool(run["dry_run"]),
        )
        acted.add(intent.symbol)
        booked = sub.booked
        status = (
            ActionStatus.REJECTED
            if not sub.accepted
            else (ActionStatus.EXECUTED if booked else ActionStatus.ACCEPTED)
        )
        action_id = repo.insert_action(
            self.store,
            status=status,
            intent_id=sub.intent_id,
            order_id=booked.order_id if booked else None,
            fill_id=booked.fill_id if booked else None,
            position_id=booked.position_id if booked else None,
            reject_code=sub.reject_code,
            reason=sub.reason,
            gate_results=sub.gate_results,
            **common,
        )
        if intent.policy_id and status in (ActionStatus.EXECUTED, ActionStatus.REJECTED):
            repo.insert_experiment(
                self.store,
                clone_id=run["clone_id"],
                account_id=run["account_id"],
                run_id=run["id"],
                action_id=action_id,
                policy_id=intent.policy_id,
                symbol=intent.symbol,
                outcome=status,
                position_id=booked.position_id if booked else None,
                detail=sub.reject_code,
                created_at=now,
            )
        return {
            "seq": seq,
            "action": intent.action.value,
            "status": status,
            "reject_code": sub.reject_code,
            "reason": sub.reason,
            "fill": sub.fill,
            "action_id": action_id,
        }


_TOOL_FOR_ACTION = {
    "OPEN": "CREATE_POSITION",
    "CLOSE": "CLOSE_POSITION",
    "HOLD": "HOLDING",
    "UPDATE_EXIT_PLAN": "UPDATE_EXIT_PLAN",
}


def _record_tool_call(store: Store, invocation_id: int, intent, action: dict, now: int) -> None:
    """Link the model answer to the action it caused, Alpha-Arena style (a tool-call record)."""
    from autotrader.llm.repo import record_tool_call

    record_tool_call(
        store,
        invocation_id=invocation_id,
        name=_TOOL_FOR_ACTION[intent.action.value],
        arguments=intent.model_dump(mode="json"),
        now_ms=now,
        action_id=action["action_id"],
    )


def held_in_safe_mode(result: EngineResult, symbol: str) -> EngineResult:
    """``result`` with its intents replaced by one HOLD that says why (unless it only holds)."""
    if all(i.action is Action.HOLD for i in result.intents):
        return result
    held = hold_result(symbol, "safe mode: held after consecutive model failures")
    return replace(result, intents=held.intents, notes=f"{held.notes}; {result.notes}".rstrip("; "))


def _next_ready(window: list[tuple[dict, Future | None]]) -> int | None:
    """The index of the first run that may execute now: decided (or decided inline) and with
    no run of its account still waiting before it."""
    waiting: set[int] = set()
    for index, (run, future) in enumerate(window):
        if run["account_id"] in waiting:
            continue
        if future is None or future.done():
            return index
        waiting.add(run["account_id"])
    return None


def _recorded_action(store: Store, row: dict) -> dict:
    """A stored ``decision_actions`` row in the shape :meth:`DecisionRunner._act` returns."""
    from autotrader.prop import repo as prop_repo

    fill = prop_repo.fills_for_intent(store, row["intent_id"]) if row["fill_id"] else None
    return {
        "seq": row["seq"],
        "action": row["action"],
        "status": row["status"],
        "reject_code": row["reject_code"],
        "reason": row["reason"] or "",
        "fill": fill,
    }
