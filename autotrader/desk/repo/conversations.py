"""SQL for the desk's conversations: roundtable formats, roundtables and their turns, the
relationships they move and the drift log, and the memory influence log."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from autotrader.core.db import Store
from autotrader.desk.repo import decode, dumps

_FORMAT_JSON = ("participants", "pool", "days", "conditions")
_TURN_JSON = ("memory_candidates", "action_items")

# -- formats -----------------------------------------------------------------------------------


def insert_format(store: Store, values: dict[str, Any], *, now_ms: int) -> bool:
    """Add a format unless it exists (an edited format keeps its edits). True when added."""
    row = {k: dumps(v) if k in _FORMAT_JSON else v for k, v in values.items()}
    added = store.insert_or_ignore(
        "desk_roundtable_formats", {**row, "updated_at": now_ms}, returning="format"
    )
    return added is not None


def formats(store: Store) -> list[dict]:
    rows = store.query("SELECT * FROM desk_roundtable_formats ORDER BY rowid")
    return [decode(row, *_FORMAT_JSON) for row in rows]  # type: ignore[misc]


def get_format(store: Store, name: str) -> dict | None:
    row = store.query_one("SELECT * FROM desk_roundtable_formats WHERE format = ?", (name,))
    return decode(row, *_FORMAT_JSON)


# -- roundtables -------------------------------------------------------------------------------


def insert_roundtable(store: Store, values: dict[str, Any]) -> int | None:
    """Queue a roundtable; None when its schedule slot already has one."""
    row = {**values, "participants": dumps(list(values["participants"]))}
    return store.insert_or_ignore("desk_roundtables", row)


def get_roundtable(store: Store, roundtable_id: int) -> dict | None:
    row = store.query_one("SELECT * FROM desk_roundtables WHERE id = ?", (roundtable_id,))
    return decode(row, "participants")


def list_roundtables(
    store: Store, *, status: str | None = None, format: str | None = None, limit: int = 50
) -> list[dict]:
    sql, params = "SELECT * FROM desk_roundtables WHERE 1 = 1", []
    for column, value in (("status", status), ("format", format)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    rows = store.query(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
    return [decode(row, "participants") for row in rows]  # type: ignore[misc]


def slot_taken(store: Store, slot: str) -> bool:
    found = store.scalar("SELECT 1 FROM desk_roundtables WHERE slot = ?", (slot,))
    return found is not None


def roundtables_since(store: Store, *, since_ms: int) -> int:
    """Roundtables queued since ``since_ms``, whatever became of them (the daily cap)."""
    return store.scalar("SELECT COUNT(*) FROM desk_roundtables WHERE created_at >= ?", (since_ms,))


def claim_roundtable(
    store: Store, *, worker_id: str, now_ms: int, roundtable_id: int | None = None
) -> dict | None:
    """Claim the oldest queued roundtable (or that one) for ``worker_id``; the claimed row."""
    where, params = "status = 'queued'", []
    if roundtable_id is not None:
        where += " AND id = ?"
        params.append(roundtable_id)
    rows = store.claim(
        "desk_roundtables",
        where=where,
        params=params,
        set_values={"status": "running", "claimed_by": worker_id, "started_at": now_ms},
    )
    return decode(rows[0], "participants") if rows else None


def plan_roundtable(store: Store, roundtable_id: int, *, turns: int, temperature: float) -> None:
    store.execute(
        "UPDATE desk_roundtables SET turns_planned = ?, temperature = ? WHERE id = ?",
        (turns, temperature, roundtable_id),
    )


def holds(store: Store, roundtable_id: int, worker_id: str) -> bool:
    """Whether ``worker_id`` still holds the roundtable (the heartbeat fails stale ones)."""
    found = store.scalar(
        "SELECT 1 FROM desk_roundtables WHERE id = ? AND status = 'running' AND claimed_by = ?",
        (roundtable_id, worker_id),
    )
    return found is not None


def finish_roundtable(
    store: Store,
    roundtable_id: int,
    *,
    worker_id: str,
    status: str,
    now_ms: int,
    summary: str | None = None,
    error: str | None = None,
) -> bool:
    """Record how a held roundtable ended; False when ``worker_id`` no longer held it."""
    changed = store.execute(
        "UPDATE desk_roundtables SET status = ?, summary = ?, error = ?, finished_at = ?"
        " WHERE id = ? AND status = 'running' AND claimed_by = ?",
        (status, summary, error, now_ms, roundtable_id, worker_id),
    )
    return changed == 1


def fail_stale_roundtables(
    store: Store, *, queued_before: int, running_before: int, now_ms: int, limit: int
) -> list[dict]:
    """Roundtables nobody started (or finished) in time → failed."""
    return store.query(
        "UPDATE desk_roundtables SET status = 'failed', finished_at = ?,"
        " error = CASE status WHEN 'queued' THEN 'stale: no roundtable took it up in time'"
        " ELSE 'stale: the conversation stopped' END"
        " WHERE id IN (SELECT id FROM desk_roundtables WHERE (status = 'queued'"
        " AND created_at < ?) OR (status = 'running' AND started_at < ?) ORDER BY id LIMIT ?)"
        " RETURNING *",
        (now_ms, queued_before, running_before, limit),
    )


def roundtable_claimants(store: Store) -> list[str]:
    """The worker ids holding running roundtables."""
    return [
        worker
        for (worker,) in store.tuples(
            "SELECT DISTINCT claimed_by FROM desk_roundtables"
            " WHERE status = 'running' AND claimed_by IS NOT NULL"
        )
    ]


def fail_roundtables_of(store: Store, worker_ids: Iterable[str], *, now_ms: int) -> list[dict]:
    """Running roundtables of ``worker_ids`` (workers known to be gone) → failed: nobody will
    say their remaining turns."""
    ids = sorted(worker_ids)
    if not ids:
        return []
    return store.query(
        "UPDATE desk_roundtables SET status = 'failed', finished_at = ?,"
        " error = 'stale: its worker is gone'"
        f" WHERE status = 'running' AND claimed_by IN ({', '.join('?' * len(ids))}) RETURNING *",
        (now_ms, *ids),
    )


def roundtable_counts(store: Store) -> dict[str, int]:
    return dict(store.tuples("SELECT status, COUNT(*) FROM desk_roundtables GROUP BY status"))


def roundtables_by_day(store: Store, *, since_ms: int, day_ms: int) -> list[tuple[int, str, int]]:
    """``(day start, status, count)`` of roundtables queued since ``since_ms``, by UTC day."""
    return list(
        store.tuples(
            "SELECT created_at - created_at % ? AS day, status, COUNT(*) FROM desk_roundtables"
            " WHERE created_at >= ? GROUP BY day, status ORDER BY day, status",
            (day_ms, since_ms),
        )
    )


def stale_roundtables_since(store: Store, *, since_ms: int) -> int:
    """Roundtables the heartbeat failed as stale since ``since_ms``."""
    return store.scalar(
        "SELECT COUNT(*) FROM desk_roundtables WHERE status = 'failed' AND finished_at >= ?"
        " AND error LIKE 'stale:%'",
        (since_ms,),
    )


# -- turns -------------------------------------------------------------------------------------


def insert_turn(store: Store, values: dict[str, Any]) -> int:
    row = {k: dumps(v) if k in _TURN_JSON else v for k, v in values.items()}
    return store.insert("desk_roundtable_turns", row)


def turns(store: Store, roundtable_id: int) -> list[dict]:
    rows = store.query(
        "SELECT * FROM desk_roundtable_turns WHERE roundtable_id = ? ORDER BY seq",
        (roundtable_id,),
    )
    return [decode(row, *_TURN_JSON) for row in rows]  # type: ignore[misc]


def record_turn_results(
    store: Store, turn_id: int, *, memory_candidates: list[dict], action_items: list[dict]
) -> None:
    """What became of a turn's memory candidates and action items (each with its verdict)."""
    store.execute(
        "UPDATE desk_roundtable_turns SET memory_candidates = ?, action_items = ? WHERE id = ?",
        (dumps(memory_candidates), dumps(action_items), turn_id),
    )


def turn_counts_since(store: Store, *, since_ms: int) -> dict[str, int]:
    """``{status: count}`` of turns taken since ``since_ms``."""
    return dict(
        store.tuples(
            "SELECT status, COUNT(*) FROM desk_roundtable_turns WHERE created_at >= ?"
            " GROUP BY status",
            (since_ms,),
        )
    )


# -- relationships and drift -------------------------------------------------------------------


def relationships(store: Store) -> list[dict]:
    return store.query("SELECT * FROM desk_relationships ORDER BY agent_a, agent_b")


def affinities(store: Store) -> dict[tuple[str, str], float]:
    """``{(agent_a, agent_b): affinity}`` of every pair (ids in order)."""
    rows = store.tuples("SELECT agent_a, agent_b, affinity FROM desk_relationships")
    return {(a, b): affinity for a, b, affinity in rows}


def update_relationship(
    store: Store, pair: tuple[str, str], *, affinity: float, interactions: int, now_ms: int
) -> None:
    store.execute(
        "UPDATE desk_relationships SET affinity = ?,"
        " total_interactions = total_interactions + ?, updated_at = ?"
        " WHERE agent_a = ? AND agent_b = ?",
        (affinity, interactions, now_ms, *pair),
    )


def insert_drift(store: Store, values: dict[str, Any]) -> int:
    return store.insert("desk_relationship_drift", values)


def drift_log(
    store: Store,
    *,
    since_ms: int | None = None,
    roundtable_id: int | None = None,
    pair: tuple[str, str] | None = None,
    limit: int = 1000,
) -> list[dict]:
    """Drift entries (since a time, of a roundtable, of a pair), newest first."""
    sql, params = "SELECT * FROM desk_relationship_drift WHERE 1 = 1", []
    if pair is not None:
        sql += " AND agent_a = ? AND agent_b = ?"
        params.extend(pair)
    if since_ms is not None:
        sql += " AND created_at >= ?"
        params.append(since_ms)
    if roundtable_id is not None:
        sql += " AND roundtable_id = ?"
        params.append(roundtable_id)
    return store.query(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])


# -- memory influence --------------------------------------------------------------------------


def insert_influence(store: Store, values: dict[str, Any]) -> int:
    return store.insert(
        "desk_memory_influences", {**values, "memory_ids": dumps(list(values["memory_ids"]))}
    )


def influences(
    store: Store,
    *,
    roundtable_id: int | None = None,
    proposal_id: int | None = None,
    memory_id: int | None = None,
    limit: int = 100,
) -> list[dict]:
    """Influence records about a roundtable, a proposal or one memory, newest first."""
    sql, params = "SELECT * FROM desk_memory_influences WHERE 1 = 1", []
    for column, value in (("roundtable_id", roundtable_id), ("proposal_id", proposal_id)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    if memory_id is not None:
        sql += " AND EXISTS (SELECT 1 FROM json_each(memory_ids) m WHERE m.value = ?)"
        params.append(memory_id)
    rows = store.query(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
    return [decode(row, "memory_ids") for row in rows]  # type: ignore[misc]


def influence_counts_since(store: Store, *, since_ms: int) -> dict[str, tuple[int, int]]:
    """``{decision: (decisions, influenced)}`` since ``since_ms``."""
    rows = store.tuples(
        "SELECT decision, COUNT(*), SUM(influenced) FROM desk_memory_influences"
        " WHERE created_at >= ? GROUP BY decision",
        (since_ms,),
    )
    return {decision: (n, influenced or 0) for decision, n, influenced in rows}
