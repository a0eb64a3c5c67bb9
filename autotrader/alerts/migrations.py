"""Tables of the alerts: the outbox (one row per event), deliveries (one per event and
channel) with their attempts log, and the marks the event scan keeps between ticks.

Migrations are never edited once released: add a new one below the last."""

from __future__ import annotations

from autotrader.core._sqlite_utils import Database, Migrations
from autotrader.core.migrations import extend_check_values

migrations = Migrations("alerts")


@migrations()
def m001_outbox(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE alert_outbox (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,              -- the event's identity (fill:12, ...)
            event TEXT NOT NULL CHECK (event IN ('fill', 'exit.stop', 'exit.target', 'exit.time',
                'exit.liquidation', 'account.frozen', 'account.liquidated', 'worker.degraded',
                'worker.stale', 'test')),
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            created_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE alert_deliveries (
            id INTEGER PRIMARY KEY,
            outbox_id INTEGER NOT NULL REFERENCES alert_outbox (id),
            channel TEXT NOT NULL,                 -- json#1, tgram#2: never the URL (a secret)
            status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'dropped')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,      -- also the lease of the worker sending it
            last_error TEXT,
            sent_at INTEGER,
            updated_at INTEGER NOT NULL,
            UNIQUE (outbox_id, channel)
        ) STRICT
        """
    )
    db.execute(
        "CREATE INDEX idx_alert_deliveries_due ON alert_deliveries (status, next_attempt_at)"
    )
    db.execute("CREATE INDEX idx_alert_deliveries_sent ON alert_deliveries (channel, sent_at)")
    db.execute(
        """
        CREATE TABLE alert_attempts (
            id INTEGER PRIMARY KEY,
            delivery_id INTEGER NOT NULL REFERENCES alert_deliveries (id),
            at INTEGER NOT NULL,
            ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
            error TEXT
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE alert_marks (
            name TEXT PRIMARY KEY,                 -- fills (the last id seen), worker:ID, ...
            value TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT
        """
    )


@migrations()
def m002_audition_and_race_events(db: Database) -> None:
    extend_check_values(db, "alert_outbox", "event", "audition.passed", "audition.failed",
                        "race.settled")  # fmt: skip
