"""SQL of settlements: each race's pool split and its rows (payouts, royalties, rake, dust,
refunds)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

from autotrader.core.db import Store
from autotrader.core.money import to_text

_SPLIT = ("pool", "rake", "creator_pool", "distribution_pool", "royalties", "payouts",
          "unclaimed", "dust")  # fmt: skip
_ROW_COLUMNS = ("race_id", "kind", "holder", "amount", "clone_id", "finish", "stake",
                "ticket_id", "txn", "created_at")  # fmt: skip


def insert_settlement(
    store: Store,
    *,
    race_id: int,
    tickets: int,
    split: dict[str, Decimal],
    finish: list[int],
    txn: str,
    now_ms: int,
) -> int:
    return store.insert(
        "arena_settlements",
        {
            "race_id": race_id,
            "tickets": tickets,
            **{column: to_text(split[column]) for column in _SPLIT},
            "finish": json.dumps(finish),
            "txn": txn,
            "settled_at": now_ms,
        },
    )


def settlement_of(store: Store, race_id: int) -> dict | None:
    row = store.query_one("SELECT * FROM arena_settlements WHERE race_id = ?", (race_id,))
    return _decode_settlement(row) if row else None


def settlements_after(store: Store, after_id: int, *, limit: int) -> list[dict]:
    """Settlements recorded after ``after_id``, oldest first (the alerts' scan)."""
    rows = store.query(
        "SELECT * FROM arena_settlements WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
    )
    return [_decode_settlement(row) for row in rows]


def newest_settlement_id(store: Store) -> int:
    return int(store.scalar("SELECT COALESCE(MAX(id), 0) FROM arena_settlements"))


def insert_rows(store: Store, rows: list[dict]) -> int:
    """Append settlement rows (each a dict of ``_ROW_COLUMNS``; ``amount`` and ``stake`` as
    Decimal) in one statement."""
    return store.executemany(
        f"INSERT INTO arena_payouts ({', '.join(_ROW_COLUMNS)})"
        f" VALUES ({', '.join('?' * len(_ROW_COLUMNS))})",
        [
            (r["race_id"], r["kind"], r["holder"], to_text(r["amount"]), r["clone_id"],
             r["finish"], None if r["stake"] is None else to_text(r["stake"]), r["ticket_id"],
             r["txn"], r["created_at"])
            for r in rows
        ],
    )  # fmt: skip


def rows(
    store: Store,
    *,
    race_id: int | None = None,
    holder: str | None = None,
    kinds: tuple[str, ...] = (),
    limit: int | None = None,
) -> list[dict]:
    """Settlement rows, oldest first (of a race, a holder, some kinds)."""
    sql, params = "SELECT * FROM arena_payouts WHERE 1 = 1", []
    for column, value in (("race_id", race_id), ("holder", holder)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    if kinds:
        sql += f" AND kind IN ({', '.join('?' * len(kinds))})"
        params.extend(kinds)
    sql += " ORDER BY id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [_decode_row(row) for row in store.query(sql, params)]


def royalties_of(store: Store, clone_id: int) -> Iterator[tuple[str]]:
    return store.tuples(
        "SELECT amount FROM arena_payouts WHERE kind = 'royalty' AND clone_id = ?", (clone_id,)
    )


def all_settlements(store: Store) -> list[dict]:
    return [_decode_settlement(row) for row in store.query("SELECT * FROM arena_settlements")]


def all_rows(store: Store) -> Iterator[tuple[int, str, str, str, str]]:
    """``(race id, kind, holder, amount, txn)`` of every settlement row, money as stored, for
    the conservation check."""
    return store.tuples("SELECT race_id, kind, holder, amount, txn FROM arena_payouts")


def _decode_settlement(row: dict) -> dict:
    for column in _SPLIT:
        row[column] = Decimal(row[column])
    row["finish"] = json.loads(row["finish"])
    return row


def _decode_row(row: dict) -> dict:
    row["amount"] = Decimal(row["amount"])
    if row["stake"] is not None:
        row["stake"] = Decimal(row["stake"])
    return row
