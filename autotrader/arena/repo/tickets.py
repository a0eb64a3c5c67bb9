"""SQL of tickets."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from autotrader.core.db import Store
from autotrader.core.money import to_text


def _decode(row: dict | None) -> dict | None:
    if row is not None:
        row["amount"] = Decimal(row["amount"])
    return row


def insert_ticket(
    store: Store,
    *,
    race_id: int,
    clone_id: int,
    owner: str,
    payer_address: str | None,
    amount: Decimal,
    reference: str,
    now_ms: int,
    expires_at: int,
) -> int:
    return store.insert(
        "arena_tickets",
        {
            "race_id": race_id,
            "clone_id": clone_id,
            "owner": owner,
            "payer_address": payer_address,
            "amount": to_text(amount),
            "reference": reference,
            "status": "pending",
            "created_at": now_ms,
            "expires_at": expires_at,
        },
    )


def get_ticket(store: Store, ticket_id: int) -> dict | None:
    return _decode(store.query_one("SELECT * FROM arena_tickets WHERE id = ?", (ticket_id,)))


def list_tickets(
    store: Store,
    *,
    race_id: int | None = None,
    owner: str | None = None,
    status: str | None = None,
    limit: int | None = None,
) -> list[dict]:
    sql, params = "SELECT * FROM arena_tickets WHERE 1 = 1", []
    for column, value in (("race_id", race_id), ("owner", owner), ("status", status)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    sql += " ORDER BY id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [_decode(r) for r in store.query(sql, params)]  # type: ignore[misc]


def pending(store: Store) -> list[dict]:
    return list_tickets(store, status="pending")


def paid_stakes(store: Store, race_id: int) -> Iterator[tuple[int, str, int, str]]:
    """``(ticket id, owner, clone id, amount as stored)`` of every paid ticket of the race, in
    id order (streamed: a race may hold a hundred thousand)."""
    return store.tuples(
        "SELECT id, owner, clone_id, amount FROM arena_tickets WHERE race_id = ?"
        " AND status = 'paid' ORDER BY id",
        (race_id,),
    )


def paid_on(store: Store, race_id: int, clone_id: int | None = None) -> list[dict]:
    """Paid tickets of the race (on one entrant)."""
    sql, params = "SELECT * FROM arena_tickets WHERE race_id = ? AND status = 'paid'", [race_id]
    if clone_id is not None:
        sql += " AND clone_id = ?"
        params.append(clone_id)
    return [_decode(r) for r in store.query(sql + " ORDER BY id", params)]  # type: ignore[misc]


def mark_paid(
    store: Store,
    ticket_id: int,
    *,
    verifier: str,
    actor: str,
    transfer_reference: str | None,
    note: str | None,
    now_ms: int,
) -> bool:
    return (
        store.execute(
            "UPDATE arena_tickets SET status = 'paid', paid_at = ?, verifier = ?,"
            " verified_by = ?, transfer_reference = ?, note = ? WHERE id = ?"
            " AND status = 'pending'",
            (now_ms, verifier, actor, transfer_reference, note, ticket_id),
        )
        == 1
    )


def expire(store: Store, ticket_ids: list[int], *, reason: str, now_ms: int) -> int:
    """pending → expired, with why; how many."""
    return store.executemany(
        "UPDATE arena_tickets SET status = 'expired', expired_at = ?, reason = ? WHERE id = ?"
        " AND status = 'pending'",
        [(now_ms, reason, ticket_id) for ticket_id in ticket_ids],
    )


def expire_pending_of_race(store: Store, race_id: int, *, reason: str, now_ms: int) -> int:
    return store.execute(
        "UPDATE arena_tickets SET status = 'expired', expired_at = ?, reason = ?"
        " WHERE race_id = ? AND status = 'pending'",
        (now_ms, reason, race_id),
    )


def mark_refunded(store: Store, ticket_ids: list[int], *, reason: str, now_ms: int) -> int:
    return store.executemany(
        "UPDATE arena_tickets SET status = 'refunded', refunded_at = ?, reason = ? WHERE id = ?"
        " AND status = 'paid'",
        [(now_ms, reason, ticket_id) for ticket_id in ticket_ids],
    )


def pools(store: Store, race_id: int) -> list[tuple[int, str, str]]:
    """``(clone id, status, amount as stored)`` of every ticket of the race, for the totals a
    race's page shows (summed as Decimals by the caller)."""
    return list(
        store.tuples(
            "SELECT clone_id, status, amount FROM arena_tickets WHERE race_id = ?", (race_id,)
        )
    )


def paid_totals(store: Store) -> Iterator[tuple[int, str]]:
    """``(race id, amount as stored)`` of every paid or refunded ticket, for the conservation
    check (what was paid into each race's pool, whatever became of it)."""
    return store.tuples(
        "SELECT race_id, amount FROM arena_tickets WHERE status IN ('paid', 'refunded')"
    )
