"""Rechecking the arena's money: every race's pool is conserved, and what its rows say was paid
is what the economy ledger booked. ``ledger verify`` runs it beside the economy's own check
(``lifecycle.economy.verify_economy``: every holder's balance against its entries).

For every settled (or archived) race:

- its pool is the sum of its paid tickets;
- rake + creator pool + distribution pool = pool, and the rows — rake, unclaimed, royalties,
  payouts, dust — sum to the pool exactly, each a positive amount on the unit; royalties stay
  within the creator pool, payouts and the unclaimed within the distribution pool;
- the settlement booking pays each holder exactly its rows and takes the pool out.

For every race, refunds pay back exactly the refunded tickets; and the pool's economy balance
is what is still owed: the paid tickets while it runs, nothing once it is settled or cancelled.
Read-only; Decimal throughout; one pass over each table.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from autotrader.arena.booking import pool_holder
from autotrader.arena.repo import races as races_repo
from autotrader.arena.repo import settlements as repo
from autotrader.arena.repo import tickets as tickets_repo
from autotrader.arena.vocabulary import PayoutKind, RaceStatus
from autotrader.core.db import Store
from autotrader.lifecycle.economy import UNIT
from autotrader.lifecycle.repo import economy as economy_repo

_DONE = (RaceStatus.SETTLED, RaceStatus.ARCHIVED)
_CLOSED = (*_DONE, RaceStatus.CANCELLED)


def verify_races(store: Store) -> list[str]:
    """Every violation, one line each naming its race (empty when all holds)."""
    with store.read():
        races = {r["id"]: r["status"] for r in races_repo.list_races(store)}
        paid: dict[int, Decimal] = defaultdict(Decimal)
        for race_id, amount in tickets_repo.paid_totals(store):
            paid[race_id] += Decimal(amount)
        rows: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        paid_to: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        problems = []
        for race_id, kind, holder, text, txn in repo.all_rows(store):
            amount = Decimal(text)
            rows[race_id][kind] += amount
            paid_to[txn][holder] += amount
            if amount <= 0 or amount != amount.quantize(UNIT):
                problems.append(f"race {race_id}: a {kind} row of {amount} is not a positive"
                                f" multiple of {UNIT}")  # fmt: skip
        booked: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for txn, holder, amount in economy_repo.legs_of_bookings(store, "race:"):
            booked[txn][holder] += Decimal(amount)
        balances = economy_repo.balances(store)
        settlements = repo.all_settlements(store)
        for settlement in settlements:
            problems += _settlement(settlement, paid, rows)
        for txn in sorted(set(paid_to) | set(booked)):
            problems += _booking(txn, paid_to[txn], booked[txn])
        for race_id, status in races.items():
            problems += _pool(race_id, status, paid, rows, balances)
        settled = {race_id for race_id, status in races.items() if status in _DONE}
        for race_id in sorted(settled - {s["race_id"] for s in settlements}):
            problems.append(f"race {race_id} is {races[race_id]} but has no settlement")
    return problems


def _settlement(settlement, paid, rows) -> list[str]:
    race_id, pool = settlement["race_id"], settlement["pool"]
    parts = rows[race_id]
    where = f"race {race_id}"
    problems = []
    tickets_in = paid[race_id] - parts[PayoutKind.REFUND]
    if pool != tickets_in:
        problems.append(f"{where}: its pool is {pool}, its paid tickets sum to {tickets_in}")
    split = settlement["rake"] + settlement["creator_pool"] + settlement["distribution_pool"]
    if split != pool:
        problems.append(f"{where}: rake + creator pool + distribution pool = {split}, not {pool}")
    total = sum((v for k, v in parts.items() if k != PayoutKind.REFUND), Decimal(0))
    if total != pool:
        problems.append(f"{where}: its rows sum to {total}, not its pool of {pool}")
    if parts[PayoutKind.RAKE] != settlement["rake"]:
        problems.append(f"{where}: the rake row is {parts[PayoutKind.RAKE]}, the split"
                        f" {settlement['rake']}")  # fmt: skip
    if parts[PayoutKind.ROYALTY] > settlement["creator_pool"]:
        problems.append(f"{where}: royalties {parts[PayoutKind.ROYALTY]} exceed the creator"
                        f" pool {settlement['creator_pool']}")  # fmt: skip
    distributed = parts[PayoutKind.PAYOUT] + parts[PayoutKind.UNCLAIMED]
    if distributed > settlement["distribution_pool"]:
        problems.append(f"{where}: payouts {distributed} exceed the distribution pool"
                        f" {settlement['distribution_pool']}")  # fmt: skip
    return problems


def _booking(txn: str, rows: dict[str, Decimal], legs: dict[str, Decimal]) -> list[str]:
    """A race's booking (its settlement, or a refund) pays each holder exactly its rows and
    takes their sum out of the race's pool."""
    pool = pool_holder(int(txn.split(":")[1]))
    expected = {**rows, pool: rows.get(pool, Decimal(0)) - sum(rows.values(), Decimal(0))}
    if {h: a for h, a in legs.items() if a} != {h: a for h, a in expected.items() if a}:
        return [f"{txn}: the economy booking does not pay what its rows say"]
    return []


def _pool(race_id, status, paid, rows, balances) -> list[str]:
    refunded = rows[race_id][PayoutKind.REFUND]
    held = balances.get(pool_holder(race_id), Decimal(0))
    owed = Decimal(0) if status in _CLOSED else paid[race_id] - refunded
    if held != owed:
        return [f"race {race_id} ({status}): its pool holds {held} USDC, {owed} is owed"]
    return []
