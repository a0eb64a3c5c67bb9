"""SQL of the economy ledger (``economy_entries``): append a leg, read balances and bookings."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from decimal import Decimal
from typing import NamedTuple

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


class Entry(NamedTuple):
    """One leg of a booking as it is appended (money as Decimal)."""

    txn: str
    leg: int
    holder: str
    kind: str
    amount: Decimal
    balance_after: Decimal
    reference: str | None
    reason: str | None


def append_many(store: Store, entries: Iterable[Entry], *, now_ms: int) -> int:
    """Append a booking's legs in one statement (its idempotency keys are ``txn:leg``)."""
    return store.executemany(
        "INSERT INTO economy_entries (txn, holder, kind, amount, balance_after, reference,"
        " reason, idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (e.txn, e.holder, str(e.kind), to_text(e.amount), to_text(e.balance_after),
             e.reference, e.reason, f"{e.txn}:{e.leg}", now_ms)
            for e in entries
        ],
    )  # fmt: skip


def balances_of(store: Store, holders: Collection[str]) -> dict[str, Decimal]:
    """The balance of each of ``holders`` that has an entry (read in chunks of 500)."""
    found: dict[str, Decimal] = {}
    ordered = sorted(holders)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        found.update(
            (holder, Decimal(after))
            for holder, after in store.tuples(
                "SELECT holder, balance_after FROM economy_entries WHERE id IN (SELECT MAX(id)"
                f" FROM economy_entries WHERE holder IN ({', '.join('?' * len(chunk))})"
                " GROUP BY holder)",
                chunk,
            )
        )
    return found


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


def legs_of_bookings(store: Store, prefix: str) -> Iterator[tuple[str, str, str]]:
    """``(txn, holder, amount)`` of every entry whose booking id starts with ``prefix`` (the
    arena's ``race:``), money as stored, by index range."""
    return store.tuples(
        "SELECT txn, holder, amount FROM economy_entries WHERE txn >= ? AND txn < ?",
        (prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)),
    )
