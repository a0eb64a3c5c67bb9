"""SQL for the desk's event stream: agent events, the reaction queue, and the cursors readers keep
in it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from autotrader.core.db import Store
from autotrader.desk.repo import decode, dumps

# -- events ------------------------------------------------------------------------------------


def insert_event(store: Store, values: dict[str, Any]) -> int:
    return store.insert("desk_events", {**values, "tags": dumps(list(values["tags"]))})


def insert_events(store: Store, rows: Sequence[dict[str, Any]]) -> int:
    """Many events in one statement (a backlog: the bench builds 10,000)."""
    if not rows:
        return 0
    columns = list(rows[0])
    return store.executemany(
        f"INSERT INTO desk_events ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [[dumps(list(r[c])) if c == "tags" else r[c] for c in columns] for r in rows],
    )


def events_after(store: Store, after_id: int, *, limit: int) -> list[dict]:
    rows = store.query(
        "SELECT * FROM desk_events WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
    )
    return [decode(row, "tags") for row in rows]  # type: ignore[misc]


def get_event(store: Store, event_id: int) -> dict | None:
    return decode(store.query_one("SELECT * FROM desk_events WHERE id = ?", (event_id,)), "tags")


def list_events(
    store: Store,
    *,
    agent_id: str | None = None,
    kind: str | None = None,
    mission_id: int | None = None,
    limit: int = 50,
) -> list[dict]:
    sql, params = "SELECT * FROM desk_events WHERE 1 = 1", []
    for column, value in (("agent_id", agent_id), ("kind", kind), ("mission_id", mission_id)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    rows = store.query(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
    return [decode(row, "tags") for row in rows]  # type: ignore[misc]


def latest_event_time(store: Store, *, agent_id: str, kind: str) -> int | None:
    return store.scalar(
        "SELECT MAX(created_at) FROM desk_events WHERE agent_id = ? AND kind = ?",
        (agent_id, kind),
    )


def count_events(store: Store, *, agent_id: str, kind: str, since_ms: int) -> int:
    return store.scalar(
        "SELECT COUNT(*) FROM desk_events WHERE agent_id = ? AND kind = ? AND created_at >= ?",
        (agent_id, kind, since_ms),
    )


def event_exists(store: Store, *, kind: str, position_id: int) -> bool:
    found = store.scalar(
        "SELECT 1 FROM desk_events WHERE kind = ? AND position_id = ? LIMIT 1", (kind, position_id)
    )
    return found is not None


def events_since(store: Store, *, since_ms: int) -> int:
    return store.scalar("SELECT COUNT(*) FROM desk_events WHERE created_at >= ?", (since_ms,))


# -- reactions and cursors ---------------------------------------------------------------------


def insert_reaction(store: Store, values: dict[str, Any]) -> int | None:
    """Queue a reaction unless this pattern already reacted to this event."""
    return store.insert_or_ignore("desk_reactions", values)


def last_reaction_times(store: Store) -> dict[int, int]:
    """Pattern id → the event time of its newest reaction (for cooldowns)."""
    return dict(
        store.tuples("SELECT pattern_id, MAX(event_time) FROM desk_reactions GROUP BY pattern_id")
    )


def queued_reactions(store: Store, *, after_id: int, limit: int) -> list[dict]:
    return store.query(
        "SELECT r.*, p.step_kind, p.name AS pattern FROM desk_reactions r"
        " JOIN desk_reaction_patterns p ON p.id = r.pattern_id"
        " WHERE r.status = 'queued' AND r.id > ? ORDER BY r.id LIMIT ?",
        (after_id, limit),
    )


def mark_reaction_processed(
    store: Store, reaction_id: int, *, proposal_id: int | None, now_ms: int
) -> None:
    store.execute(
        "UPDATE desk_reactions SET status = 'processed', proposal_id = ?, processed_at = ?"
        " WHERE id = ?",
        (proposal_id, now_ms, reaction_id),
    )


def get_cursor(store: Store, name: str) -> int:
    return store.scalar("SELECT position FROM desk_cursors WHERE name = ?", (name,), default=0)


def set_cursor(store: Store, name: str, position: int, *, now_ms: int) -> None:
    store.upsert(
        "desk_cursors", {"name": name, "position": position, "updated_at": now_ms}, key=("name",)
    )
