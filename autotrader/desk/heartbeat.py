"""The heartbeat: six budgeted operations every five minutes, each isolated from the others.

================================  ======  ===================================================
operation                         budget  what it does
================================  ======  ===================================================
evaluate_triggers                 4 s     reactive and proactive rules → proposals
process_reactions                 3 s     new events × the reaction matrix → proposals
promote_insights                  2 s     confident, corroborated memories become permanent
learn_from_outcomes               3 s     closed trades → outcomes → memories; portfolio row
recover_stale_steps               2 s     gone workers' steps → queued; steps running > 30 min
                                          → failed, missions finalized
recover_stale_roundtables         1 s     roundtables of gone workers or nobody took up →
                                          failed, proposal rejected
================================  ======  ===================================================

15 s in all. An operation works in batches and stops at its budget (what is left waits for
the next beat; each keeps its place in the store), one that raises is recorded and the next
runs anyway, and each is recorded as an ``action_runs`` row named
``desk-heartbeat:<operation>`` with its wall-clock duration, its summary and its errors.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from autotrader.core import repo as core_repo
from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import AutotraderError
from autotrader.desk.learning import learn_from_outcomes, promote_insights
from autotrader.desk.missions import recover_stale_steps
from autotrader.desk.reactions import process_reactions
from autotrader.desk.roundtables import recover_stale_roundtables
from autotrader.desk.triggers import evaluate_triggers
from autotrader.desk.vocabulary import HeartbeatOp

log = logging.getLogger("autotrader.desk.heartbeat")

JOB_NAME = "desk-heartbeat"
BUDGETS_S: dict[HeartbeatOp, float] = {
    HeartbeatOp.EVALUATE_TRIGGERS: 4.0,
    HeartbeatOp.PROCESS_REACTIONS: 3.0,
    HeartbeatOp.PROMOTE_INSIGHTS: 2.0,
    HeartbeatOp.LEARN_FROM_OUTCOMES: 3.0,
    HeartbeatOp.RECOVER_STALE_STEPS: 2.0,
    HeartbeatOp.RECOVER_STALE_ROUNDTABLES: 1.0,
}
TOTAL_BUDGET_S = sum(BUDGETS_S.values())
_MAX_ERROR_CHARS = 2000


@dataclass
class OpOutcome:
    """What one operation did: a line, its errors, whether it ran out of budget."""

    summary: str
    errors: list[str] = field(default_factory=list)
    stopped_at_budget: bool = False


Run = Callable[[Callable[[], bool]], OpOutcome]
"""An operation: given its budget probe (``should_stop()``), one pass of its work."""


@dataclass(frozen=True)
class Operation:
    name: HeartbeatOp
    budget_s: float
    run: Run


@dataclass(frozen=True)
class OpRun:
    name: str
    duration_ms: int
    status: str  # ok | failed
    summary: str
    errors: tuple[str, ...]
    stopped_at_budget: bool


@dataclass
class HeartbeatReport:
    runs: list[OpRun] = field(default_factory=list)

    @property
    def duration_ms(self) -> int:
        return sum(run.duration_ms for run in self.runs)

    @property
    def failed(self) -> list[str]:
        return [run.name for run in self.runs if run.status == "failed"]

    def summary(self) -> str:
        parts = [f"{run.name}: {run.summary or run.status}" for run in self.runs]
        return f"{self.duration_ms} ms; " + "; ".join(parts)


class Heartbeat:
    """Runs the operations in order, each within its budget, and records each one."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        operations: Sequence[Operation],
        *,
        worker_id: str,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.store = store
        self.clock = clock
        self.operations = tuple(operations)
        self.worker_id = worker_id
        self.timer = timer

    def beat(self) -> HeartbeatReport:
        report = HeartbeatReport()
        for op in self.operations:
            report.runs.append(self._run(op))
        return report

    def _run(self, op: Operation) -> OpRun:
        started_at = self.clock.now_ms()
        start = self.timer()
        deadline = start + op.budget_s
        try:
            outcome = op.run(lambda: self.timer() >= deadline)
        except Exception as exc:  # isolated: the next operation runs anyway
            if not isinstance(exc, AutotraderError):
                log.exception("heartbeat %s crashed", op.name)
            outcome = OpOutcome("", errors=[f"{type(exc).__name__}: {exc}"])
        duration_ms = round((self.timer() - start) * 1000)
        status = "failed" if outcome.errors else "ok"
        summary = outcome.summary + (
            f" (stopped at its {op.budget_s:g} s budget)" if outcome.stopped_at_budget else ""
        )
        run = OpRun(
            op.name.value, duration_ms, status, summary, tuple(outcome.errors),
            outcome.stopped_at_budget,
        )  # fmt: skip
        self._record(run, started_at)
        return run

    def _record(self, run: OpRun, started_at: int) -> None:
        error = "; ".join(run.errors)[:_MAX_ERROR_CHARS] or None
        try:
            with self.store.atomic():
                core_repo.insert_action_run(
                    self.store,
                    name=f"{JOB_NAME}:{run.name}",
                    worker_id=self.worker_id,
                    started_at=started_at,
                    duration_ms=run.duration_ms,
                    status=run.status,
                    summary=run.summary[:500] or None,
                    error=error,
                )
        except AutotraderError as exc:
            log.warning("heartbeat %s: not recorded: %s", run.name, exc)


def operations(
    store: Store, clock: Clock, *, watchlist: tuple[str, ...], worker_stale_after_s: float
) -> list[Operation]:
    """The six operations over ``store``, with the seed's budgets; a worker whose heartbeat is
    older than ``worker_stale_after_s`` is gone, and its claimed work recovered."""

    def triggers(should_stop: Callable[[], bool]) -> OpOutcome:
        r = evaluate_triggers(store, clock, watchlist=watchlist, should_stop=should_stop)
        fired = f": {', '.join(r.fired)}" if r.fired else ""
        return OpOutcome(
            f"{r.evaluated} rules, {len(r.fired)} fired{fired}", r.errors, r.stopped_at_budget
        )

    def reactions(should_stop: Callable[[], bool]) -> OpOutcome:
        r = process_reactions(store, clock, should_stop=should_stop)
        return OpOutcome(
            f"{r.events} events, {r.queued} reactions queued ({r.cooled} cooling, {r.missed} "
            f"not drawn), {len(r.proposed)} proposals",
            r.errors,
            r.stopped_at_budget,
        )

    def promote(should_stop: Callable[[], bool]) -> OpOutcome:
        promoted = promote_insights(store, clock, should_stop=should_stop)
        return OpOutcome(f"{len(promoted)} memories promoted")

    def learn(should_stop: Callable[[], bool]) -> OpOutcome:
        r = learn_from_outcomes(store, clock, should_stop=should_stop)
        history = ", portfolio row written" if r.history_written else ""
        return OpOutcome(
            f"{len(r.outcomes)} outcomes, {r.memories} memories{history}",
            stopped_at_budget=r.stopped_at_budget,
        )

    def stale_steps(should_stop: Callable[[], bool]) -> OpOutcome:
        r = recover_stale_steps(
            store, clock, should_stop=should_stop, worker_stale_after_s=worker_stale_after_s
        )
        return OpOutcome(
            f"{r.requeued} steps of gone workers requeued ({r.gave_up} out of attempts, "
            f"failed), {r.steps} stale steps failed, {r.missions} missions finalized"
        )

    def stale_roundtables(should_stop: Callable[[], bool]) -> OpOutcome:
        failed = recover_stale_roundtables(
            store, clock, should_stop=should_stop, worker_stale_after_s=worker_stale_after_s
        )
        return OpOutcome(f"{failed} stale roundtables failed")

    runs: dict[HeartbeatOp, Run] = {
        HeartbeatOp.EVALUATE_TRIGGERS: triggers,
        HeartbeatOp.PROCESS_REACTIONS: reactions,
        HeartbeatOp.PROMOTE_INSIGHTS: promote,
        HeartbeatOp.LEARN_FROM_OUTCOMES: learn,
        HeartbeatOp.RECOVER_STALE_STEPS: stale_steps,
        HeartbeatOp.RECOVER_STALE_ROUNDTABLES: stale_roundtables,
    }
    return [Operation(name, BUDGETS_S[name], runs[name]) for name in HeartbeatOp]
