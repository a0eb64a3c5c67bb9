"""The roundtable queue: proposals that may not pass alone wait here for a conversation.

Conversations themselves (turns, memory distillation, relationship drift) are the second desk
issue; this module queues a roundtable for a pending proposal and fails the ones nobody takes
up (or finishes) in time, rejecting their proposals on the record.
"""

from __future__ import annotations

from collections.abc import Callable

from autotrader.core.clock import HOUR_MS, MINUTE_MS, Clock
from autotrader.core.db import Store
from autotrader.desk.events import Event, emit
from autotrader.desk.models import ProposalDraft
from autotrader.desk.repo import loop as repo
from autotrader.desk.vocabulary import (
    AgentId,
    ProposalStatus,
    RoundtableFormat,
    RoundtableStatus,
    StepKind,
)

QUEUED_STALE_MS = 2 * HOUR_MS  # a trade idea older than this is not worth debating
RUNNING_STALE_MS = 30 * MINUTE_MS


def queue_roundtable(store: Store, draft: ProposalDraft, *, proposal_id: int, now_ms: int) -> int:
    """Queue the conversation that decides ``draft`` (inside the caller's unit of work)."""
    closing = any(step.kind is StepKind.CLOSE_POSITION for step in draft.steps)
    participants = list(dict.fromkeys([draft.agent_id, AgentId.ATLAS, AgentId.SAGE]))
    return repo.insert_roundtable(
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


def recover_stale_roundtables(
    store: Store, clock: Clock, *, should_stop: Callable[[], bool], batch: int = 100
) -> int:
    """Fail roundtables queued for 2 hours or running for 30 minutes and reject their pending
    proposals; how many were failed."""
    now = clock.now_ms()
    failed = 0
    while not should_stop():
        with store.atomic():
            stale = repo.fail_stale_roundtables(
                store,
                queued_before=now - QUEUED_STALE_MS,
                running_before=now - RUNNING_STALE_MS,
                now_ms=now,
                limit=batch,
            )
            for roundtable in stale:
                _reject_its_proposal(store, roundtable, now)
            failed += len(stale)
        if len(stale) < batch:
            break
    return failed


def _reject_its_proposal(store: Store, roundtable: dict, now: int) -> None:
    proposal = (
        repo.get_proposal(store, roundtable["proposal_id"]) if roundtable["proposal_id"] else None
    )
    if proposal is None or proposal["status"] != ProposalStatus.PENDING:
        return
    reason = f"roundtable {roundtable['id']} {roundtable['error'].removeprefix('stale: ')}"
    repo.update_proposal(
        store,
        proposal["id"],
        status=ProposalStatus.REJECTED.value,
        gate="roundtable.stale",
        reason=reason,
        decided_at=now,
    )
    emit(
        store,
        Event(
            AgentId.OBSERVER,
            "roundtable",
            f"roundtable {roundtable['id']} failed: proposal {proposal['id']} rejected",
            ("roundtable", "stale", "proposal", "rejected"),
            summary=reason,
            proposal_id=proposal["id"],
        ),
        now_ms=now,
    )
