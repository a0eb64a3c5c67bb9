"""Tables owned by the kernel: key/value metadata, worker heartbeats, tick history.

Migrations are named, ordered functions and are never edited once released: change a table by
adding a new migration below the last one.
"""

from __future__ import annotations

from autotrader.core._sqlite_utils import Database, Migrations

migrations = Migrations("core")


@migrations()
def m001_meta(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT
        """
    )


@migrations()
def m002_worker_heartbeats(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE worker_heartbeats (
            worker_id TEXT PRIMARY KEY,            -- name@host:pid
            name TEXT NOT NULL,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            started_at INTEGER NOT NULL,           -- epoch ms UTC
            last_beat_at INTEGER NOT NULL,
            interval_s REAL NOT NULL,
            last_status TEXT NOT NULL,             -- starting|ok|failed|degraded|stopped
            last_error TEXT,
            ticks INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            consecutive_failures INTEGER NOT NULL DEFAULT 0
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_worker_heartbeats_name ON worker_heartbeats (name, last_beat_at)")


@migrations()
def m003_action_runs(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE action_runs (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            worker_id TEXT NOT NULL,
            started_at INTEGER NOT NULL,
            duration_ms INTEGER NOT NULL,
            status TEXT NOT NULL,                  -- ok|failed
            summary TEXT,
            error TEXT
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_action_runs_name ON action_runs (name, started_at)")
