"""The Hall of Fame: every retired arena clone with its record, preserved as it stood when it
retired — races, wins, best finish, lifetime race return, royalties earned, strikes, and its
profile then (public profile, owner, model, variant, the pipeline version and a hash of its
graph). The record is written once (the table is append-only), so a later edit of the clone's
profile or graph changes nothing here.

A clone retired by strikes is inducted in the retiring transaction; one retired by an admin
(``lifecycle arena retire``) is inducted with it too when the command goes through
:func:`retire_clone`, and the races job inducts any retired clone still missing (say, retired
before the arena existed).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from autotrader.arena.repo import races as races_repo
from autotrader.arena.repo import records as repo
from autotrader.arena.repo import settlements as settlements_repo
from autotrader.arena.vocabulary import EntrantStatus
from autotrader.clones import repo as clones_repo
from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.money import ZERO
from autotrader.lifecycle import promotion, state
from autotrader.lifecycle.repo import arena as slots_repo
from autotrader.lifecycle.repo import profiles as profiles_repo
from autotrader.lifecycle.vocabulary import EventKind, SlotStatus, Stage

_PERCENT = Decimal("0.0001")


def retire_clone(store: Store, clock: Clock, clone_id: int, *, reason: str, actor: str) -> Stage:
    """Retire an arena clone through the lifecycle's state machine (its slot is freed, the
    timeline says why) and preserve its record, in one transaction."""
    with store.atomic():
        stage = promotion.retire(store, clock, clone_id, reason=reason, actor=actor)
        induct(store, clone_id, now_ms=clock.now_ms())
    return stage


def induct(store: Store, clone_id: int, *, now_ms: int) -> bool:
    """Preserve the retired clone's record as it stands now; False when it has one already."""
    return repo.induct(store, record=record_of(store, clone_id), now_ms=now_ms)


def induct_missing(store: Store, clock: Clock) -> list[int]:
    """Induct every retired clone without a record yet; their ids."""
    inducted = repo.inducted(store)
    missing = [
        slot["clone_id"]
        for slot in slots_repo.slots(store, status=SlotStatus.RETIRED)
        if slot["clone_id"] not in inducted
    ]
    for clone_id in missing:
        with store.atomic():
            induct(store, clone_id, now_ms=clock.now_ms())
    return missing


def hall_of_fame(store: Store) -> list[dict]:
    """Every preserved record, the most recently retired first."""
    return repo.hall_of_fame(store)


def record_of(store: Store, clone_id: int) -> dict:
    """The clone's record from its races, royalties, strikes and retirement, and its profile."""
    finished = [
        e for e in races_repo.entrants_of_clone(store, clone_id)
        if e["status"] == EntrantStatus.FINISHED
    ]  # fmt: skip
    pnl = sum((e["pnl"] for e in finished), ZERO)
    started = sum((e["equity"] - e["pnl"] for e in finished), ZERO)
    retirement = next(
        (e for e in reversed(state.timeline(store, clone_id)) if e["event"] == EventKind.RETIRED),
        None,
    )
    return {
        "clone_id": clone_id,
        "retired_at": retirement["created_at"] if retirement else 0,
        "reason": retirement["reason"] if retirement else None,
        "races": len(finished),
        "wins": sum(e["finish"] == 1 for e in finished),
        "best_finish": min((e["finish"] for e in finished), default=None),
        "race_pnl": pnl,
        "race_return_pct": (pnl / started * 100).quantize(_PERCENT) if started else ZERO,
        "royalties": sum(
            (Decimal(amount) for (amount,) in settlements_repo.royalties_of(store, clone_id)),
            ZERO,
        ),
        "strikes": len(repo.strikes_of(store, clone_id)),
        "profile": _profile(store, clone_id),
    }


def _profile(store: Store, clone_id: int) -> dict:
    clone = clones_repo.get_clone(store, clone_id) or {}
    public = profiles_repo.public_version(store, clone_id)
    pipeline = clones_repo.pipeline(store, clone_id)
    return {
        "name": public["name"] if public else clone.get("display_name") or clone.get("name"),
        "bio": public["bio"] if public else None,
        "avatar_url": public["avatar_url"] if public else None,
        "profile_version": public["version"] if public else None,
        "clone_name": clone.get("name"),
        "owner": clone.get("owner"),
        "model": clone.get("model"),
        "variant": clone.get("variant"),
        "pipeline_version": pipeline["version"] if pipeline else None,
        "pipeline_sha256": (
            hashlib.sha256(pipeline["graph"].encode()).hexdigest() if pipeline else None
        ),
    }
