"""SQL of payments: the references that paid something (each at most once, ever) and every
verification outcome."""

from __future__ import annotations

from decimal import Decimal

from autotrader.core.db import Store
from autotrader.core.money import to_text


def claim_reference(
    store: Store,
    *,
    reference: str,
    source: str,
    purpose: str,
    request_id: int,
    holder: str,
    sender: str | None,
    amount: Decimal,
    transfer_time: int | None,
    now_ms: int,
) -> bool:
    """Record that ``reference`` paid towards this request; False (nothing written) when it was
    claimed before, by this request or any other."""
    claimed = store.insert_or_ignore(
        "payment_references",
        {
            "reference": reference,
            "source": source,
            "purpose": str(purpose),
            "request_id": request_id,
            "holder": holder,
            "sender": sender,
            "amount": to_text(amount),
            "transfer_time": transfer_time,
            "claimed_at": now_ms,
        },
        returning="reference",
    )
    return claimed is not None


def reference(store: Store, reference: str) -> dict | None:
    return store.query_one("SELECT * FROM payment_references WHERE reference = ?", (reference,))


def references_of(store: Store, purpose: str, request_id: int) -> list[dict]:
    return store.query(
        "SELECT * FROM payment_references WHERE purpose = ? AND request_id = ?"
        " ORDER BY claimed_at, reference",
        (str(purpose), request_id),
    )


def all_references(store: Store) -> dict[str, str]:
    """Reference → the amount it brought (as stored), for the conservation check."""
    return dict(store.tuples("SELECT reference, amount FROM payment_references"))


def insert_outcome(store: Store, **values: object) -> int:
    return store.insert("payment_outcomes", values)


def outcomes(store: Store, purpose: str, request_id: int) -> list[dict]:
    return store.query(
        "SELECT * FROM payment_outcomes WHERE purpose = ? AND request_id = ? ORDER BY id",
        (str(purpose), request_id),
    )


def outcome_recorded(
    store: Store, purpose: str, request_id: int, outcome: str, reason: str
) -> bool:
    """Whether this request already has this outcome with this very reason."""
    return (
        store.scalar(
            "SELECT 1 FROM payment_outcomes WHERE purpose = ? AND request_id = ? AND outcome = ?"
            " AND reason = ? LIMIT 1",
            (str(purpose), request_id, str(outcome), reason),
        )
        is not None
    )
