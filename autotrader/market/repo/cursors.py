"""The only SQL for ingest cursors: per (source, channel, subject), the newest data point stored,
the last success and error, and row counts. ``ingest status`` and incremental fetches read them."""

from __future__ import annotations

from autotrader.core.db import Store


def cursor(store: Store, source: str, channel: str, subject: str) -> dict | None:
    return store.query_one(
        "SELECT * FROM ingest_cursors WHERE source = ? AND channel = ? AND subject = ?",
        (source, channel, subject),
    )


def record_success(
    store: Store,
    source: str,
    channel: str,
    subject: str,
    *,
    now_ms: int,
    newest_time: int | None,
    written: int,
    rejected: int = 0,
    last_rejection: str | None = None,
) -> None:
    """Advance a cursor after a successful fetch (its newest time never moves backwards)."""
    store.execute(
        """
        INSERT INTO ingest_cursors (source, channel, subject, newest_time, last_success_at,
            rows_written, rows_rejected, last_rejection)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (source, channel, subject) DO UPDATE SET
            newest_time = MAX(COALESCE(ingest_cursors.newest_time, 0),
                              COALESCE(excluded.newest_time, 0)),
            last_success_at = excluded.last_success_at,
            rows_written = ingest_cursors.rows_written + excluded.rows_written,
            rows_rejected = ingest_cursors.rows_rejected + excluded.rows_rejected,
            last_rejection = COALESCE(excluded.last_rejection, ingest_cursors.last_rejection)
        """,
        (source, channel, subject, newest_time, now_ms, written, rejected, last_rejection),
    )


def record_error(
    store: Store, source: str, channel: str, subject: str, *, now_ms: int, error: str
) -> None:
    store.execute(
        """
        INSERT INTO ingest_cursors (source, channel, subject, last_error_at, last_error)
        VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (source, channel, subject) DO UPDATE SET
            last_error_at = excluded.last_error_at, last_error = excluded.last_error
        """,
        (source, channel, subject, now_ms, error[:500]),
    )


def cursors(store: Store) -> list[dict]:
    return store.query("SELECT * FROM ingest_cursors ORDER BY source, channel, subject")
