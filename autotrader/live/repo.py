"""The only SQL over the live package's tables."""

from __future__ import annotations

from decimal import Decimal

from autotrader.core.db import Store
from autotrader.core.money import to_text
from autotrader.live.models import Drift, OrderRecord

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


def known_cloids(store: Store, cloids: list[str]) -> set[str]:
    """Which of ``cloids`` we sent (a row in ``live_orders``)."""
    if not cloids:
        return set()
    marks = ", ".join("?" * len(cloids))
    rows = store.query(f"SELECT cloid FROM live_orders WHERE cloid IN ({marks})", cloids)
    return {r["cloid"] for r in rows}


def record_drift(store: Store, drift: Drift, *, froze: bool, now_ms: int) -> None:
    store.insert(
        "live_drift_events",
        {
            "venue": drift.venue,
            "kind": drift.kind.value,
            "symbol": drift.symbol,
            "exchange_value": drift.exchange_value,
            "store_value": drift.store_value,
            "detail": drift.detail,
            "froze": int(froze),
            "created_at": now_ms,
        },
    )


def drift_events(store: Store, *, venue: str | None = None, limit: int = 50) -> list[dict]:
    """The latest drift events (of ``venue``), newest first."""
    sql, params = "SELECT * FROM live_drift_events", []
    if venue is not None:
        sql, params = sql + " WHERE venue = ?", [venue]
    return store.query(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])


def account_cloids(store: Store, account_id: int) -> set[str]:
    """Every client order id sent for the account."""
    rows = store.query("SELECT cloid FROM live_orders WHERE account_id = ?", (account_id,))
    return {r["cloid"] for r in rows}
