"""The promotion queue and the arena's slots.

A passed audition enters the queue, ordered by score (the audition's return %), then by time.
The arena-entry job admits the head of the queue into free slots (how many: a setting) when the
clone has an approved public profile and its entitlements hold (its model and its strategies'
assets within what it is entitled to); otherwise it records why — once per new reason — and the
clone keeps its place while those behind it are considered. An admin removes a clone from the
queue or the arena, or retires one from the arena (retired clones are kept for the Hall of Fame).

Admission is one transaction under the write lock: slots are counted, filled and recorded
together, so any number of workers never admit more than the free slots, nor a clone twice (a
unique index holds one active slot per clone as well).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import ConflictError, InvalidInputError, UserError
from autotrader.lifecycle import state
from autotrader.lifecycle.repo import arena as repo
from autotrader.lifecycle.repo import profiles as profiles_repo
from autotrader.lifecycle.state import Concerns
from autotrader.lifecycle.vocabulary import EventKind, QueueStatus, SlotStatus, Stage

EntitlementCheck = Callable[[int], str | None]
"""Why a clone's entitlements do not hold (None: they do)."""


@dataclass
class AdmissionReport:
    free_before: int = 0
    admitted: list[int] = field(default_factory=list)  # clone ids
    deferred: dict[int, str] = field(default_factory=dict)  # clone id → why, newly recorded
    waiting: int = 0

    def summary(self) -> str:
        return (
            f"{len(self.admitted)} admitted into {self.free_before} free slots, "
            f"{len(self.deferred)} newly deferred, {self.waiting} waiting"
        )


def enqueue(store: Store, audition: dict, *, score: float, actor: str, now_ms: int) -> int:
    """Put a passed audition's clone in the queue (inside the caller's transaction)."""
    entry = repo.enqueue(
        store,
        clone_id=audition["clone_id"],
        audition_id=audition["id"],
        score=score,
        now_ms=now_ms,
    )
    state.transition(
        store,
        audition["clone_id"],
        EventKind.QUEUED,
        actor=actor,
        reason=f"score {score:.4f} (return %)",
        now_ms=now_ms,
        concerns=Concerns(audition["fee_id"], audition["id"], audition["account_id"]),
    )
    return entry


def entitlement_check(store: Store) -> EntitlementCheck:
    """The arena's entitlement rule over the clones' own: model tier and asset capacity."""
    from autotrader.clones.management import entitlement_problem, require_clone
    from autotrader.clones.pipelines import compiled

    def check(clone_id: int) -> str | None:
        try:
            clone = require_clone(store, clone_id)
            pipeline = compiled(store, clone_id)
        except UserError as exc:
            return str(exc)
        return entitlement_problem(clone, pipeline.strategies)

    return check


def admit_from_queue(
    store: Store,
    clock: Clock,
    *,
    slots: int,
    actor: str,
    entitlements: EntitlementCheck,
) -> AdmissionReport:
    """One pass of the arena-entry job (see the module docstring)."""
    report = AdmissionReport()
    now = clock.now_ms()
    with store.atomic():
        free = slots - repo.active_count(store)
        report.free_before = max(free, 0)
        waiting = repo.waiting(store)
        report.waiting = len(waiting)
        if free <= 0 or not waiting:
            return report
        public = profiles_repo.public_clone_ids(store)
        deferrals: list[tuple[int, str]] = []
        notes: list[tuple[int, str, Concerns]] = []
        for entry in waiting:
            if free <= 0:
                break
            clone_id = entry["clone_id"]
            why = "no approved public profile" if clone_id not in public else entitlements(clone_id)
            concerns = Concerns(audition_id=entry["audition_id"])
            if why is not None:
                if why != entry["deferral"]:  # the same reason again adds nothing
                    deferrals.append((entry["id"], why))
                    notes.append((clone_id, why, concerns))
                    report.deferred[clone_id] = why
                continue
            repo.leave_queue(store, entry["id"], QueueStatus.ADMITTED, now_ms=now)
            repo.admit(store, clone_id=clone_id, queue_id=entry["id"], actor=actor, now_ms=now)
            state.transition(
                store,
                clone_id,
                EventKind.ADMITTED,
                actor=actor,
                reason=f"slot {slots - free + 1} of {slots}",
                now_ms=now,
                concerns=concerns,
            )
            report.admitted.append(clone_id)
            free -= 1
        # Waiting entries are queued clones (the state machine keeps the two together).
        repo.defer_many(store, deferrals, now_ms=now)
        state.note_many(
            store, EventKind.ADMISSION_DEFERRED, notes, stage=Stage.QUEUED, actor=actor, now_ms=now
        )
        report.waiting -= len(report.admitted)
    return report


def remove(store: Store, clock: Clock, clone_id: int, *, reason: str, actor: str) -> Stage:
    """Take a clone out of the queue or the arena for good (an admin act, with a reason)."""
    return _end(store, clock, clone_id, EventKind.REMOVED, reason=reason, actor=actor)


def retire(store: Store, clock: Clock, clone_id: int, *, reason: str, actor: str) -> Stage:
    """Retire an arena clone; its slot is kept as retired, for the Hall of Fame."""
    return _end(store, clock, clone_id, EventKind.RETIRED, reason=reason, actor=actor)


def _end(
    store: Store, clock: Clock, clone_id: int, event: EventKind, *, reason: str, actor: str
) -> Stage:
    if not reason or not reason.strip():
        raise InvalidInputError("--reason is required: removing or retiring is an admin act")
    now = clock.now_ms()
    with store.atomic():
        current = state.stage_of(store, clone_id)
        if current not in state.TRANSITIONS[event][0]:
            raise state.refusal(clone_id, current, event)
        entry = repo.queue_entry(store, clone_id)
        concerns = Concerns(audition_id=entry["audition_id"] if entry else None)
        if current == Stage.QUEUED:
            repo.leave_queue(store, entry["id"], QueueStatus.REMOVED, now_ms=now)
        else:
            slot = repo.active_slot(store, clone_id)
            if slot is None:
                raise ConflictError(f"clone {clone_id} holds no arena slot")
            status = SlotStatus.RETIRED if event == EventKind.RETIRED else SlotStatus.REMOVED
            repo.end_slot(store, slot["id"], status, actor=actor, reason=reason, now_ms=now)
        return state.transition(
            store,
            clone_id,
            event,
            actor=actor,
            reason=reason.strip(),
            now_ms=now,
            concerns=concerns,
        )


def arena(store: Store, *, status: str | None = None) -> list[dict]:
    """The arena's slots (active ones, or of ``status``), oldest first."""
    if status is not None:
        SlotStatus(status)
    return repo.slots(store, status=status)


def queue(store: Store) -> list[dict]:
    """The promotion queue in admission order."""
    return repo.waiting(store)


def arena_detail(store: Store, clone_id: int) -> dict:
    """A clone's place: its stage, queue entry and every slot it held."""
    return {
        "clone_id": clone_id,
        "stage": state.stage_of(store, clone_id),
        "queue": repo.queue_entry(store, clone_id),
        "slots": repo.slot_history(store, clone_id),
    }
