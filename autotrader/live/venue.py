"""The live venue: prop's accepted fills executed on Hyperliquid, answered with the real fill.

:class:`LiveVenue` implements prop's ``ExecutionVenue``. The gates have already accepted the
intent and planned its fill; this sends that fill as an IOC limit order at the planned price
(the reference moved by the account's slippage: the worst price it accepts) and rebuilds the
fill from what the exchange did — quantity and average price from its fills, fees as charged,
a partial fill booked as it is. A refusal, a halt, the deposit cap or an order that found no
liquidity is a failed ``venue`` result: a rejected intent, recorded, never retried.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from autotrader.core.db import Store
from autotrader.core.money import format_money, to_text
from autotrader.live import protection
from autotrader.live import repo as live_repo
from autotrader.live.cap import effective_cap
from autotrader.live.errors import DepositCapExceeded, ExchangeRefusal, LiveHalted
from autotrader.live.models import Execution, OrderRecord, OrderRequest
from autotrader.live.orders import client_order_id, submit
from autotrader.live.vocabulary import OrderOutcome, OrderPurpose
from autotrader.prop import pnl
from autotrader.prop import repo as prop_repo
from autotrader.prop.gate_types import GateResult, PlannedFill
from autotrader.prop.venue import VENUE_GATE, VenueOutcome
from autotrader.prop.vocabulary import Venue

if TYPE_CHECKING:
    from autotrader.live.client import HyperliquidTrader


class LiveVenue:
    """Hyperliquid execution for every live account of one store.

    ``traders`` builds (or returns) the trading client of a venue; ``halted`` says whether a
    halt is in force; ``global_cap`` is ``AUTOTRADER_DEPOSIT_CAP_USDC``.
    """

    def __init__(
        self,
        store: Store,
        traders: Callable[[Venue], HyperliquidTrader],
        *,
        global_cap: Decimal | None,
        halted: Callable[[], bool],
    ) -> None:
        self.store = store
        self.traders = traders
        self.global_cap = global_cap
        self.halted = halted

    def execute(
        self, account: dict, fill: PlannedFill, *, idempotency_key: str | None, now_ms: int
    ) -> VenueOutcome:
        venue = Venue(account["venue"])
        cap = effective_cap(account.get("deposit_cap"), self.global_cap)
        buy = pnl.is_buy(fill.side, fill.is_open)
        order = OrderRequest(
            account_id=account["id"],
            symbol=fill.symbol,
            side="buy" if buy else "sell",
            qty=fill.qty,
            limit_price=fill.fill_price,
            reduce_only=not fill.is_open,
            purpose=OrderPurpose.ENTRY if fill.is_open else OrderPurpose.EXIT,
            cloid=client_order_id(account["id"], idempotency_key),
            idempotency_key=idempotency_key,
        )
        if venue.is_real and cap is None and fill.is_open:
            missing = "a real-money account trades only under a deposit cap"
            return self._blocked(order, venue, now_ms, "deposit_cap_missing", missing)
        try:
            execution = submit(self.traders(venue), order, cap=cap, halted=self.halted)
        except LiveHalted as exc:
            return self._blocked(order, venue, now_ms, "live_halted", str(exc))
        except DepositCapExceeded as exc:
            return self._blocked(order, venue, now_ms, "deposit_cap_exceeded", str(exc))
        except ExchangeRefusal as exc:
            execution = Execution(None, refusal=exc.message)
        self._record(order, venue, execution, now_ms)
        if execution.refusal is not None:
            return _refused("exchange_rejected", f"{venue} refused the order: {execution.refusal}")
        if not execution.fills:
            return _refused("exchange_unfilled", f"nothing filled at {to_text(order.limit_price)}")
        booked = executed_fill(self.store, account["id"], fill, execution)
        reason = (
            f"{venue} filled {to_text(booked.qty)} of {to_text(fill.qty)} {fill.symbol} at "
            f"{to_text(booked.fill_price)}, fee {format_money(booked.fee, places=6)}"
        )
        return VenueOutcome(GateResult(VENUE_GATE, VENUE_GATE, True, reason), booked)

    def protect(self, account: dict, position_id: int, *, now_ms: int) -> None:
        protection.sync(self.store, self.traders(Venue(account["venue"])), position_id, now_ms)

    def _blocked(
        self, order: OrderRequest, venue: Venue, now_ms: int, code: str, message: str
    ) -> VenueOutcome:
        self._record(order, venue, Execution(None, refusal=message), now_ms, blocked=True)
        return _refused(code, message)

    def _record(
        self,
        order: OrderRequest,
        venue: Venue,
        execution: Execution,
        now_ms: int,
        *,
        blocked: bool = False,
    ) -> None:
        live_repo.record_order(
            self.store, order_record(order, venue, execution, now_ms, blocked=blocked)
        )


def executed_fill(
    store: Store, account_id: int, planned: PlannedFill, done: Execution
) -> PlannedFill:
    """The planned fill re-priced by what the exchange did (qty, average price, fees)."""
    qty, price = done.filled_qty, done.avg_price
    assert price is not None
    notional = pnl.notional(qty, price)
    if planned.is_open:
        margin, gross, closes = pnl.initial_margin(notional, planned.leverage), Decimal(0), False
    else:
        position = {p["symbol"]: p for p in prop_repo.open_positions(store, account_id)}[
            planned.symbol
        ]
        margin = position["margin"] * qty / position["qty"]
        gross = pnl.gross_pnl(planned.side, qty, position["entry_price"], price)
        closes = qty == position["qty"]
    return replace(
        planned,
        qty=qty,
        fill_price=price,
        notional=notional,
        fee=done.fee,
        fee_rate=done.fee / notional if notional else planned.fee_rate,
        margin=margin,
        gross_pnl=gross,
        closes_position=closes,
    )


def order_record(
    order: OrderRequest,
    venue: Venue,
    execution: Execution,
    now_ms: int,
    *,
    blocked: bool = False,
) -> OrderRecord:
    """The ``live_orders`` row of one order and what became of it."""
    return OrderRecord(
        cloid=order.cloid,
        account_id=order.account_id,
        venue=venue.value,
        symbol=order.symbol,
        purpose=order.purpose,
        side=order.side,
        qty=order.qty,
        limit_price=order.limit_price,
        reduce_only=order.reduce_only,
        outcome=_outcome(order, execution, blocked),
        exchange_oid=execution.exchange_oid,
        filled_qty=execution.filled_qty,
        avg_price=execution.avg_price,
        fee=execution.fee,
        message=execution.refusal,
        idempotency_key=order.idempotency_key,
        created_at=now_ms,
    )


def _outcome(order: OrderRequest, execution: Execution, blocked: bool) -> OrderOutcome:
    if blocked:
        return OrderOutcome.BLOCKED
    if execution.refusal is not None:
        return OrderOutcome.REFUSED
    if not execution.fills:
        return OrderOutcome.UNFILLED
    return OrderOutcome.FILLED if execution.filled_qty >= order.qty else OrderOutcome.PARTIAL


def _refused(code: str, reason: str) -> VenueOutcome:
    return VenueOutcome(GateResult(VENUE_GATE, code, False, reason), None)
