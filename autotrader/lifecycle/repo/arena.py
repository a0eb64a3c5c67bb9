"""SQL of the promotion queue and the arena's slots."""

from __future__ import annotations

from autotrader.core.db import Store


def enqueue(store: Store, *, clone_id: int, audition_id: int, score: float, now_ms: int) -> int:
    return store.insert(
        "promotion_queue",
        {
            "clone_id": clone_id,
            "audition_id": audition_id,
            "score": score,
            "queued_at": now_ms,
            "status": "waiting",
        },
    )


def waiting(store: Store) -> list[dict]:
    """The queue in admission order: best score first, then the earliest."""
    return store.query(
        "SELECT id, clone_id, audition_id, score, queued_at, deferral FROM promotion_queue"
        " WHERE status = 'waiting' ORDER BY score DESC, queued_at, id"
    )


def queue_entry(store: Store, clone_id: int) -> dict | None:
    """The clone's newest queue entry, whatever its status."""
    return store.query_one(
        "SELECT * FROM promotion_queue WHERE clone_id = ? ORDER BY id DESC LIMIT 1", (clone_id,)
    )


def defer_many(store: Store, deferrals: list[tuple[int, str]], *, now_ms: int) -> int:
    """Record why each ``(entry id, reason)`` could not enter, in one statement."""
    return store.executemany(
        "UPDATE promotion_queue SET deferral = ?, deferred_at = ? WHERE id = ?",
        [(why, now_ms, entry_id) for entry_id, why in deferrals],
    )


def leave_queue(store: Store, entry_id: int, status: str, *, now_ms: int) -> bool:
    return (
        store.execute(
            "UPDATE promotion_queue SET status = ?, left_at = ? WHERE id = ?"
            " AND status = 'waiting'",
            (status, now_ms, entry_id),
        )
        == 1
    )


def active_count(store: Store) -> int:
    return int(store.scalar("SELECT COUNT(*) FROM arena_slots WHERE status = 'active'"))


def admit(store: Store, *, clone_id: int, queue_id: int, actor: str, now_ms: int) -> int:
    return store.insert(
        "arena_slots",
        {
            "clone_id": clone_id,
            "queue_id": queue_id,
            "status": "active",
            "admitted_at": now_ms,
            "admitted_by": actor,
        },
    )


def active_slot(store: Store, clone_id: int) -> dict | None:
    return store.query_one(
        "SELECT * FROM arena_slots WHERE clone_id = ? AND status = 'active'", (clone_id,)
    )


def end_slot(
    store: Store, slot_id: int, status: str, *, actor: str, reason: str, now_ms: int
) -> bool:
    return (
        store.execute(
            "UPDATE arena_slots SET status = ?, ended_at = ?, ended_by = ?, reason = ?"
            " WHERE id = ? AND status = 'active'",
            (status, now_ms, actor, reason, slot_id),
        )
        == 1
    )


def slots(store: Store, *, status: str | None = None) -> list[dict]:
    sql, params = "SELECT * FROM arena_slots", []
    if status is not None:
        sql += " WHERE status = ?"
        params.append(status)
    return store.query(sql + " ORDER BY id", params)


def slot_history(store: Store, clone_id: int) -> list[dict]:
    return store.query("SELECT * FROM arena_slots WHERE clone_id = ? ORDER BY id", (clone_id,))
