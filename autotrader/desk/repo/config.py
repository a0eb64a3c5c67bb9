"""SQL for what configures the desk: agents, relationships, policies, trigger rules, the reaction
matrix and each worker's breaker state."""

from __future__ import annotations

from typing import Any

from autotrader.core.db import Store
from autotrader.desk.repo import decode, dumps

# -- agents and relationships ------------------------------------------------------------------


def insert_agent(store: Store, values: dict[str, Any], *, now_ms: int) -> bool:
    """Add an agent unless it exists (an edited agent keeps its edits). True when added."""
    row = {**values, "created_at": now_ms, "updated_at": now_ms}
    return store.insert_or_ignore("desk_agents", row) is not None


def agents(store: Store) -> list[dict]:
    return store.query("SELECT * FROM desk_agents ORDER BY rowid")


def get_agent(store: Store, agent_id: str) -> dict | None:
    return store.query_one("SELECT * FROM desk_agents WHERE id = ?", (agent_id,))


def update_agent(store: Store, agent_id: str, *, now_ms: int, **values: str) -> None:
    allowed = {"role", "personality", "tone", "quirk", "voice", "directive"}
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"not agent columns: {sorted(unknown)}")
    assignments = ", ".join(f"{column} = ?" for column in values)
    store.execute(
        f"UPDATE desk_agents SET {assignments}, updated_at = ? WHERE id = ?",
        [*values.values(), now_ms, agent_id],
    )


def insert_relationship(
    store: Store, agent_a: str, agent_b: str, affinity: float, *, now_ms: int
) -> bool:
    first, second = sorted((agent_a, agent_b))
    row = {"agent_a": first, "agent_b": second, "affinity": affinity, "updated_at": now_ms}
    return store.insert_or_ignore("desk_relationships", row, returning="agent_a") is not None


def relationships_of(store: Store, agent_id: str) -> list[dict]:
    """Every pair the agent is in, the other agent as ``other``, closest first."""
    rows = store.query(
        "SELECT CASE WHEN agent_a = ? THEN agent_b ELSE agent_a END AS other, affinity,"
        " total_interactions FROM desk_relationships WHERE agent_a = ? OR agent_b = ?"
        " ORDER BY affinity DESC, other",
        (agent_id, agent_id, agent_id),
    )
    return rows


# -- policies ----------------------------------------------------------------------------------


def insert_policy(store: Store, key: str, value: dict, *, now_ms: int) -> bool:
    row = {"key": key, "value": dumps(value), "updated_at": now_ms}
    return store.insert_or_ignore("desk_policies", row, returning="key") is not None


def set_policy(store: Store, key: str, value: dict, *, now_ms: int) -> None:
    store.upsert(
        "desk_policies", {"key": key, "value": dumps(value), "updated_at": now_ms}, key=("key",)
    )


def policies(store: Store) -> dict[str, dict]:
    """Every stored policy: ``{key: value}``."""
    rows = store.query("SELECT key, value FROM desk_policies")
    return {row["key"]: decode(row, "value")["value"] for row in rows}  # type: ignore[index]


# -- trigger rules -----------------------------------------------------------------------------

_TRIGGER_JSON = ("conditions", "topics", "tags")


def insert_trigger(store: Store, values: dict[str, Any], *, now_ms: int) -> bool:
    row = {k: dumps(v) if k in _TRIGGER_JSON else v for k, v in values.items()}
    return store.insert_or_ignore("desk_trigger_rules", {**row, "updated_at": now_ms}) is not None


def triggers(store: Store, *, kind: str | None = None, enabled_only: bool = False) -> list[dict]:
    sql, params = "SELECT * FROM desk_trigger_rules WHERE 1 = 1", []
    if kind is not None:
        sql += " AND kind = ?"
        params.append(kind)
    if enabled_only:
        sql += " AND enabled = 1"
    rows = store.query(sql + " ORDER BY id", params)
    return [decode(row, *_TRIGGER_JSON) for row in rows]  # type: ignore[misc]


def get_trigger(store: Store, name: str) -> dict | None:
    row = store.query_one("SELECT * FROM desk_trigger_rules WHERE name = ?", (name,))
    return decode(row, *_TRIGGER_JSON)


def update_trigger(store: Store, trigger_id: int, *, now_ms: int, **values: Any) -> None:
    allowed = {"enabled", "cooldown_minutes", "interval_minutes", "conditions", "cursor"}
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"not trigger rule columns: {sorted(unknown)}")
    row = {k: dumps(v) if k == "conditions" else v for k, v in values.items()}
    assignments = ", ".join(f"{column} = ?" for column in row)
    store.execute(
        f"UPDATE desk_trigger_rules SET {assignments}, updated_at = ? WHERE id = ?",
        [*row.values(), now_ms, trigger_id],
    )


def record_firing(store: Store, trigger_id: int, *, cursor: int, now_ms: int) -> None:
    store.execute(
        "UPDATE desk_trigger_rules SET fire_count = fire_count + 1, last_fired_at = ?,"
        " cursor = ?, updated_at = ? WHERE id = ?",
        (now_ms, cursor, now_ms, trigger_id),
    )


# -- the reaction matrix -----------------------------------------------------------------------


def insert_pattern(store: Store, values: dict[str, Any], *, now_ms: int) -> bool:
    row = {k: dumps(v) if k == "tags" else v for k, v in values.items()}
    return (
        store.insert_or_ignore("desk_reaction_patterns", {**row, "updated_at": now_ms}) is not None
    )


def patterns(store: Store, *, enabled_only: bool = False) -> list[dict]:
    sql = "SELECT * FROM desk_reaction_patterns"
    if enabled_only:
        sql += " WHERE enabled = 1"
    return [decode(row, "tags") for row in store.query(sql + " ORDER BY id")]  # type: ignore[misc]


def get_pattern(store: Store, name: str) -> dict | None:
    row = store.query_one("SELECT * FROM desk_reaction_patterns WHERE name = ?", (name,))
    return decode(row, "tags")


def update_pattern(store: Store, pattern_id: int, *, now_ms: int, **values: Any) -> None:
    allowed = {"enabled", "probability", "cooldown_minutes"}
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"not reaction pattern columns: {sorted(unknown)}")
    assignments = ", ".join(f"{column} = ?" for column in values)
    store.execute(
        f"UPDATE desk_reaction_patterns SET {assignments}, updated_at = ? WHERE id = ?",
        [*values.values(), now_ms, pattern_id],
    )


# -- worker breakers ---------------------------------------------------------------------------


def insert_worker(store: Store, name: str, *, now_ms: int) -> bool:
    row = {"name": name, "state": "enabled", "updated_at": now_ms}
    return store.insert_or_ignore("desk_workers", row, returning="name") is not None


def workers(store: Store) -> list[dict]:
    return store.query("SELECT * FROM desk_workers ORDER BY rowid")


def get_worker(store: Store, name: str) -> dict | None:
    return store.query_one("SELECT * FROM desk_workers WHERE name = ?", (name,))


def record_worker_failure(
    store: Store, name: str, *, error: str, trip_after: int, now_ms: int
) -> dict:
    """Count one failure; disable the worker when ``trip_after`` are consecutive. Its row."""
    row = store.query_one(
        "UPDATE desk_workers SET consecutive_failures = consecutive_failures + 1,"
        " failures = failures + 1, last_error = ?, updated_at = ?,"
        " state = CASE WHEN consecutive_failures + 1 >= ? THEN 'disabled' ELSE state END,"
        " disabled_at = CASE WHEN consecutive_failures + 1 >= ? AND state = 'enabled'"
        " THEN ? ELSE disabled_at END WHERE name = ? RETURNING *",
        (error, now_ms, trip_after, trip_after, now_ms, name),
    )
    assert row is not None  # desk init writes every worker's row
    return row


def record_worker_success(store: Store, name: str, *, now_ms: int) -> None:
    store.execute(
        "UPDATE desk_workers SET consecutive_failures = 0, updated_at = ?"
        " WHERE name = ? AND consecutive_failures > 0",
        (now_ms, name),
    )


def enable_worker(store: Store, name: str, *, now_ms: int) -> None:
    store.execute(
        "UPDATE desk_workers SET state = 'enabled', consecutive_failures = 0,"
        " disabled_at = NULL, updated_at = ? WHERE name = ?",
        (now_ms, name),
    )
