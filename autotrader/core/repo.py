"""The only SQL for the kernel's tables: key/value metadata, worker heartbeats, tick history."""

from __future__ import annotations

from autotrader.core.db import Store


def get_meta(store: Store, key: str) -> str | None:
    return store.scalar("SELECT value FROM meta WHERE key = ?", (key,))


def set_meta(store: Store, key: str, value: str, *, now_ms: int) -> None:
    store.upsert("meta", {"key": key, "value": value, "updated_at": now_ms}, key=("key",))


# -- heartbeats and tick history ----------------------------------------------------------------


def upsert_heartbeat(
    store: Store,
    *,
    worker_id: str,
    name: str,
    pid: int,
    host: str,
    now_ms: int,
    interval_s: float,
    status: str,
    error: str | None,
    ticks: int,
    failures: int,
    consecutive_failures: int,
) -> None:
    """Insert a worker's heartbeat row or refresh it (its start time and host never change; the
    last error is kept until a newer one replaces it)."""
    store.execute(
        """
        INSERT INTO worker_heartbeats (worker_id, name, pid, host, started_at,
            last_beat_at, interval_s, last_status, last_error, ticks, failures,
            consecutive_failures)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (worker_id) DO UPDATE SET
            last_beat_at = excluded.last_beat_at,
            last_status = excluded.last_status,
            last_error = COALESCE(excluded.last_error, worker_heartbeats.last_error),
            ticks = excluded.ticks,
            failures = excluded.failures,
            consecutive_failures = excluded.consecutive_failures,
            interval_s = excluded.interval_s
        """,
        (
            worker_id,
            name,
            pid,
            host,
            now_ms,
            now_ms,
            interval_s,
            status,
            error,
            ticks,
            failures,
            consecutive_failures,
        ),
    )


def heartbeats(store: Store) -> list[dict]:
    """Every worker's heartbeat row, newest beat first."""
    return store.query("SELECT * FROM worker_heartbeats ORDER BY last_beat_at DESC, worker_id")


def insert_action_run(
    store: Store,
    *,
    name: str,
    worker_id: str,
    started_at: int,
    duration_ms: int,
    status: str,
    summary: str | None,
    error: str | None,
) -> int:
    return store.insert(
        "action_runs",
        {
            "name": name,
            "worker_id": worker_id,
            "started_at": started_at,
            "duration_ms": duration_ms,
            "status": status,
            "summary": summary,
            "error": error,
        },
    )


def last_action_runs(store: Store) -> dict[str, dict]:
    """The newest tick row of every loop name: ``{name: row}``."""
    rows = store.query(
        "SELECT a.* FROM action_runs a JOIN (SELECT name, MAX(id) AS id FROM action_runs"
        " GROUP BY name) newest ON newest.id = a.id"
    )
    return {row["name"]: row for row in rows}


def prune_history(store: Store, *, before_ms: int) -> tuple[int, int]:
    """Delete tick rows started before ``before_ms`` and heartbeats of workers that stopped
    before it; returns (tick rows pruned, heartbeats forgotten)."""
    pruned = store.execute("DELETE FROM action_runs WHERE started_at < ?", (before_ms,))
    forgotten = store.execute(
        "DELETE FROM worker_heartbeats WHERE last_status = 'stopped' AND last_beat_at < ?",
        (before_ms,),
    )
    return pruned, forgotten


# -- the catalog, for copying a store between backends -------------------------------------------


def table_columns(store: Store, table: str) -> list[str]:
    """``table``'s columns in their declared order."""
    if store.dialect == "postgres":
        return [
            name
            for (name,) in store.tuples(
                "SELECT column_name FROM information_schema.columns WHERE table_schema ="
                " current_schema() AND table_name = ? ORDER BY ordinal_position",
                (table,),
            )
        ]
    return [row[1] for row in store.tuples(f"PRAGMA table_info({table})")]


def table_parents(store: Store) -> dict[str, set[str]]:
    """Each table's parents: the other tables its foreign keys refer to."""
    if store.dialect == "postgres":
        pairs = store.tuples(
            "SELECT tc.table_name, ccu.table_name FROM information_schema.table_constraints tc"
            " JOIN information_schema.constraint_column_usage ccu"
            " ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema"
            " WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()"
        )
    else:
        pairs = store.tuples(
            'SELECT m.name, p."table" FROM sqlite_master m, pragma_foreign_key_list(m.name) p'
            " WHERE m.type = 'table'"
        )
    parents: dict[str, set[str]] = {}
    for child, parent in pairs:
        if child != parent:
            parents.setdefault(child, set()).add(parent)
    return parents


def count_rows(store: Store, table: str) -> int:
    return store.scalar(f"SELECT COUNT(*) FROM {table}")


def stream_rows(store: Store, table: str, columns: list[str]):
    """Every row of ``table`` as tuples of ``columns``, in the order of its first column."""
    return store.tuples(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1")


def clear_table(store: Store, table: str) -> None:
    store.execute(f"DELETE FROM {table}")


def insert_rows(store: Store, table: str, columns: list[str], rows: list[tuple]) -> None:
    marks = ", ".join("?" * len(columns))
    store.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
