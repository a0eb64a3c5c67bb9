"""The deposit cap, checked against the exchange right before an order leaves.

The ``deposit_cap`` gate judges an intent against the store. This second check is the hard
stop: it runs inside :func:`autotrader.live.orders.submit` immediately before the exchange
call and reads what the exchange itself holds — open notional and resting non-reduce-only
orders — so no gate change, engine or model output can push an account past its cap.
Reduce-only orders only shrink exposure and are never capped.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from autotrader.core.money import format_money
from autotrader.live.errors import DepositCapExceeded
from autotrader.live.models import AccountSnapshot, OrderRequest


def effective_cap(account_cap: Decimal | None, global_cap: Decimal | None) -> Decimal | None:
    """The tighter of the account's cap and ``AUTOTRADER_DEPOSIT_CAP_USDC``."""
    caps = [c for c in (account_cap, global_cap) if c is not None]
    return min(caps) if caps else None


def pending_notional(open_orders: list[dict[str, Any]]) -> Decimal:
    """What resting orders that add exposure would add if they filled at their limit."""
    return sum(
        (
            Decimal(o["sz"]) * Decimal(o["limitPx"])
            for o in open_orders
            if not o.get("reduceOnly") and not o.get("isTrigger")
        ),
        Decimal(0),
    )


def enforce(
    order: OrderRequest, cap: Decimal, wallet: AccountSnapshot, open_orders: list[dict[str, Any]]
) -> None:
    """Raise :class:`DepositCapExceeded` unless held + pending + this order fits ``cap``."""
    if order.reduce_only:
        return
    total = wallet.total_notional + pending_notional(open_orders) + order.worst_notional
    if total > cap:
        raise DepositCapExceeded(
            f"open notional plus pending orders would reach {format_money(total)} USDC, "
            f"above the deposit cap of {format_money(cap)} USDC"
        )
