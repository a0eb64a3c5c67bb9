"""Sending one order: halt check, the hard deposit cap, then the exchange — resolved by cloid.

:func:`submit` is the only way an order that can add exposure reaches an exchange. It first
asks the exchange for the client order id: an order whose answer was lost earlier (a timeout
after the exchange accepted it, a crash before our transaction committed) is found there and
adopted, never sent twice. Only an order the exchange has never seen is checked against the
halt and the cap and sent.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from autotrader.core.errors import TemporaryError
from autotrader.live import cap as deposit_cap
from autotrader.live.errors import LiveHalted, SubmitUncertain
from autotrader.live.models import Execution, OrderRequest

if TYPE_CHECKING:
    from autotrader.live.client import HyperliquidTrader


def client_order_id(account_id: int, idempotency_key: str | None) -> str:
    """Hyperliquid's ``cloid`` (0x + 32 hex digits): the same for the same account and key, so a
    retried intent finds its order; random when there is no key (nothing retries it)."""
    if idempotency_key is None:
        return "0x" + uuid.uuid4().hex
    digest = hashlib.sha256(f"autotrader:{account_id}:{idempotency_key}".encode()).hexdigest()
    return "0x" + digest[:32]


def submit(
    trader: HyperliquidTrader,
    order: OrderRequest,
    *,
    cap: Decimal | None,
    halted: Callable[[], bool],
) -> Execution:
    """The exchange's execution of ``order`` (found by cloid, or sent now).

    Raises :class:`LiveHalted`, :class:`DepositCapExceeded`, :class:`ExchangeRefusal`, or
    ``TemporaryError`` when an answer was lost and the exchange does not show the order yet
    (a retry with the same key resolves it).
    """
    earlier = trader.find(order.symbol, order.cloid)
    if earlier is not None:
        return earlier
    if halted():
        raise LiveHalted("live trading is halted: no order was sent")
    if cap is not None:
        # The hard stop: what the exchange holds, read now, right before the order leaves.
        deposit_cap.enforce(order, cap, trader.snapshot(), trader.open_orders())
    try:
        return trader.place(order)
    except SubmitUncertain as exc:
        found = trader.find(order.symbol, order.cloid)
        if found is not None:
            return found
        raise TemporaryError(
            f"order {order.cloid} was sent and its answer lost ({exc}); it is not on the "
            "exchange yet — a retry with the same key looks it up again, it is never resent blind"
        ) from exc
