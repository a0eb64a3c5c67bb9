"""SQL of races and their entrants."""

from __future__ import annotations

from decimal import Decimal

from autotrader.core.db import Store
from autotrader.core.money import to_text

_ENTRANT_MONEY = ("equity", "pnl", "return_pct", "max_drawdown_pct")


def insert_race(store: Store, **values: object) -> int:
    return store.insert("arena_races", values)


def get_race(store: Store, race_id: int) -> dict | None:
    return store.query_one("SELECT * FROM arena_races WHERE id = ?", (race_id,))


def list_races(store: Store, *, status: str | None = None) -> list[dict]:
    sql, params = "SELECT * FROM arena_races", []
    if status is not None:
        sql += " WHERE status = ?"
        params.append(status)
    return store.query(sql + " ORDER BY id", params)


def due_to_launch(store: Store, *, now_ms: int) -> list[int]:
    return [
        race_id
        for (race_id,) in store.tuples(
            "SELECT id FROM arena_races WHERE status = 'accumulating' AND starts_at <= ?"
            " ORDER BY starts_at, id",
            (now_ms,),
        )
    ]


def set_status(
    store: Store, race_id: int, status: str, *, expected: str, now_ms: int, **values: object
) -> bool:
    """``expected`` → ``status`` (with the other columns given); False when the race was not
    ``expected`` (another process moved it first: nothing changed)."""
    assignments = "".join(f", {column} = ?" for column in values)
    return (
        store.execute(
            f"UPDATE arena_races SET status = ?, updated_at = ?{assignments}"
            " WHERE id = ? AND status = ?",
            (status, now_ms, *values.values(), race_id, expected),
        )
        == 1
    )


def claim_finished(
    store: Store,
    *,
    now_ms: int,
    worker_id: str,
    stale_before_ms: int,
    limit: int,
    race_id: int | None = None,
) -> list[dict]:
    """Claim live races whose end has come (→ settling), and settling races whose worker died
    (claimed before ``stale_before_ms``)."""
    where = "((status = 'live' AND ends_at <= ?) OR (status = 'settling' AND claimed_at < ?))" + (
        " AND id = ?" if race_id is not None else ""
    )
    params: list[object] = [now_ms, stale_before_ms]
    if race_id is not None:
        params.append(race_id)
    return store.claim(
        "arena_races",
        where=where,
        params=params,
        set_values={
            "status": "settling",
            "claimed_by": worker_id,
            "claimed_at": now_ms,
            "updated_at": now_ms,
        },
        order_by="ends_at, id",
        limit=limit,
    )


def settled_before(store: Store, *, before_ms: int) -> list[int]:
    return [
        race_id
        for (race_id,) in store.tuples(
            "SELECT id FROM arena_races WHERE status = 'settled' AND settled_at < ? ORDER BY id",
            (before_ms,),
        )
    ]


def insert_entrant(store: Store, *, race_id: int, clone_id: int) -> int:
    return store.insert(
        "arena_entrants", {"race_id": race_id, "clone_id": clone_id, "status": "entered"}
    )


def entrants(store: Store, race_id: int) -> list[dict]:
    """The race's entrants, finishers in finishing order first, then the rest by entry."""
    rows = store.query(
        "SELECT * FROM arena_entrants WHERE race_id = ? ORDER BY finish IS NULL, finish, id",
        (race_id,),
    )
    return [_decode_entrant(row) for row in rows]


def entrants_of_clone(store: Store, clone_id: int) -> list[dict]:
    rows = store.query(
        "SELECT * FROM arena_entrants WHERE clone_id = ? ORDER BY race_id", (clone_id,)
    )
    return [_decode_entrant(row) for row in rows]


def entrant_of_account(store: Store, account_id: int) -> dict | None:
    row = store.query_one("SELECT * FROM arena_entrants WHERE account_id = ?", (account_id,))
    return _decode_entrant(row) if row else None


def scratch(store: Store, entrant_id: int, *, reason: str) -> None:
    store.execute(
        "UPDATE arena_entrants SET status = 'scratched', reason = ? WHERE id = ?"
        " AND status = 'entered'",
        (reason, entrant_id),
    )


def start_racing(store: Store, entrant_id: int, *, account_id: int) -> None:
    store.execute(
        "UPDATE arena_entrants SET status = 'racing', account_id = ? WHERE id = ?"
        " AND status = 'entered'",
        (account_id, entrant_id),
    )


def record_finish(
    store: Store,
    entrant_id: int,
    *,
    finish: int,
    equity: Decimal,
    pnl: Decimal,
    return_pct: Decimal,
    max_drawdown_pct: Decimal,
    trades: int,
) -> None:
    store.execute(
        "UPDATE arena_entrants SET status = 'finished', finish = ?, equity = ?, pnl = ?,"
        " return_pct = ?, max_drawdown_pct = ?, trades = ? WHERE id = ? AND status = 'racing'",
        (
            finish,
            to_text(equity),
            to_text(pnl),
            to_text(return_pct),
            to_text(max_drawdown_pct),
            trades,
            entrant_id,
        ),
    )


def _decode_entrant(row: dict) -> dict:
    for column in _ENTRANT_MONEY:
        if row[column] is not None:
            row[column] = Decimal(row[column])
    return row
