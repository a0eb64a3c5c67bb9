"""The only SQL over the live package's tables."""

from __future__ import annotations

from decimal import Decimal

from autotrader.core.db import Store
from autotrader.core.money import to_text
from autotrader.live.models import OrderRecord

_MONEY = ("qty", "limit_price", "filled_qty", "avg_price", "fee")


def record_order(store: Store, order: OrderRecord) -> None:
    """Store what became of one order (a retry that resolved the same cloid updates its row)."""
    values = {
        "cloid": order.cloid,
        "account_id": order.account_id,
        "venue": order.venue,
        "symbol": order.symbol,
        "purpose": order.purpose.value,
        "side": order.side,
        "qty": to_text(order.qty),
        "limit_price": to_text(order.limit_price),
        "reduce_only": int(order.reduce_only),
        "outcome": order.outcome.value,
        "exchange_oid": order.exchange_oid,
        "filled_qty": to_text(order.filled_qty),
        "avg_price": to_text(order.avg_price) if order.avg_price is not None else None,
        "fee": to_text(order.fee),
        "message": order.message,
        "idempotency_key": order.idempotency_key,
        "created_at": order.created_at,
    }
    store.upsert(
        "live_orders",
        values,
        key=["cloid"],
        update=["outcome", "exchange_oid", "filled_qty", "avg_price", "fee", "message"],
    )


def orders(store: Store, account_id: int, *, limit: int = 50) -> list[dict]:
    """The account's latest orders, newest first (money as Decimal)."""
    rows = store.query(
        "SELECT * FROM live_orders WHERE account_id = ? ORDER BY id DESC LIMIT ?",
        (account_id, limit),
    )
    for row in rows:
        for key in _MONEY:
            if row[key] is not None:
                row[key] = Decimal(row[key])
    return rows
