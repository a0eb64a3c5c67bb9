"""The moderation queue: approve or reject a pending profile version, with a reason.

Approving publishes the version — it replaces the clone's public profile — after checking once
more, under the write lock, that no other clone's public name folds to the same key (one may
have been approved since this version was submitted; the database's unique key on public names
holds it too). Rejecting leaves the last approved version public.
"""

from __future__ import annotations

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import ConflictError, InvalidInputError
from autotrader.lifecycle import state
from autotrader.lifecycle.profiles import name_collision, require_version
from autotrader.lifecycle.repo import profiles as repo
from autotrader.lifecycle.vocabulary import EventKind, ProfileStatus


def queue(store: Store) -> list[dict]:
    """Pending versions, oldest first."""
    return repo.pending(store)


def approve(store: Store, clock: Clock, version_id: int, *, reason: str, actor: str) -> dict:
    return _review(store, clock, version_id, ProfileStatus.APPROVED, reason=reason, actor=actor)


def reject(store: Store, clock: Clock, version_id: int, *, reason: str, actor: str) -> dict:
    return _review(store, clock, version_id, ProfileStatus.REJECTED, reason=reason, actor=actor)


def _review(
    store: Store,
    clock: Clock,
    version_id: int,
    status: ProfileStatus,
    *,
    reason: str,
    actor: str,
) -> dict:
    if not reason or not reason.strip():
        raise InvalidInputError("--reason is required: moderation is recorded")
    now = clock.now_ms()
    with store.atomic():
        version = require_version(store, version_id)
        if version["status"] != ProfileStatus.PENDING:
            raise ConflictError(f"profile version {version_id} is {version['status']}, not pending")
        clone_id = version["clone_id"]
        if status == ProfileStatus.APPROVED:
            holder = name_collision(store, clone_id, version["name"])
            if holder is not None:
                raise ConflictError(
                    f"profile version {version_id}: {version['name']!r} now reads the same as"
                    f" clone {holder}'s public name; reject it"
                )
            repo.publish(
                store,
                clone_id=clone_id,
                version_id=version_id,
                name_key=version["name_key"],
                look_alike_key=version["look_alike_key"],
                now_ms=now,
            )
        repo.review(store, version_id, status.value, actor=actor, reason=reason.strip(), now_ms=now)
        event = (
            EventKind.PROFILE_APPROVED
            if status == ProfileStatus.APPROVED
            else EventKind.PROFILE_REJECTED
        )
        state.note(
            store,
            clone_id,
            event,
            actor=actor,
            reason=f"version {version['version']}: {reason.strip()}",
            now_ms=now,
        )
    return require_version(store, version_id)
