"""Races: created with their entrants fixed, tickets on sale while they accumulate, launched at
their start, settled after their end (``arena.settlement``), archived after the retention.

::

    accumulating ──launch──▶ live ──end──▶ settling ──▶ settled ──retention──▶ archived
         │
         └──fewer entrants than the minimum at the launch──▶ cancelled (every paid ticket refunded)

Entrants are arena clones (an active arena slot). At the launch — one transaction per race —
an entrant that has left the arena since is scratched and the tickets on it refunded; with
fewer than the race's minimum left the race is cancelled and every paid ticket refunded;
otherwise each entrant gets a fresh race prop account (``clones.accounts.open_clone_account``,
kind ``race``) with the race's identical rules and balance, which the decision worker trades
like any account. Launching is guarded by the race's status, so any number of workers launch
each race once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from autotrader.arena import booking
from autotrader.arena.models import RaceRules, RaceTerms
from autotrader.arena.repo import races as repo
from autotrader.arena.repo import records as records_repo
from autotrader.arena.repo import settlements as settlements_repo
from autotrader.arena.repo import tickets as tickets_repo
from autotrader.arena.vocabulary import PayoutKind, RaceStatus
from autotrader.clones.accounts import open_clone_account
from autotrader.core.clock import DAY_MS, MINUTE_MS, Clock, iso_utc
from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError, NotFoundError
from autotrader.core.money import ZERO
from autotrader.lifecycle import state
from autotrader.lifecycle.repo import arena as slots_repo
from autotrader.lifecycle.vocabulary import SlotStatus, Stage
from autotrader.prop.vocabulary import AccountKind

if TYPE_CHECKING:
    from autotrader.arena.models import ArenaPolicy

MIN_DURATION_MS = MINUTE_MS
MAX_DURATION_MS = 365 * DAY_MS


@dataclass
class LaunchReport:
    launched: list[int] = field(default_factory=list)
    cancelled: dict[int, str] = field(default_factory=dict)  # race id → why
    scratched: list[tuple[int, int]] = field(default_factory=list)  # (race id, clone id)
    refunded: Decimal = ZERO


def decode(row: dict) -> dict:
    """A race row with its rules and terms parsed."""
    row["rules"] = RaceRules.model_validate_json(row["rules"])
    row["terms"] = RaceTerms.model_validate_json(row["terms"])
    return row


def require_race(store: Store, race_id: int) -> dict:
    row = repo.get_race(store, race_id)
    if row is None:
        raise NotFoundError(f"race {race_id} does not exist (see `arena races list`)")
    return decode(row)


def list_races(store: Store, *, status: str | None = None) -> list[dict]:
    if status is not None:
        RaceStatus(status)
    return [decode(row) for row in repo.list_races(store, status=status)]


def create_race(
    store: Store,
    clock: Clock,
    *,
    starts_at: int,
    duration_ms: int,
    rules: RaceRules,
    terms: RaceTerms,
    clone_ids: list[int] | None,
    actor: str,
) -> dict:
    """An accumulating race starting at ``starts_at`` among ``clone_ids`` (each holding an
    active arena slot) or, with None, every clone in the arena, in the order of their slots.

    Refused (``InvalidInputError``, nothing written): a start in the past, a duration outside
    a minute to a year, a clone named twice or not in the arena, fewer entrants than the
    terms' minimum."""
    now = clock.now_ms()
    if starts_at < now:
        raise InvalidInputError(
            f"--start: {iso_utc(starts_at)} is in the past (now {iso_utc(now)})"
        )
    if not MIN_DURATION_MS <= duration_ms <= MAX_DURATION_MS:
        raise InvalidInputError("--duration: a race lasts from 1m to 365d")
    with store.atomic():
        entrants = _entrants(store, clone_ids)
        if len(entrants) < terms.min_entrants:
            named = ", ".join(map(str, entrants)) or "none"
            raise InvalidInputError(
                f"a race needs at least {terms.min_entrants} entrants from the arena, not"
                f" {len(entrants)} ({named})"
            )
        race_id = repo.insert_race(
            store,
            status=RaceStatus.ACCUMULATING.value,
            starts_at=starts_at,
            ends_at=starts_at + duration_ms,
            rules=rules.model_dump_json(),
            terms=terms.model_dump_json(),
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        for clone_id in entrants:
            repo.insert_entrant(store, race_id=race_id, clone_id=clone_id)
    return require_race(store, race_id)


def _entrants(store: Store, clone_ids: list[int] | None) -> list[int]:
    if clone_ids is None:
        return [slot["clone_id"] for slot in slots_repo.slots(store, status=SlotStatus.ACTIVE)]
    twice = sorted({c for c in clone_ids if clone_ids.count(c) > 1})
    if twice:
        raise InvalidInputError(f"--clones: {', '.join(map(str, twice))} named twice")
    outside = [c for c in clone_ids if slots_repo.active_slot(store, c) is None]
    if outside:
        raise InvalidInputError(
            f"--clones: {', '.join(map(str, outside))} not in the arena (no active slot;"
            " see `lifecycle arena list`)"
        )
    return list(clone_ids)


def race_detail(store: Store, race_id: int) -> dict:
    """The race with its entrants (and each one's pool), its settlement and its strikes."""
    race = require_race(store, race_id)
    pools: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for clone_id, status, amount in tickets_repo.pools(store, race_id):
        pools[clone_id][status] += Decimal(amount)
    race["entrants"] = repo.entrants(store, race_id)
    for entrant in race["entrants"]:
        entrant["pool"] = dict(pools.get(entrant["clone_id"], {}))
    race["settlement"] = settlements_repo.settlement_of(store, race_id)
    race["rows"] = settlements_repo.rows(store, race_id=race_id)
    race["strikes"] = records_repo.strikes_of_race(store, race_id)
    return race


def launch_due(store: Store, clock: Clock, *, actor: str) -> LaunchReport:
    """Launch (or cancel) every accumulating race whose start has come."""
    report = LaunchReport()
    for race_id in repo.due_to_launch(store, now_ms=clock.now_ms()):
        with store.atomic():
            _launch(store, clock, race_id, report, actor=actor)
    return report


def _launch(store: Store, clock: Clock, race_id: int, report: LaunchReport, *, actor: str):
    race = require_race(store, race_id)  # under the write lock: another worker may have won
    if race["status"] != RaceStatus.ACCUMULATING:
        return
    now = clock.now_ms()
    staying = []
    for entrant in repo.entrants(store, race_id):
        stage = state.stage_of(store, entrant["clone_id"])
        if stage == Stage.ARENA:
            staying.append(entrant)
            continue
        reason = f"clone {entrant['clone_id']} left the arena ({stage}) before race {race_id}"
        repo.scratch(store, entrant["id"], reason=reason)
        report.refunded += booking.refund(
            store,
            race_id,
            tickets_repo.paid_on(store, race_id, entrant["clone_id"]),
            txn=f"race:{race_id}:scratch:{entrant['clone_id']}",
            reason=f"{reason}: ticket refunded",
            now_ms=now,
        )
        report.scratched.append((race_id, entrant["clone_id"]))
    minimum = race["terms"].min_entrants
    if len(staying) < minimum:
        why = f"{len(staying)} of the {minimum} entrants it needs were in the arena at its start"
        report.refunded += booking.refund(
            store,
            race_id,
            tickets_repo.paid_on(store, race_id),
            txn=f"race:{race_id}:cancelled",
            reason=f"race {race_id} cancelled: ticket refunded",
            now_ms=now,
        )
        tickets_repo.expire_pending_of_race(
            store, race_id, reason=f"race {race_id} was cancelled", now_ms=now
        )
        repo.set_status(store, race_id, RaceStatus.CANCELLED, expected=RaceStatus.ACCUMULATING,
                        now_ms=now, cancelled_at=now, reason=why)  # fmt: skip
        report.cancelled[race_id] = why
        return
    rules: RaceRules = race["rules"]
    for entrant in staying:
        account_id = open_clone_account(
            store,
            clock,
            clone_id=entrant["clone_id"],
            kind=AccountKind.RACE,
            starting_balance=rules.starting_balance,
            rules=rules.account_rules(),
        )
        repo.start_racing(store, entrant["id"], account_id=account_id)
    repo.set_status(store, race_id, RaceStatus.LIVE, expected=RaceStatus.ACCUMULATING,
                    now_ms=now, launched_at=now)  # fmt: skip
    report.launched.append(race_id)


def archive_settled(store: Store, clock: Clock, policy: ArenaPolicy) -> list[int]:
    """Archive the races settled longer ago than the retention; their ids."""
    now = clock.now_ms()
    archived = []
    for race_id in repo.settled_before(store, before_ms=now - policy.retention_ms):
        with store.atomic():
            if repo.set_status(store, race_id, RaceStatus.ARCHIVED, expected=RaceStatus.SETTLED,
                               now_ms=now, archived_at=now):  # fmt: skip
                archived.append(race_id)
    return archived


def pool_totals(race: dict) -> dict[str, Decimal]:
    """Paid and pending totals over a detailed race's entrants (what ``races show`` sums)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for entrant in race["entrants"]:
        for status, amount in entrant["pool"].items():
            totals[status] += amount
    return dict(totals)


def refunds(race: dict) -> list[dict]:
    return [row for row in race["rows"] if row["kind"] == PayoutKind.REFUND]
