"""SQL of the economy ledger (``economy_entries``): append a leg, read balances and bookings."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from autotrader.core.db import Store
from autotrader.core.money import ZERO, to_text


def _decode(row: dict) -> dict:
    row["amount"] = Decimal(row["amount"])
    row["balance_after"] = Decimal(row["balance_after"])
    return row


def balance(store: Store, holder: str) -> Decimal:
    """The holder's balance after its newest entry (0 before any)."""
    after = store.scalar(
        "SELECT balance_after FROM economy_entries WHERE holder = ? ORDER BY id DESC LIMIT 1",
        (holder,),
    )
    return ZERO if after is None else Decimal(after)


def txn_exists(store: Store, txn: str) -> bool:
    return store.scalar("SELECT 1 FROM economy_entries WHERE txn = ? LIMIT 1", (txn,)) is not None


def append(
    store: Store,
    *,
    txn: str,
    leg: int,
    holder: str,
    kind: str,
    amount: Decimal,
    balance_after: Decimal,
    reference: str | None,
    reason: str | None,
    now_ms: int,
) -> int:
    return store.insert(
        "economy_entries",
        {
            "txn": txn,
            "holder": holder,
            "kind": str(kind),
            "amount": to_text(amount),
            "balance_after": to_text(balance_after),
            "reference": reference,
            "reason": reason,
            "idempotency_key": f"{txn}:{leg}",
            "created_at": now_ms,
        },
    )


def entries(
    store: Store, *, holder: str | None = None, txn: str | None = None, limit: int = 50
) -> list[dict]:
    """Newest first, optionally one holder's or one booking's."""
    sql, params = "SELECT * FROM economy_entries WHERE 1 = 1", []
    for column, value in (("holder", holder), ("txn", txn)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    return [_decode(r) for r in store.query(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])]


def balances(store: Store) -> dict[str, Decimal]:
    """Every holder's balance (its newest entry's balance_after)."""
    return {
        holder: Decimal(after)
        for holder, after in store.tuples(
            "SELECT holder, balance_after FROM economy_entries WHERE id IN"
            " (SELECT MAX(id) FROM economy_entries GROUP BY holder) ORDER BY holder"
        )
    }


def all_entries(store: Store) -> Iterator[tuple[int, str, str, str, str, str, str | None]]:
    """``(id, txn, holder, kind, amount, balance_after, reference)`` of every entry, in id
    order, money as stored, for the conservation check."""
    return store.tuples(
        "SELECT id, txn, holder, kind, amount, balance_after, reference FROM economy_entries"
        " ORDER BY id"
    )
