"""SQL for what the desk observes and learns: signals, agent memories, trade outcomes and the
portfolio history. Money goes in as canonical Decimal text and comes back as Decimal."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from autotrader.core.db import Store
from autotrader.core.money import to_text
from autotrader.desk.repo import decode, dumps

_OUTCOME_MONEY = ("entry_price", "exit_price", "qty", "pnl", "pnl_pct")


def _money_in(values: dict[str, Any]) -> dict[str, Any]:
    return {k: to_text(v) if isinstance(v, Decimal) else v for k, v in values.items()}


def _money_out(row: dict | None, columns: Sequence[str]) -> dict | None:
    if row is not None:
        for column in columns:
            if isinstance(row.get(column), str):
                row[column] = Decimal(row[column])
    return row


# -- signals -----------------------------------------------------------------------------------


def insert_signal(store: Store, values: dict[str, Any]) -> int | None:
    """Record a signal unless the same bar already gave one of the same type (a rescan)."""
    row = _money_in({**values, "metadata": dumps(values["metadata"])})
    return store.insert_or_ignore("desk_signals", row)


def _signal(row: dict | None) -> dict | None:
    return _money_out(decode(row, "metadata"), ("price",))


def get_signal(store: Store, signal_id: int) -> dict | None:
    return _signal(store.query_one("SELECT * FROM desk_signals WHERE id = ?", (signal_id,)))


def signals_after(store: Store, after_id: int, *, limit: int = 500) -> list[dict]:
    rows = store.query(
        "SELECT * FROM desk_signals WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
    )
    return [_signal(row) for row in rows]  # type: ignore[misc]


def list_signals(store: Store, *, symbol: str | None = None, limit: int = 50) -> list[dict]:
    sql, params = "SELECT * FROM desk_signals", []
    if symbol is not None:
        sql += " WHERE symbol = ?"
        params.append(symbol)
    rows = store.query(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
    return [_signal(row) for row in rows]  # type: ignore[misc]


def signals_since(store: Store, *, since_ms: int) -> int:
    return store.scalar("SELECT COUNT(*) FROM desk_signals WHERE created_at >= ?", (since_ms,))


# -- memories ----------------------------------------------------------------------------------


def get_memory(store: Store, agent_id: str, memory_type: str, key: str) -> dict | None:
    row = store.query_one(
        "SELECT * FROM desk_memories WHERE agent_id = ? AND type = ? AND key = ?",
        (agent_id, memory_type, key),
    )
    return decode(row, "tags")


def insert_memory(store: Store, values: dict[str, Any]) -> int:
    return store.insert("desk_memories", {**values, "tags": dumps(list(values["tags"]))})


def update_memory(store: Store, memory_id: int, **values: Any) -> None:
    row = {k: dumps(list(v)) if k == "tags" else v for k, v in values.items()}
    assignments = ", ".join(f"{column} = ?" for column in row)
    store.execute(
        f"UPDATE desk_memories SET {assignments} WHERE id = ?", [*row.values(), memory_id]
    )


def memories_of(
    store: Store,
    agent_id: str,
    *,
    types: Sequence[str] | None = None,
    min_confidence: float = 0.0,
    limit: int = 20,
) -> list[dict]:
    """An agent's memories, promoted and most confident first."""
    sql = "SELECT * FROM desk_memories WHERE agent_id = ? AND confidence >= ?"
    params: list[Any] = [agent_id, min_confidence]
    if types is not None:
        sql += f" AND type IN ({', '.join('?' * len(types))})"
        params.extend(types)
    sql += " ORDER BY promoted_at IS NULL, confidence DESC, id DESC LIMIT ?"
    return [decode(row, "tags") for row in store.query(sql, [*params, limit])]  # type: ignore[misc]


def eligible_memories(
    store: Store,
    *,
    types: Sequence[str],
    min_confidence: float,
    agent_ids: Sequence[str] | None = None,
    tag: str | None = None,
    limit: int = 3,
) -> list[dict]:
    """Memories of ``types`` at ``min_confidence`` or more (of those agents, carrying ``tag``
    in any case when given): promoted first, then the most confident, then the newest."""
    if not types:
        return []
    sql = (
        "SELECT * FROM desk_memories WHERE confidence >= ?"
        f" AND type IN ({', '.join('?' * len(types))})"
    )
    params: list[Any] = [min_confidence, *types]
    if agent_ids is not None:
        sql += f" AND agent_id IN ({', '.join('?' * len(agent_ids))})"
        params.extend(agent_ids)
    if tag is not None:
        sql += " AND EXISTS (SELECT 1 FROM json_each(tags) t WHERE upper(t.value) = upper(?))"
        params.append(tag)
    sql += " ORDER BY promoted_at IS NULL, confidence DESC, id DESC LIMIT ?"
    return [decode(row, "tags") for row in store.query(sql, [*params, limit])]  # type: ignore[misc]


def memories_by_id(store: Store, memory_ids: Sequence[int]) -> list[dict]:
    ids = list(memory_ids)
    if not ids:
        return []
    rows = store.query(
        f"SELECT * FROM desk_memories WHERE id IN ({', '.join('?' * len(ids))}) ORDER BY id", ids
    )
    return [decode(row, "tags") for row in rows]  # type: ignore[misc]


def list_memories(
    store: Store,
    *,
    agent_id: str | None = None,
    memory_type: str | None = None,
    min_confidence: float = 0.0,
    promoted: bool | None = None,
    tag: str | None = None,
    limit: int = 50,
) -> list[dict]:
    """Memories matching every filter given, newest first."""
    sql, params = "SELECT * FROM desk_memories WHERE confidence >= ?", [min_confidence]
    for column, value in (("agent_id", agent_id), ("type", memory_type)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    if promoted is not None:
        sql += " AND promoted_at IS NOT NULL" if promoted else " AND promoted_at IS NULL"
    if tag is not None:
        sql += " AND EXISTS (SELECT 1 FROM json_each(tags) t WHERE upper(t.value) = upper(?))"
        params.append(tag)
    rows = store.query(sql + " ORDER BY updated_at DESC, id DESC LIMIT ?", [*params, limit])
    return [decode(row, "tags") for row in rows]  # type: ignore[misc]


def get_memory_by_id(store: Store, memory_id: int) -> dict | None:
    return decode(store.query_one("SELECT * FROM desk_memories WHERE id = ?", (memory_id,)), "tags")


def memories_created_since(store: Store, *, since_ms: int) -> dict[str, int]:
    """``{type: count}`` of memories first written since ``since_ms``."""
    return dict(
        store.tuples(
            "SELECT type, COUNT(*) FROM desk_memories WHERE created_at >= ? GROUP BY type",
            (since_ms,),
        )
    )


def promoted_count(store: Store) -> int:
    return store.scalar("SELECT COUNT(*) FROM desk_memories WHERE promoted_at IS NOT NULL")


def count_memories(store: Store, agent_id: str) -> int:
    return store.scalar("SELECT COUNT(*) FROM desk_memories WHERE agent_id = ?", (agent_id,))


def promote_memories(
    store: Store, *, min_confidence: float, min_evidence: int, now_ms: int, limit: int
) -> list[dict]:
    """Mark confident, corroborated memories permanent; the rows promoted now."""
    rows = store.query(
        "UPDATE desk_memories SET promoted_at = ?, updated_at = ? WHERE id IN ("
        "SELECT id FROM desk_memories WHERE promoted_at IS NULL AND confidence >= ?"
        " AND evidence_count >= ? ORDER BY id LIMIT ?) RETURNING *",
        (now_ms, now_ms, min_confidence, min_evidence, limit),
    )
    return sorted((decode(row, "tags") for row in rows), key=lambda r: r["id"])  # type: ignore[arg-type,return-value]


def memory_counts(store: Store) -> dict[str, int]:
    return dict(store.tuples("SELECT type, COUNT(*) FROM desk_memories GROUP BY type"))


# -- trade outcomes ----------------------------------------------------------------------------


def insert_outcome(store: Store, values: dict[str, Any]) -> int | None:
    row = _money_in({**values, "lessons_learned": dumps(list(values["lessons_learned"]))})
    return store.insert_or_ignore("desk_trade_outcomes", row)


def _outcome(row: dict | None) -> dict | None:
    return _money_out(decode(row, "lessons_learned"), _OUTCOME_MONEY)


def outcomes_after(store: Store, after_id: int, *, limit: int = 500) -> list[dict]:
    rows = store.query(
        "SELECT * FROM desk_trade_outcomes WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
    )
    return [_outcome(row) for row in rows]  # type: ignore[misc]


def outcome_for_position(store: Store, position_id: int) -> dict | None:
    return _outcome(
        store.query_one("SELECT * FROM desk_trade_outcomes WHERE position_id = ?", (position_id,))
    )


def latest_outcome_close(store: Store) -> int | None:
    return store.scalar("SELECT MAX(closed_at) FROM desk_trade_outcomes")


def recorded_positions(store: Store, *, closed_since: int) -> set[int]:
    rows = store.tuples(
        "SELECT position_id FROM desk_trade_outcomes WHERE closed_at >= ?", (closed_since,)
    )
    return {position_id for (position_id,) in rows}


def outcomes(
    store: Store,
    *,
    signal_source: str | None = None,
    closed_since: int | None = None,
    limit: int = 1000,
) -> list[dict]:
    """The newest outcomes (of one signal source, closed since a time, when given), newest
    first."""
    sql, params = "SELECT * FROM desk_trade_outcomes WHERE 1 = 1", []
    if signal_source is not None:
        sql += " AND signal_source = ?"
        params.append(signal_source)
    if closed_since is not None:
        sql += " AND closed_at >= ?"
        params.append(closed_since)
    rows = store.query(sql + " ORDER BY closed_at DESC, id DESC LIMIT ?", [*params, limit])
    return [_outcome(row) for row in rows]  # type: ignore[misc]


# -- portfolio history -------------------------------------------------------------------------


def insert_history(store: Store, values: dict[str, Any]) -> bool:
    """Write the row of one heartbeat slot unless it exists. True when written."""
    return store.insert_or_ignore("desk_portfolio_history", _money_in(values)) is not None


def history_since(store: Store, *, since_ms: int) -> list[tuple[int, Decimal]]:
    """``(time, total_value)`` from ``since_ms`` on, ascending."""
    rows = store.tuples(
        "SELECT time, total_value FROM desk_portfolio_history WHERE time >= ? ORDER BY time",
        (since_ms,),
    )
    return [(time, Decimal(value)) for time, value in rows]


def value_at(store: Store, *, at_or_before: int) -> Decimal | None:
    value = store.scalar(
        "SELECT total_value FROM desk_portfolio_history WHERE time <= ? ORDER BY time DESC LIMIT 1",
        (at_or_before,),
    )
    return None if value is None else Decimal(value)


def latest_history(store: Store) -> dict | None:
    row = store.query_one("SELECT * FROM desk_portfolio_history ORDER BY time DESC LIMIT 1")
    return _money_out(row, ("total_value", "pnl_24h"))
