"""Graceful shutdown: cancel what an account left resting that does not protect a position.

Entry and exit orders are IOC, so normally nothing of theirs rests; whatever does (an order
sent before a crash, a future order type) must not fill while no process watches the account.
The stops and targets resting as protection stay: a stopped agent leaves its positions guarded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from autotrader.core.db import Store
from autotrader.live import repo as live_repo

if TYPE_CHECKING:
    from autotrader.live.client import HyperliquidTrader


def cancel_unprotective(
    store: Store, trader: HyperliquidTrader, account_ids: list[int]
) -> list[str]:
    """Cancel the accounts' resting orders that are not active protection; their cloids."""
    ours: set[str] = set()
    guarding: set[str] = set()
    for account_id in account_ids:
        ours |= live_repo.account_cloids(store, account_id)
        guarding |= live_repo.active_protection_cloids(store, account_id)
    cancelled = []
    for order in trader.open_orders():
        cloid = order.get("cloid")
        if cloid not in ours or cloid in guarding:
            continue  # not ours (reconciliation's business), or guarding a position
        if trader.cancel(order["coin"], str(order["oid"])):
            cancelled.append(cloid)
    return cancelled
