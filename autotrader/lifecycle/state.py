"""One state machine for a clone's stage, and its append-only timeline.

::

    sandbox ──fee_requested──▶ fee_pending ──audition_started──▶ auditioning
       ▲                          │  ▲                              │
       └──────fee_expired─────────┘  └──fee_requested── failed ◀────┤ audition_failed
                                                                    │ audition_passed
    removed ◀──removed── queued ◀──queued── passed ◀────────────────┘
       ▲                   │ admitted
       └──removed──────── arena ──retired──▶ retired

An expired fee returns the clone to where it asked from (sandbox, or failed for a retry).
Every transition is one ``lifecycle_events`` row (who, when, why, the fee, audition and account
it concerns) written with the stage change in the caller's transaction; notes (a fee verified,
a profile reviewed, an admission deferred) are events that change no stage. An illegal move is
refused with a ``ConflictError`` naming the current stage.
"""

from __future__ import annotations

from dataclasses import dataclass

from autotrader.core.db import Store
from autotrader.core.errors import ConflictError
from autotrader.lifecycle.repo import timeline as repo
from autotrader.lifecycle.vocabulary import EventKind, Stage

_S = Stage
# event → (the stages it may happen in, the stage it leads to; None: back where the fee came from)
TRANSITIONS: dict[EventKind, tuple[frozenset[Stage], Stage | None]] = {
    EventKind.FEE_REQUESTED: (frozenset({_S.SANDBOX, _S.FAILED}), _S.FEE_PENDING),
    EventKind.FEE_EXPIRED: (frozenset({_S.FEE_PENDING}), None),
    EventKind.AUDITION_STARTED: (frozenset({_S.FEE_PENDING}), _S.AUDITIONING),
    EventKind.AUDITION_PASSED: (frozenset({_S.AUDITIONING}), _S.PASSED),
    EventKind.AUDITION_FAILED: (frozenset({_S.AUDITIONING}), _S.FAILED),
    EventKind.QUEUED: (frozenset({_S.PASSED}), _S.QUEUED),
    EventKind.ADMITTED: (frozenset({_S.QUEUED}), _S.ARENA),
    EventKind.REMOVED: (frozenset({_S.QUEUED, _S.ARENA}), _S.REMOVED),
    EventKind.RETIRED: (frozenset({_S.ARENA}), _S.RETIRED),
}
NOTES = frozenset(EventKind) - frozenset(TRANSITIONS)

_VERBS = {
    EventKind.FEE_REQUESTED: "request an audition fee",
    EventKind.FEE_EXPIRED: "expire a fee",
    EventKind.AUDITION_STARTED: "start an audition",
    EventKind.AUDITION_PASSED: "pass an audition",
    EventKind.AUDITION_FAILED: "fail an audition",
    EventKind.QUEUED: "join the promotion queue",
    EventKind.ADMITTED: "enter the arena",
    EventKind.REMOVED: "be removed",
    EventKind.RETIRED: "retire",
}


@dataclass(frozen=True)
class Concerns:
    """What an event is about, beyond the clone (any may be absent)."""

    fee_id: int | None = None
    audition_id: int | None = None
    account_id: int | None = None


def stage_of(store: Store, clone_id: int) -> Stage:
    """The clone's stage; a clone that never left it is in the sandbox."""
    current = repo.stage(store, clone_id)
    return Stage(current) if current is not None else Stage.SANDBOX


def refusal(clone_id: int, current: Stage, event: EventKind) -> ConflictError:
    """The one-line error for an illegal move, naming the stage the clone is in."""
    allowed = ", ".join(sorted(TRANSITIONS[event][0]))
    return ConflictError(
        f"clone {clone_id} is {current}: it cannot {_VERBS[event]} (only from {allowed})"
    )


def can(store: Store, clone_id: int, event: EventKind) -> bool:
    return stage_of(store, clone_id) in TRANSITIONS[event][0]


def transition(
    store: Store,
    clone_id: int,
    event: EventKind,
    *,
    actor: str,
    reason: str | None,
    now_ms: int,
    concerns: Concerns = Concerns(),
) -> Stage:
    """Apply ``event`` to the clone and record it; the new stage. Runs in the caller's
    transaction. Raises ``ConflictError`` (naming the current stage) when the clone's stage
    does not allow it — also when another process moved the clone in between."""
    if event not in TRANSITIONS:
        raise ValueError(f"{event} is a note, not a transition")
    allowed, target = TRANSITIONS[event]
    # From a single stage, the guarded update alone decides (the hot path of the jobs: one
    # statement, no read); from several, read which one the clone is in first.
    current = next(iter(allowed)) if len(allowed) == 1 else stage_of(store, clone_id)
    if current not in allowed:
        raise refusal(clone_id, current, event)
    if target is None:
        target = _where_the_fee_came_from(store, clone_id)
    if not repo.set_stage(store, clone_id, target, expected=current, now_ms=now_ms):
        raise refusal(clone_id, stage_of(store, clone_id), event)
    _record(store, clone_id, event, current, target, actor, reason, now_ms, concerns)
    return target


def note(
    store: Store,
    clone_id: int,
    event: EventKind,
    *,
    actor: str,
    reason: str | None,
    now_ms: int,
    concerns: Concerns = Concerns(),
) -> None:
    """Record an event that changes no stage (in the caller's transaction)."""
    if event not in NOTES:
        raise ValueError(f"{event} is a transition, not a note")
    current = stage_of(store, clone_id)
    _record(store, clone_id, event, current, current, actor, reason, now_ms, concerns)


def note_many(
    store: Store,
    event: EventKind,
    notes: list[tuple[int, str, Concerns]],
    *,
    stage: Stage,
    actor: str,
    now_ms: int,
) -> None:
    """Record one kind of note for many clones, all known (by the caller's rows) to be at
    ``stage``: ``(clone id, reason, concerns)`` each, in one statement (the arena-entry job
    defers thousands of queued clones in a pass)."""
    if event not in NOTES:
        raise ValueError(f"{event} is a transition, not a note")
    repo.insert_events(
        store,
        [
            {
                "clone_id": clone_id,
                "event": str(event),
                "from_stage": str(stage),
                "to_stage": str(stage),
                "actor": actor,
                "reason": reason,
                "fee_id": concerns.fee_id,
                "audition_id": concerns.audition_id,
                "account_id": concerns.account_id,
                "created_at": now_ms,
            }
            for clone_id, reason, concerns in notes
        ],
    )


def _record(
    store: Store,
    clone_id: int,
    event: EventKind,
    before: Stage,
    after: Stage,
    actor: str,
    reason: str | None,
    now_ms: int,
    concerns: Concerns,
) -> None:
    repo.insert_event(
        store,
        clone_id=clone_id,
        event=str(event),
        from_stage=str(before),
        to_stage=str(after),
        actor=actor,
        reason=reason,
        fee_id=concerns.fee_id,
        audition_id=concerns.audition_id,
        account_id=concerns.account_id,
        created_at=now_ms,
    )


def _where_the_fee_came_from(store: Store, clone_id: int) -> Stage:
    requested = repo.last_event(store, clone_id, EventKind.FEE_REQUESTED)
    return Stage(requested["from_stage"]) if requested else Stage.SANDBOX


def timeline(store: Store, clone_id: int) -> list[dict]:
    """Every event of the clone, oldest first."""
    return repo.events(store, clone_id)
