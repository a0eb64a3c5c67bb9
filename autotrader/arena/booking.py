"""The arena's real money, booked in the lifecycle's economy ledger (``lifecycle.economy``).

A paid ticket moves its amount from the holder to the race's pool, ``protocol:race:<id>``
(``lifecycle.payments.settle`` books it, kind TICKET). The pool is emptied exactly once:

- settled: one booking, ``race:<id>:settlement``, pays every settlement row — the rake and an
  unclaimed distribution pool to ``protocol:rake`` (RAKE), royalties to the finishers' owners
  (ROYALTY), payouts to the ticket holders (PAYOUT), dust to ``protocol:rounding`` (ROUNDING)
  — with one leg per kind taking the same total out of the pool;
- cancelled, or an entrant scratched at the launch: the paid tickets go back to their holders
  (REFUND), one booking per race or scratched entrant.

Each booking's id is its idempotency key and is written in the caller's transaction together
with the arena's own rows (``arena_payouts``), so the two can never disagree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from autotrader.arena.parimutuel import PoolSplit
from autotrader.arena.repo import settlements as repo
from autotrader.arena.repo import tickets as tickets_repo
from autotrader.arena.vocabulary import PayoutKind
from autotrader.core.db import Store
from autotrader.core.money import ZERO
from autotrader.lifecycle import economy
from autotrader.lifecycle.vocabulary import EconomyKind

ECONOMY_KIND = {
    PayoutKind.RAKE: EconomyKind.RAKE,
    PayoutKind.UNCLAIMED: EconomyKind.RAKE,
    PayoutKind.ROYALTY: EconomyKind.ROYALTY,
    PayoutKind.PAYOUT: EconomyKind.PAYOUT,
    PayoutKind.DUST: EconomyKind.ROUNDING,
    PayoutKind.REFUND: EconomyKind.REFUND,
}


def pool_holder(race_id: int) -> str:
    """The economy holder of a race's pool: paid tickets in, settlement or refunds out."""
    return f"{economy.PROTOCOL_PREFIX}race:{race_id}"


def settlement_txn(race_id: int) -> str:
    return f"race:{race_id}:settlement"


def book_settlement(store: Store, race_id: int, split: PoolSplit, *, now_ms: int) -> str:
    """Pay every row of ``split`` out of the race's pool (inside the caller's transaction);
    the booking's id."""
    txn = settlement_txn(race_id)
    out: dict[PayoutKind, Decimal] = defaultdict(Decimal)
    for row in split.rows:
        out[row.kind] += row.amount
    pool = pool_holder(race_id)
    legs = [
        economy.Leg(pool, ECONOMY_KIND[kind], -total, f"race {race_id}: {kind} out of the pool")
        for kind, total in out.items()
    ]
    legs += [
        economy.Leg(row.holder, ECONOMY_KIND[row.kind], row.amount, _why(race_id, row.kind, row))
        for row in split.rows
    ]
    if legs:
        economy.book(store, txn, legs, now_ms=now_ms)
    repo.insert_rows(
        store,
        [
            {"race_id": race_id, "kind": str(row.kind), "holder": row.holder,
             "amount": row.amount, "clone_id": row.clone_id, "finish": row.finish,
             "stake": row.stake, "ticket_id": None, "txn": txn, "created_at": now_ms}
            for row in split.rows
        ],
    )  # fmt: skip
    return txn


def refund(
    store: Store, race_id: int, tickets: Sequence[dict], *, txn: str, reason: str, now_ms: int
) -> Decimal:
    """Give every one of the paid ``tickets`` back to its holder out of the race's pool
    (inside the caller's transaction); the total refunded."""
    if not tickets:
        return ZERO
    total = sum((t["amount"] for t in tickets), ZERO)
    legs = [economy.Leg(pool_holder(race_id), EconomyKind.REFUND, -total, reason)]
    legs += [
        economy.Leg(t["owner"], EconomyKind.REFUND, t["amount"], reason, f"ticket {t['id']}")
        for t in tickets
    ]
    economy.book(store, txn, legs, now_ms=now_ms)
    repo.insert_rows(
        store,
        [
            {"race_id": race_id, "kind": str(PayoutKind.REFUND), "holder": t["owner"],
             "amount": t["amount"], "clone_id": t["clone_id"], "finish": None,
             "stake": t["amount"], "ticket_id": t["id"], "txn": txn, "created_at": now_ms}
            for t in tickets
        ],
    )  # fmt: skip
    tickets_repo.mark_refunded(store, [t["id"] for t in tickets], reason=reason, now_ms=now_ms)
    return total


def _why(race_id: int, kind: PayoutKind, row) -> str:
    if kind == PayoutKind.ROYALTY:
        return f"race {race_id}: royalty for clone {row.clone_id} finishing {row.finish}"
    if kind == PayoutKind.PAYOUT:
        return f"race {race_id}: payout on a {row.stake} USDC stake"
    if kind == PayoutKind.UNCLAIMED:
        return f"race {race_id}: no ticket on a paying position, the pool goes to the protocol"
    return f"race {race_id}: {kind}"
