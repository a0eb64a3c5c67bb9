"""Missions and their steps: open one from an approved proposal, claim steps, finish them.

A mission's steps run in order: a step is claimable once every earlier step of its mission has
succeeded, and a failed step skips the rest and fails the mission. A mission succeeds when its
last step does. Claims are atomic (``store.claim``), so two workers never run one step. A step
left ``running`` by a worker known to be gone (its process or heartbeat:
:func:`~autotrader.core.worker_status.gone_workers`) goes back to the queue at the next beat —
its unit of work rolled back with the worker, so it changed nothing; one left by a worker that
cannot be judged is failed after 30 minutes. A step given back :data:`MAX_STEP_ATTEMPTS` times
fails (and its mission with it) rather than going back again. Every transition is an event,
reported by the agent who does that kind of step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from autotrader.core.clock import MINUTE_MS, Clock
from autotrader.core.db import Store
from autotrader.core.worker_status import gone_workers
from autotrader.desk.events import Event, emit
from autotrader.desk.models import ProposalDraft
from autotrader.desk.repo import loop as repo
from autotrader.desk.vocabulary import STEP_AGENT, AgentId, MissionStatus, StepKind, StepStatus

STALE_STEP_MS = 30 * MINUTE_MS
# A step given back this many times (its worker died on it, or it raised a temporary error)
# fails instead of going back again: a step that always kills its worker must not cycle forever.
MAX_STEP_ATTEMPTS = 3


def open_mission(store: Store, draft: ProposalDraft, *, proposal_id: int, now_ms: int) -> int:
    """The approved mission of ``draft`` with its steps queued (inside the caller's unit of
    work); its id."""
    mission_id = repo.insert_mission(
        store,
        {
            "proposal_id": proposal_id,
            "agent_id": draft.agent_id.value,
            "kind": draft.kind.value,
            "title": draft.title,
            "status": MissionStatus.APPROVED.value,
            "created_at": now_ms,
        },
    )
    for seq, step in enumerate(draft.steps):
        repo.insert_step(
            store,
            {
                "mission_id": mission_id,
                "seq": seq,
                "kind": step.kind.value,
                "status": StepStatus.QUEUED.value,
                "symbol": step.symbol,
                "position_id": step.position_id,
                "payload": step.model_dump(mode="json", exclude_defaults=True),
                "created_at": now_ms,
            },
        )
    emit(
        store,
        Event(
            draft.agent_id,
            "mission",
            f"mission {mission_id} approved: {draft.title}",
            ("mission", "approved", draft.kind.value),
            summary=", ".join(step.kind.value for step in draft.steps),
            proposal_id=proposal_id,
            mission_id=mission_id,
        ),
        now_ms=now_ms,
    )
    return mission_id


def claim(
    store: Store, clock: Clock, kinds: Sequence[StepKind], *, worker_id: str, limit: int = 1
) -> list[dict]:
    """Claim up to ``limit`` runnable steps of ``kinds`` for ``worker_id``; their missions
    start running. The claimed rows, payload decoded."""
    now = clock.now_ms()
    with store.atomic():
        steps = repo.claim_steps(
            store, [k.value for k in kinds], worker_id=worker_id, now_ms=now, limit=limit
        )
        started = set(repo.start_missions(store, {s["mission_id"] for s in steps}, now_ms=now))
        for step in steps:
            kind = StepKind(step["kind"])
            if step["mission_id"] in started:
                _mission_event(store, step["mission_id"], MissionStatus.RUNNING, now)
            emit(
                store,
                Event(
                    STEP_AGENT[kind],
                    "step",
                    f"step {step['id']} ({kind}) running",
                    ("step", kind.value, StepStatus.RUNNING.value),
                    mission_id=step["mission_id"],
                    step_id=step["id"],
                    symbol=step["symbol"],
                ),
                now_ms=now,
            )
    return steps


@dataclass(frozen=True)
class StepResult:
    """What a worker made of a step: its output, and the event that reports it."""

    title: str
    output: dict[str, Any] = field(default_factory=dict)
    ok: bool = True
    error: str | None = None
    event_kind: str = "step"
    tags: tuple[str, ...] = ()
    summary: str = ""
    position_id: int | None = None
    signal_id: int | None = None
    symbol: str | None = None
    side: str | None = None
    pnl: Decimal | None = None


Handler = Callable[[dict], StepResult]
"""What a worker does with one claimed step (its row, payload decoded)."""


def finish(store: Store, step: dict, result: StepResult, *, now_ms: int) -> None:
    """Record a claimed step's result and finalize its mission when this was its last step or
    it failed. Runs inside the caller's unit of work (with whatever the step did)."""
    kind = StepKind(step["kind"])
    status = StepStatus.SUCCEEDED if result.ok else StepStatus.FAILED
    repo.finish_step(
        store,
        step["id"],
        status=status.value,
        now_ms=now_ms,
        output=result.output,
        error=result.error,
        position_id=result.position_id,
    )
    emit(
        store,
        Event(
            STEP_AGENT[kind],
            result.event_kind,
            result.title,
            ("step", kind.value, status.value, *result.tags),
            summary=result.summary or (result.error or ""),
            mission_id=step["mission_id"],
            step_id=step["id"],
            signal_id=result.signal_id,
            position_id=result.position_id,
            symbol=result.symbol or step["symbol"],
            side=result.side,
            pnl=result.pnl,
        ),
        now_ms=now_ms,
    )
    if not result.ok:
        _fail_mission(store, step["mission_id"], result.error or "a step failed", now_ms)
    elif repo.unfinished_steps(store, step["mission_id"]) == 0:
        repo.update_mission(
            store, step["mission_id"], status=MissionStatus.SUCCEEDED.value, finished_at=now_ms
        )
        _mission_event(store, step["mission_id"], MissionStatus.SUCCEEDED, now_ms)


def _fail_mission(store: Store, mission_id: int, error: str, now_ms: int) -> None:
    skipped = repo.skip_remaining_steps(store, mission_id, now_ms=now_ms)
    repo.update_mission(
        store,
        mission_id,
        status=MissionStatus.FAILED.value,
        finished_at=now_ms,
        error=error[:500],
    )
    _mission_event(
        store,
        mission_id,
        MissionStatus.FAILED,
        now_ms,
        summary=error + (f" ({skipped} later steps skipped)" if skipped else ""),
    )


def _mission_event(
    store: Store, mission_id: int, status: MissionStatus, now_ms: int, *, summary: str = ""
) -> None:
    mission = repo.get_mission(store, mission_id)
    assert mission is not None
    emit(
        store,
        Event(
            AgentId(mission["agent_id"]),
            "mission",
            f"mission {mission_id} {status}: {mission['title']}",
            ("mission", status.value, mission["kind"]),
            summary=summary,
            proposal_id=mission["proposal_id"],
            mission_id=mission_id,
        ),
        now_ms=now_ms,
    )


def given_back(store: Store, step: dict, why: str, *, now_ms: int) -> bool:
    """Report a released step (``repo.release_step``'s result): requeued, or failed with its
    mission once it ran out of attempts. Whether it went back to the queue."""
    kind = StepKind(step["kind"])
    requeued = step["status"] == StepStatus.QUEUED
    status = StepStatus.QUEUED if requeued else StepStatus.FAILED
    emit(
        store,
        Event(
            STEP_AGENT[kind],
            "step",
            f"step {step['id']} ({kind}) requeued: {why}"
            if requeued
            else f"step {step['id']} ({kind}) failed after {step['attempts']} attempts: {why}",
            ("step", kind.value, status.value, "recovered" if requeued else "gave_up"),
            summary="" if requeued else step["error"],
            mission_id=step["mission_id"],
            step_id=step["id"],
            symbol=step["symbol"],
        ),
        now_ms=now_ms,
    )
    if not requeued:
        _fail_mission(store, step["mission_id"], f"step {step['id']} gave up", now_ms)
    return requeued


@dataclass
class StaleReport:
    steps: int = 0
    missions: int = 0
    requeued: int = 0  # steps of workers known to be gone, back in the queue
    gave_up: int = 0  # steps of gone workers that ran out of attempts: failed


def recover_stale_steps(
    store: Store,
    clock: Clock,
    *,
    should_stop: Callable[[], bool],
    worker_stale_after_s: float,
    batch: int = 250,
) -> StaleReport:
    """Requeue the steps of workers known to be gone (whose heartbeat is older than
    ``worker_stale_after_s``, stopped or missing, or whose process on this host is not alive),
    then fail steps running for more than 30 minutes and finalize their missions, a batch per
    transaction until none is left or ``should_stop()``; OBSERVER reports the deviation."""
    report = StaleReport()
    now = clock.now_ms()
    with store.atomic():
        gone = gone_workers(
            store, repo.step_claimants(store), now_ms=now, stale_after_s=worker_stale_after_s
        )
        released = repo.release_steps_of(store, gone, max_attempts=MAX_STEP_ATTEMPTS, now_ms=now)
        for step in released:
            if given_back(store, step, "its worker is gone", now_ms=now):
                report.requeued += 1
            else:
                report.gave_up += 1
                report.missions += 1
    while not should_stop():
        with store.atomic():
            stale = repo.fail_stale_steps(
                store, claimed_before=now - STALE_STEP_MS, now_ms=now, limit=batch
            )
            for step in stale:
                kind = StepKind(step["kind"])
                emit(
                    store,
                    Event(
                        STEP_AGENT[kind],
                        "step",
                        f"step {step['id']} ({kind}) failed: stale",
                        ("step", kind.value, StepStatus.FAILED.value, "stale"),
                        summary=step["error"],
                        mission_id=step["mission_id"],
                        step_id=step["id"],
                        symbol=step["symbol"],
                    ),
                    now_ms=now,
                )
                mission = repo.get_mission(store, step["mission_id"])
                if mission is not None and mission["status"] not in (
                    MissionStatus.SUCCEEDED,
                    MissionStatus.FAILED,
                ):
                    _fail_mission(store, step["mission_id"], f"step {step['id']} went stale", now)
                    report.missions += 1
            report.steps += len(stale)
        if len(stale) < batch:
            break
    if report.steps:
        with store.atomic():
            emit(
                store,
                Event(
                    AgentId.OBSERVER,
                    "health",
                    f"Process deviation detected: {report.steps} steps ran past 30 minutes",
                    ("error", "rule_violation", "stale_step"),
                    summary=f"{report.steps} steps failed, {report.missions} missions finalized",
                ),
                now_ms=now,
            )
    return report
