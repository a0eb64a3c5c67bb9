"""SQL of audition fees."""

from __future__ import annotations

from decimal import Decimal

from autotrader.core.db import Store
from autotrader.core.money import to_text


def _decode(row: dict | None) -> dict | None:
    if row is not None:
        row["amount"] = Decimal(row["amount"])
    return row


def insert_fee(
    store: Store,
    *,
    clone_id: int,
    owner: str,
    payer_address: str | None,
    amount: Decimal,
    reference: str,
    now_ms: int,
    expires_at: int,
) -> int:
    return store.insert(
        "audition_fees",
        {
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


def get_fee(store: Store, fee_id: int) -> dict | None:
    return _decode(store.query_one("SELECT * FROM audition_fees WHERE id = ?", (fee_id,)))


def list_fees(
    store: Store, *, clone_id: int | None = None, status: str | None = None
) -> list[dict]:
    sql, params = "SELECT * FROM audition_fees WHERE 1 = 1", []
    for column, value in (("clone_id", clone_id), ("status", status)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    return [_decode(r) for r in store.query(sql + " ORDER BY id", params)]  # type: ignore[misc]


def pending_fees(store: Store) -> list[dict]:
    return list_fees(store, status="pending")


def mark_verified(
    store: Store,
    fee_id: int,
    *,
    verifier: str,
    actor: str,
    transfer_reference: str | None,
    note: str | None,
    now_ms: int,
) -> bool:
    """pending|expired → verified; False when it already was verified (nothing changed)."""
    return (
        store.execute(
            "UPDATE audition_fees SET status = 'verified', verified_at = ?, verifier = ?,"
            " verified_by = ?, transfer_reference = ?, note = ? WHERE id = ?"
            " AND status != 'verified'",
            (now_ms, verifier, actor, transfer_reference, note, fee_id),
        )
        == 1
    )


def mark_expired(store: Store, fee_id: int, *, now_ms: int) -> bool:
    return (
        store.execute(
            "UPDATE audition_fees SET status = 'expired', expired_at = ? WHERE id = ?"
            " AND status = 'pending'",
            (now_ms, fee_id),
        )
        == 1
    )


def unused_verified_fee(store: Store, clone_id: int) -> dict | None:
    """The clone's oldest verified fee no audition has used yet."""
    return _decode(
        store.query_one(
            "SELECT f.* FROM audition_fees f WHERE f.clone_id = ? AND f.status = 'verified'"
            " AND NOT EXISTS (SELECT 1 FROM auditions a WHERE a.fee_id = f.id) ORDER BY f.id"
            " LIMIT 1",
            (clone_id,),
        )
    )


def fee_is_used(store: Store, fee_id: int) -> bool:
    return store.scalar("SELECT 1 FROM auditions WHERE fee_id = ?", (fee_id,)) is not None
