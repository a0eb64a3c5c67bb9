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
