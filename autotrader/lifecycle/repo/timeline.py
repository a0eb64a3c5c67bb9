"""SQL of stages and the timeline: each clone's current stage and its append-only events."""

from __future__ import annotations

from autotrader.core.db import Store


def stage(store: Store, clone_id: int) -> str | None:
    return store.scalar("SELECT stage FROM clone_stages WHERE clone_id = ?", (clone_id,))


def set_stage(store: Store, clone_id: int, stage: str, *, expected: str, now_ms: int) -> bool:
    """Move the clone from ``expected`` to ``stage``; False when it was not at ``expected``
    (another process moved it first). A clone without a row is in ``sandbox``."""
    if expected == "sandbox":
        inserted = store.insert_or_ignore(
            "clone_stages",
            {"clone_id": clone_id, "stage": stage, "updated_at": now_ms},
            returning="clone_id",
        )
        if inserted is not None:
            return True
    changed = store.execute(
        "UPDATE clone_stages SET stage = ?, updated_at = ? WHERE clone_id = ? AND stage = ?",
        (stage, now_ms, clone_id, expected),
    )
    return changed == 1


def insert_event(store: Store, **values: object) -> int:
    return store.insert("lifecycle_events", values)


def insert_events(store: Store, rows: list[dict]) -> int:
    """Append many events in one statement (every row with the same keys)."""
    if not rows:
        return 0
    columns = list(rows[0])
    return store.executemany(
        f"INSERT INTO lifecycle_events ({', '.join(columns)})"
        f" VALUES ({', '.join('?' * len(columns))})",
        [[row[c] for c in columns] for row in rows],
    )


def events(store: Store, clone_id: int) -> list[dict]:
    return store.query("SELECT * FROM lifecycle_events WHERE clone_id = ? ORDER BY id", (clone_id,))


def events_of_audition(store: Store, audition_id: int, fee_id: int) -> list[dict]:
    """Every event naming the audition or the fee that paid for it, in order."""
    return store.query(
        "SELECT * FROM lifecycle_events WHERE audition_id = ? OR fee_id = ? ORDER BY id",
        (audition_id, fee_id),
    )


def last_event(store: Store, clone_id: int, event: str) -> dict | None:
    return store.query_one(
        "SELECT * FROM lifecycle_events WHERE clone_id = ? AND event = ? ORDER BY id DESC LIMIT 1",
        (clone_id, str(event)),
    )


def events_after(store: Store, after_id: int, events: tuple[str, ...], *, limit: int) -> list[dict]:
    """Events of the given kinds recorded after ``after_id``, oldest first (the alerts' scan)."""
    return store.query(
        f"SELECT * FROM lifecycle_events WHERE id > ? AND event IN ({', '.join('?' * len(events))})"
        " ORDER BY id LIMIT ?",
        (after_id, *map(str, events), limit),
    )


def newest_event_id(store: Store) -> int:
    return int(store.scalar("SELECT COALESCE(MAX(id), 0) FROM lifecycle_events"))
