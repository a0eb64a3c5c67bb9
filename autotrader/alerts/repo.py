"""The only SQL of the alerts package: the outbox, deliveries, attempts and marks."""

from __future__ import annotations

from collections.abc import Iterable

from autotrader.alerts.vocabulary import DeliveryStatus
from autotrader.core.db import Store


def get_mark(store: Store, name: str) -> str | None:
    return store.scalar("SELECT value FROM alert_marks WHERE name = ?", (name,))


def marks(store: Store, prefix: str) -> dict[str, str]:
    """Every mark whose name starts with ``prefix`` (``account:``), by name."""
    return dict(
        store.tuples(
            "SELECT name, value FROM alert_marks WHERE name >= ? AND name < ?",
            (prefix, prefix + "\uffff"),
        )
    )


def set_mark(store: Store, name: str, value: str, *, now_ms: int) -> None:
    store.upsert("alert_marks", {"name": name, "value": value, "updated_at": now_ms}, key=("name",))


def enqueue(
    store: Store,
    *,
    key: str,
    event: str,
    title: str,
    body: str,
    channels: Iterable[str],
    now_ms: int,
) -> int | None:
    """An outbox row and one pending delivery per channel, unless an event with this key is
    already queued (a second worker or a retried tick changes nothing). The new outbox id."""
    outbox_id = store.insert_or_ignore(
        "alert_outbox",
        {"key": key, "event": event, "title": title, "body": body, "created_at": now_ms},
    )
    if outbox_id is None:
        return None
    for channel in channels:
        store.insert(
            "alert_deliveries",
            {
                "outbox_id": outbox_id,
                "channel": channel,
                "status": DeliveryStatus.PENDING.value,
                "next_attempt_at": now_ms,
                "updated_at": now_ms,
            },
        )
    return outbox_id


def claim_due(store: Store, *, now_ms: int, lease_ms: int, limit: int) -> list[dict]:
    """Pending deliveries due by ``now_ms``, oldest first, leased to this worker until
    ``now_ms + lease_ms`` (a worker that dies mid-send leaves them to be retried then)."""
    claimed = store.claim(
        "alert_deliveries",
        where="status = 'pending' AND next_attempt_at <= ?",
        params=(now_ms,),
        set_values={"next_attempt_at": now_ms + lease_ms, "updated_at": now_ms},
        limit=limit,
    )
    if not claimed:
        return []
    ids = [row["outbox_id"] for row in claimed]
    marks = ", ".join("?" * len(ids))
    rows = store.query(
        f"SELECT id, event, title, body FROM alert_outbox WHERE id IN ({marks})", ids
    )
    messages = {row["id"]: row for row in rows}
    return [
        {**row, **{k: messages[row["outbox_id"]][k] for k in ("event", "title", "body")}}
        for row in claimed
    ]


def sent_since(store: Store, channel: str, since_ms: int) -> int:
    """How many messages ``channel`` was sent since ``since_ms`` (its rate-limit window)."""
    return store.scalar(
        "SELECT COUNT(*) FROM alert_deliveries WHERE channel = ? AND sent_at >= ?",
        (channel, since_ms),
    )


def record_attempt(
    store: Store,
    delivery_id: int,
    *,
    status: str,
    attempts: int,
    next_attempt_at: int,
    error: str | None,
    now_ms: int,
    attempted: bool = True,
) -> None:
    """The outcome of one delivery attempt (or a drop, ``attempted=False``), in one unit."""
    with store.atomic():
        store.execute(
            "UPDATE alert_deliveries SET status = ?, attempts = ?, next_attempt_at = ?,"
            " last_error = ?, sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END,"
            " updated_at = ? WHERE id = ?",
            (status, attempts, next_attempt_at, error, status, now_ms, now_ms, delivery_id),
        )
        if attempted:
            store.insert(
                "alert_attempts",
                {
                    "delivery_id": delivery_id,
                    "at": now_ms,
                    "ok": int(error is None),
                    "error": error,
                },
            )


def recent_deliveries(store: Store, *, limit: int) -> list[dict]:
    """The newest deliveries with their event and title, newest first."""
    return store.query(
        "SELECT d.id, d.channel, d.status, d.attempts, d.last_error, d.sent_at, d.updated_at,"
        " o.event, o.key, o.title, o.created_at FROM alert_deliveries d"
        " JOIN alert_outbox o ON o.id = d.outbox_id ORDER BY d.id DESC LIMIT ?",
        (limit,),
    )
