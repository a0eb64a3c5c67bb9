"""The roundtable queue: what convenes a conversation, the daily cap, and conversations that stall.

Three things convene a roundtable. A proposal that may not pass alone queues the one that will
decide it (:func:`queue_for_proposal`, inside :func:`autotrader.desk.proposals.submit`, after the
roundtable gates). A format's schedule (:mod:`autotrader.desk.schedule`) and ``desk roundtables
run`` call :func:`convene`, which runs the same roundtable gates — on, and today's
``max_daily_conversations`` not used up — in the unit of work that queues it, so any number of
workers convening at once never pass the cap; a scheduled slot (``<format>@<local date>``) is
unique, so it meets once however many workers schedule it. The topic of a convened conversation
is where the memory influence policy is consulted.

The roundtable worker (:mod:`autotrader.desk.conversation`) holds them. The heartbeat fails those
nobody takes up in two hours, those whose worker is known to be gone (its process or heartbeat:
:func:`~autotrader.core.worker_status.gone_workers`) at once, and those that run for more than 30
minutes, and rejects their proposals on the record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from autotrader.core.clock import DAY_MS, HOUR_MS, MINUTE_MS, Clock
from autotrader.core.db import Store
from autotrader.core.worker_status import gone_workers
from autotrader.desk import gates
from autotrader.desk.events import Event, emit
from autotrader.desk.formats import Format
from autotrader.desk.influence import Influence, consult, record
from autotrader.desk.models import GateCheck, ProposalDraft
from autotrader.desk.policies import load_policies
from autotrader.desk.repo import conversations as repo
from autotrader.desk.repo import loop as loop_repo
from autotrader.desk.vocabulary import (
    AgentId,
    InfluenceDecision,
    ProposalStatus,
    RoundtableFormat,
    RoundtableStatus,
    StepKind,
)

QUEUED_STALE_MS = 2 * HOUR_MS  # a trade idea older than this is not worth debating
RUNNING_STALE_MS = 30 * MINUTE_MS


def queue_for_proposal(store: Store, draft: ProposalDraft, *, proposal_id: int, now_ms: int) -> int:
    """Queue the conversation that decides ``draft`` (inside the caller's unit of work, after
    its roundtable gates): a position review for a close, else a debate, with the proposer,
    ATLAS and SAGE at the table."""
    closing = any(step.kind is StepKind.CLOSE_POSITION for step in draft.steps)
    participants = list(dict.fromkeys([draft.agent_id, AgentId.ATLAS, AgentId.SAGE]))
    roundtable_id = repo.insert_roundtable(
        store,
        {
            "format": (
                RoundtableFormat.POSITION_REVIEW if closing else RoundtableFormat.DEBATE
            ).value,
            "topic": f"proposal {proposal_id}: {draft.title}"[:300],
            "participants": [agent.value for agent in participants],
            "proposal_id": proposal_id,
            "status": RoundtableStatus.QUEUED.value,
            "created_at": now_ms,
        },
    )
    assert roundtable_id is not None  # only a scheduled slot can be taken
    return roundtable_id


@dataclass(frozen=True)
class Convened:
    """What :func:`convene` did: the roundtable queued, or the gate that refused it (neither:
    its slot already has one)."""

    roundtable_id: int | None
    checks: tuple[GateCheck, ...]
    refused: GateCheck | None = None
    topic: str | None = None
    influence: Influence | None = None


def convene(
    store: Store,
    clock: Clock,
    fmt: Format,
    *,
    slot: str | None = None,
    first: Sequence[AgentId] = (),
    topic: str | None = None,
    claimed_by: str | None = None,
) -> Convened:
    """Queue a ``fmt`` conversation through the roundtable gates, in one unit of work.

    ``slot`` names a scheduled meeting (one roundtable per slot); ``first`` sits those agents
    at the table first (a debating pair). Without a ``topic`` the desk chooses one: the format's
    purpose, or — when the memory influence policy says so — a memory to revisit. With
    ``claimed_by`` it is not queued but held by that worker at once (``desk roundtables run``:
    no roundtable worker can take it up in between).
    """
    now = clock.now_ms()
    with store.atomic():
        policies = load_policies(store)
        today = repo.roundtables_since(store, since_ms=now - now % DAY_MS)
        checks = tuple(gates.roundtable_gates(today, policies))
        refused = next((check for check in checks if not check.passed), None)
        if refused is not None:
            return Convened(None, checks, refused)
        key = slot or f"{fmt.format}:{now}"
        status = RoundtableStatus.QUEUED if claimed_by is None else RoundtableStatus.RUNNING
        participants = fmt.seat(key, first=first)
        influence = None
        if topic is None:
            influence = consult(
                store,
                policies.memory_influence_policy,
                decision=InfluenceDecision.TOPIC,
                subject=key,
                decided_by=participants[0],
                memories_of=participants,
            )
            topic = _topic(fmt, influence)
        roundtable_id = repo.insert_roundtable(
            store,
            {
                "format": fmt.format.value,
                "topic": topic[:300],
                "participants": [agent.value for agent in participants],
                "slot": slot,
                "status": status.value,
                "claimed_by": claimed_by,
                "started_at": None if claimed_by is None else now,
                "created_at": now,
            },
        )
        if roundtable_id is None:
            return Convened(None, checks)
        if influence is not None:
            effect = f"topic: {topic}"
            record(store, influence, effect=effect, roundtable_id=roundtable_id, now_ms=now)
        emit(
            store,
            Event(
                participants[0],
                "roundtable",
                f"roundtable {roundtable_id} ({fmt.format}) {status}: {topic}",
                ("roundtable", status.value, fmt.format.value),
                summary=", ".join(agent.value for agent in participants),
            ),
            now_ms=now,
        )
    return Convened(roundtable_id, checks, topic=topic, influence=influence)


def _topic(fmt: Format, influence: Influence) -> str:
    if not influence.influenced:
        return fmt.purpose
    memory = influence.memories[0]
    return (
        f"{fmt.purpose}; revisit {memory['agent_id'].upper()}'s {memory['type']} "
        f"({memory['confidence']:.2f}): {memory['content']}"
    )


def reject_its_proposal(
    store: Store, roundtable: dict, *, gate: str, reason: str, now: int
) -> None:
    """Reject the proposal a failed roundtable was to decide, if it still waits (inside the
    caller's unit of work); OBSERVER reports it."""
    proposal_id = roundtable["proposal_id"]
    proposal = loop_repo.get_proposal(store, proposal_id) if proposal_id else None
    if proposal is None or proposal["status"] != ProposalStatus.PENDING:
        return
    loop_repo.update_proposal(
        store,
        proposal_id,
        status=ProposalStatus.REJECTED.value,
        gate=gate,
        reason=reason,
        decided_at=now,
    )
    emit(
        store,
        Event(
            AgentId.OBSERVER,
            "roundtable",
            f"roundtable {roundtable['id']} failed: proposal {proposal_id} rejected",
            ("roundtable", gate.removeprefix("roundtable."), "proposal", "rejected"),
            summary=reason,
            proposal_id=proposal_id,
        ),
        now_ms=now,
    )


def recover_stale_roundtables(
    store: Store,
    clock: Clock,
    *,
    should_stop: Callable[[], bool],
    worker_stale_after_s: float,
    batch: int = 100,
) -> int:
    """Fail roundtables whose worker is gone (its heartbeat older than ``worker_stale_after_s``,
    stopped or missing, or its process on this host not alive), queued for 2 hours or running
    for 30 minutes, and reject their pending proposals; how many were failed.

    A gone worker's conversation is failed, not requeued: its turns are on the record, and a
    rerun would speak them again."""
    now = clock.now_ms()
    with store.atomic():
        gone = gone_workers(
            store, repo.roundtable_claimants(store), now_ms=now, stale_after_s=worker_stale_after_s
        )
        orphaned = repo.fail_roundtables_of(store, gone, now_ms=now)
        _reject_proposals_of(store, orphaned, now)
    failed = len(orphaned)
    while not should_stop():
        with store.atomic():
            stale = repo.fail_stale_roundtables(
                store,
                queued_before=now - QUEUED_STALE_MS,
                running_before=now - RUNNING_STALE_MS,
                now_ms=now,
                limit=batch,
            )
            _reject_proposals_of(store, stale, now)
            failed += len(stale)
        if len(stale) < batch:
            break
    return failed


def _reject_proposals_of(store: Store, failed: list[dict], now: int) -> None:
    for roundtable in failed:
        why = roundtable["error"].removeprefix("stale: ")
        reason = f"roundtable {roundtable['id']} {why}"
        reject_its_proposal(store, roundtable, gate="roundtable.stale", reason=reason, now=now)
