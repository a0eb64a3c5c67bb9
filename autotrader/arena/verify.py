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
from autotrader.core.money import to_text as _t
from autotrader.lifecycle.economy import UNIT
from autotrader.lifecycle.repo import economy as economy_repo

_DONE = (RaceStatus.SETTLED, RaceStatus.ARCHIVED)
_CLOSED = (*_DONE, RaceStatus.CANCELLED)


def verify_races(store: Store) -> list[str]:
    """Every violation, one line each naming its race (empty when all holds)."""
    problems: list[str] = []
    with store.read():
        races = {r["id"]: r["status"] for r in races_repo.list_races(store)}
        paid: dict[int, Decimal] = defaultdict(Decimal)
        for race_id, text in tickets_repo.paid_totals(store):
            paid[race_id] += _amount(text, f"race {race_id}: a ticket", problems)
        rows: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        paid_to: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for race_id, kind, holder, text, txn in repo.all_rows(store):
            amount = _amount(text, f"race {race_id}: a {kind} row", problems)
            rows[race_id][kind] += amount
            paid_to[txn][holder] += amount
        booked: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for txn, holder, text in economy_repo.legs_of_bookings(store, "race:"):
            booked[txn][holder] += _amount(text, f"{txn}: an entry", problems, signed=True)
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


def _amount(text: str, what: str, problems: list[str], *, signed: bool = False) -> Decimal:
    """A stored amount; a problem (and 0, so the sums go on) when it is not a multiple of the
    unit that is positive (or, ``signed``, a booking's leg: not zero)."""
    try:
        amount = Decimal(text)
        valid = (
            amount.is_finite()
            and amount == amount.quantize(UNIT)
            and (amount != 0 if signed else amount > 0)
        )
    except ArithmeticError:  # not a number, or too large to sit on the unit
        valid = False
    if valid:
        return amount
    kind = "" if signed else "positive "
    problems.append(f"{what} of {text!r} is not a {kind}multiple of {UNIT} USDC")
    return Decimal(0)


def _settlement(settlement, paid, rows) -> list[str]:
    race_id, pool = settlement["race_id"], settlement["pool"]
    parts = rows[race_id]
    where = f"race {race_id}"
    problems = []
    tickets_in = paid[race_id] - parts[PayoutKind.REFUND]
    if pool != tickets_in:
        problems.append(f"{where}: its pool is {_t(pool)}, its paid tickets sum to"
                        f" {_t(tickets_in)}")  # fmt: skip
    split = settlement["rake"] + settlement["creator_pool"] + settlement["distribution_pool"]
    if split != pool:
        problems.append(f"{where}: rake + creator pool + distribution pool = {_t(split)},"
                        f" not {_t(pool)}")  # fmt: skip
    total = sum((v for k, v in parts.items() if k != PayoutKind.REFUND), Decimal(0))
    if total != pool:
        problems.append(f"{where}: its rows sum to {_t(total)}, not its pool of {_t(pool)}")
    if parts[PayoutKind.RAKE] != settlement["rake"]:
        problems.append(f"{where}: the rake row is {_t(parts[PayoutKind.RAKE])}, the split"
                        f" {_t(settlement['rake'])}")  # fmt: skip
    if parts[PayoutKind.ROYALTY] > settlement["creator_pool"]:
        problems.append(f"{where}: royalties {_t(parts[PayoutKind.ROYALTY])} exceed the creator"
                        f" pool {_t(settlement['creator_pool'])}")  # fmt: skip
    distributed = parts[PayoutKind.PAYOUT] + parts[PayoutKind.UNCLAIMED]
    if distributed > settlement["distribution_pool"]:
        problems.append(f"{where}: payouts {_t(distributed)} exceed the distribution pool"
                        f" {_t(settlement['distribution_pool'])}")  # fmt: skip
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
        return [f"race {race_id} ({status}): its pool holds {_t(held)} USDC, {_t(owed)} is"
                " owed"]  # fmt: skip
    return []
