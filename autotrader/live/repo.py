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
    """Which of ``cloids`` we sent (an order or a protective trigger order)."""
    if not cloids:
        return set()
    marks = ", ".join("?" * len(cloids))
    rows = store.query(
        f"SELECT cloid FROM live_orders WHERE cloid IN ({marks})"
        f" UNION SELECT cloid FROM live_protective_orders WHERE cloid IN ({marks})",
        [*cloids, *cloids],
    )
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
    """Every client order id sent for the account (orders and protective trigger orders)."""
    rows = store.query(
        "SELECT cloid FROM live_orders WHERE account_id = ?"
        " UNION SELECT cloid FROM live_protective_orders WHERE account_id = ?",
        (account_id, account_id),
    )
    return {r["cloid"] for r in rows}


def insert_protection(
    store: Store,
    *,
    account_id: int,
    position_id: int,
    kind: str,
    cloid: str,
    exchange_oid: str | None,
    trigger_price: Decimal,
    qty: Decimal,
    status: str,
    message: str | None,
    now_ms: int,
) -> None:
    store.insert(
        "live_protective_orders",
        {
            "account_id": account_id,
            "position_id": position_id,
            "kind": kind,
            "cloid": cloid,
            "exchange_oid": exchange_oid,
            "trigger_price": to_text(trigger_price),
            "qty": to_text(qty),
            "status": status,
            "message": message,
            "created_at": now_ms,
            "updated_at": now_ms,
        },
    )


def active_protections(store: Store, position_id: int) -> list[dict]:
    """The position's trigger orders resting on the exchange (money as Decimal)."""
    rows = store.query(
        "SELECT * FROM live_protective_orders WHERE position_id = ? AND status = 'ACTIVE'"
        " ORDER BY id",
        (position_id,),
    )
    for row in rows:
        row["trigger_price"], row["qty"] = Decimal(row["trigger_price"]), Decimal(row["qty"])
    return rows


def end_protection(store: Store, protection_id: int, status: str, *, now_ms: int) -> None:
    store.execute(
        "UPDATE live_protective_orders SET status = ?, updated_at = ? WHERE id = ?",
        (status, now_ms, protection_id),
    )


def cancel_protections(store: Store, cloids: list[str], *, now_ms: int) -> None:
    """Mark the active protective orders among ``cloids`` cancelled (a halt cancelled them)."""
    if not cloids:
        return
    marks = ", ".join("?" * len(cloids))
    store.execute(
        "UPDATE live_protective_orders SET status = 'CANCELLED', updated_at = ?"
        f" WHERE status = 'ACTIVE' AND cloid IN ({marks})",
        [now_ms, *cloids],
    )


def active_protection_cloids(store: Store, account_id: int) -> set[str]:
    """The client order ids of the account's trigger orders resting as protection."""
    rows = store.query(
        "SELECT cloid FROM live_protective_orders WHERE account_id = ? AND status = 'ACTIVE'",
        (account_id,),
    )
    return {r["cloid"] for r in rows}
