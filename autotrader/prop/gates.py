"""Safety gates: the deterministic, final authority over every intent. Pure: no I/O, no clock.

:func:`evaluate_intent` runs the gates for the intent's action in a fixed order and stops at the
first failure. Each evaluated gate leaves a :class:`GateResult` (``gate``, ``code``, ``passed``,
``reason``); gates after a failure are not evaluated and leave nothing. A passing result's code is
the gate's name; a failing result's code says why. Codes are stable strings: store them, count
them, never parse the reasons.

========================  ===================================================================
gate (= code on pass)     failure codes
========================  ===================================================================
*every action but HOLD*
account_active            account_not_active
symbol_tradable           unknown_symbol, symbol_inactive, symbol_not_allowed (OPEN only)
one_action_per_symbol     duplicate_symbol_action
position_open             (CLOSE, UPDATE_EXIT_PLAN: see below, checked before the price)
price_fresh               no_price, stale_price, future_price
*OPEN*
side_given                missing_side
confidence                below_min_confidence (``min_confidence``; a missing one is below)
size                      qty_below_step, below_min_notional, no_price (fill rounds to 0)
leverage                  leverage_above_account_max, leverage_above_market_max
position_notional         position_notional_above_max
deposit_cap               deposit_cap_exceeded
no_flip                   opposite_position_open
open_positions            max_open_positions
daily_trades              max_daily_trades
margin                    insufficient_margin
stop_required             missing_stop (else ``default_stop_pct`` applies a stop, said so)
exit_plan_sides           stop_wrong_side, target_wrong_side, invalidation_wrong_side,
                          time_exit_past, stop_beyond_liquidation (OPEN)
risk_at_stop              position_risk_above_max, portfolio_risk_above_max (loss at the
                          stop, no stop: the margin, against ``max_position_risk`` and
                          ``max_portfolio_risk`` × equity)
cooldown                  cooldown_active
*CLOSE*
position_open             no_open_position, position_closing, side_mismatch
close_size                close_qty_above_position, qty_below_step
*UPDATE_EXIT_PLAN*
position_open             no_open_position, position_closing, side_mismatch
stop_required             missing_stop
exit_plan_sides           stop_wrong_side, target_wrong_side, invalidation_wrong_side,
                          time_exit_past
*HOLD*
hold                      (never fails; no fill)
========================  ===================================================================

An accepted OPEN or CLOSE carries a :class:`PlannedFill` with every number the fill step books
(quantized qty, fill price, notional, fee, margin, gross PnL), so nothing is recomputed there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from autotrader.core.clock import iso_utc
from autotrader.core.money import format_money, to_text
from autotrader.prop import pnl
from autotrader.prop.gate_types import (  # noqa: F401 - re-exported: the gates' API
    AccountView,
    GateContext,
    GateDecision,
    GateResult,
    PlannedFill,
    PositionView,
    Precision,
    StepPrecision,
)
from autotrader.prop.limits import (
    default_stop,
    free_margin,
    market_max_leverage,
    portfolio_risk,
    position_risk,
    risk_at_stop,
)
from autotrader.prop.models import (
    AccountStatus,
    Action,
    ExitPlan,
    MarginMode,
    Side,
)

_ZERO = Decimal(0)


@dataclass(slots=True)
class _Work:
    """What earlier gates computed for later ones (and for the PlannedFill)."""

    side: Side | None = None
    position: PositionView | None = None
    qty: Decimal = _ZERO
    fill_price: Decimal = _ZERO
    notional: Decimal = _ZERO
    fee: Decimal = _ZERO
    margin: Decimal = _ZERO
    stop: Decimal | None = None  # the stop the position will have (an OPEN's risk is to it)
    default_stop: Decimal | None = None  # applied by the rules to an OPEN without a stop


Gate = Callable[[GateContext, _Work], GateResult]


def evaluate_intent(ctx: GateContext) -> GateDecision:
    """Run the gates for ``ctx.intent`` in order, stopping at the first failure.

    Deterministic and pure: the same context always gives the same decision. Never raises for
    a validated intent and a consistent context.
    """
    action = ctx.intent.action
    if action is Action.HOLD:
        return GateDecision((_ok("hold", "HOLD changes nothing"),))
    work = _Work()
    results: list[GateResult] = []
    for gate in _PIPELINES[action]:
        result = gate(ctx, work)
        results.append(result)
        if not result.passed:
            return GateDecision(tuple(results))
    fill = _planned_fill(ctx, work) if action in (Action.OPEN, Action.CLOSE) else None
    return GateDecision(tuple(results), fill)


def _ok(gate: str, reason: str) -> GateResult:
    return GateResult(gate=gate, code=gate, passed=True, reason=reason)


def _fail(gate: str, code: str, reason: str) -> GateResult:
    return GateResult(gate=gate, code=code, passed=False, reason=reason)


def _t(value: Decimal) -> str:
    return to_text(value)


def _usd(value: Decimal) -> str:
    """A USD amount for a reason line: cents, thousands grouped (the math stays exact)."""
    return format_money(value)


# -- gates for every action ----------------------------------------------------------------------


def _account_active(ctx: GateContext, w: _Work) -> GateResult:
    status = ctx.account.status
    if status is not AccountStatus.ACTIVE:
        return _fail("account_active", "account_not_active", f"account is {status}, not active")
    return _ok("account_active", "account is active")


def _symbol_tradable(ctx: GateContext, w: _Work) -> GateResult:
    symbol, asset = ctx.intent.symbol, ctx.asset
    gate = "symbol_tradable"
    if asset is None or asset.symbol != symbol:
        return _fail(gate, "unknown_symbol", f"{symbol} is not in the market registry")
    if not asset.active:
        return _fail(gate, "symbol_inactive", f"{symbol} is not tradable (market inactive)")
    # Closing or re-planning a position must stay possible after a symbol leaves the list.
    if ctx.intent.action is Action.OPEN and not ctx.account.rules.allows(symbol):
        return _fail(gate, "symbol_not_allowed", f"{symbol} is not in this account's symbols")
    return _ok(gate, f"{symbol} is known and tradable")


def _one_action_per_symbol(ctx: GateContext, w: _Work) -> GateResult:
    gate, symbol = "one_action_per_symbol", ctx.intent.symbol
    if symbol in ctx.symbols_already_acted:
        return _fail(gate, "duplicate_symbol_action", f"{symbol} already has an action")
    return _ok(gate, f"first action on {symbol} in this decision")


def _price_fresh(ctx: GateContext, w: _Work) -> GateResult:
    gate, price, at = "price_fresh", ctx.reference_price, ctx.price_time_ms
    if price is None or at is None or not price.is_finite() or price <= 0:
        return _fail(gate, "no_price", f"no usable price for {ctx.intent.symbol}")
    if at > ctx.now_ms:
        # A price from the future would be look-ahead in a replay.
        return _fail(gate, "future_price", f"price time {iso_utc(at)} is after now")
    limit_ms = ctx.account.rules.max_price_age_s * 1000
    if ctx.now_ms - at > limit_ms:
        age = (ctx.now_ms - at) // 1000
        return _fail(gate, "stale_price", f"price is {age}s old, limit {limit_ms // 1000}s")
    return _ok(gate, f"price {_t(price)} from {iso_utc(at)}")


# -- OPEN ----------------------------------------------------------------------------------------


def _confidence(ctx: GateContext, w: _Work) -> GateResult:
    gate, minimum = "confidence", ctx.account.rules.min_confidence
    if minimum is None:
        return _ok(gate, "no minimum confidence")
    given = ctx.intent.confidence
    if given is None:
        return _fail(gate, "below_min_confidence", f"no confidence given, min {_t(minimum)}")
    # The model's float, read as the decimal it prints as: 0.6 is 0.6, not 0.59999...
    if Decimal(repr(given)) < minimum:
        return _fail(gate, "below_min_confidence", f"confidence {given} is below {_t(minimum)}")
    return _ok(gate, f"confidence {given} at or above {_t(minimum)}")


def _side_given(ctx: GateContext, w: _Work) -> GateResult:
    if ctx.intent.side is None:
        return _fail("side_given", "missing_side", "OPEN needs side LONG or SHORT")
    w.side = ctx.intent.side
    w.position = ctx.account.positions.get(ctx.intent.symbol)
    return _ok("side_given", f"side {w.side}")


def _size(ctx: GateContext, w: _Work) -> GateResult:
    gate, intent, asset = "size", ctx.intent, ctx.asset
    assert w.side is not None
    assert asset is not None
    assert ctx.reference_price is not None
    rules = ctx.account.rules
    raw_fill = pnl.fill_price(ctx.reference_price, w.side, True, rules.slippage_bps)
    w.fill_price = ctx.precision.price(asset.symbol, raw_fill)
    if w.fill_price <= 0:
        return _fail(gate, "no_price", f"fill price {_t(raw_fill)} rounds to zero")
    wanted = intent.qty_decimal
    if wanted is None:
        # notional_usd buys what it can at the fill price; truncation keeps it at or below.
        wanted = intent.notional_decimal / w.fill_price  # type: ignore[operator]
    w.qty = ctx.precision.amount(asset.symbol, wanted)
    if w.qty <= 0:
        return _fail(gate, "qty_below_step", f"size {_t(wanted)} is below one amount step")
    w.notional = pnl.notional(w.qty, w.fill_price)
    minimum = Decimal(asset.min_notional) if asset.min_notional else _ZERO
    if w.notional < minimum:
        return _fail(
            gate,
            "below_min_notional",
            f"order value {_usd(w.notional)} is below the minimum {_usd(minimum)}",
        )
    w.fee = pnl.fee(w.notional, rules.taker_fee)
    w.margin = pnl.initial_margin(w.notional, intent.leverage)
    return _ok(gate, f"qty {_t(w.qty)} at {_t(w.fill_price)}, value {_usd(w.notional)}")


def _leverage(ctx: GateContext, w: _Work) -> GateResult:
    gate, lev = "leverage", ctx.intent.leverage
    account_max = ctx.account.rules.max_leverage
    if lev > account_max:
        return _fail(
            gate, "leverage_above_account_max", f"{lev}x exceeds account max {account_max}x"
        )
    market_max = market_max_leverage(ctx.asset)
    if market_max is not None and lev > market_max:
        return _fail(gate, "leverage_above_market_max", f"{lev}x exceeds market max {market_max}x")
    return _ok(gate, f"{lev}x within limits")


def _position_notional(ctx: GateContext, w: _Work) -> GateResult:
    gate, limit = "position_notional", ctx.account.rules.max_position_notional
    same_side = w.position if w.position is not None and w.position.side is w.side else None
    existing_qty = same_side.qty if same_side is not None else _ZERO
    # The existing part is valued at today's fill price: the cap is on exposure, not history.
    total = pnl.notional(existing_qty + w.qty, w.fill_price)
    if total > limit:
        return _fail(
            gate,
            "position_notional_above_max",
            f"position value {_usd(total)} would exceed the max {_usd(limit)}",
        )
    return _ok(gate, f"position value {_usd(total)} within {_usd(limit)}")


def _deposit_cap(ctx: GateContext, w: _Work) -> GateResult:
    gate, cap = "deposit_cap", ctx.account.deposit_cap
    if cap is None:
        return _ok(gate, "no deposit cap")
    # Exposure, not margin: leverage must not let a live account hold more than its cap.
    total = ctx.account.open_notional + pnl.notional(w.qty, w.fill_price)
    if total > cap:
        return _fail(
            gate,
            "deposit_cap_exceeded",
            f"open notional {_usd(total)} would exceed the deposit cap {_usd(cap)}",
        )
    return _ok(gate, f"open notional {_usd(total)} within the deposit cap {_usd(cap)}")


def _no_flip(ctx: GateContext, w: _Work) -> GateResult:
    if w.position is not None and w.position.side is not w.side:
        return _fail(
            "no_flip",
            "opposite_position_open",
            f"a {w.position.side} {ctx.intent.symbol} position is open: CLOSE it first",
        )
    return _ok("no_flip", "no opposite position")


def _open_positions(ctx: GateContext, w: _Work) -> GateResult:
    gate, limit = "open_positions", ctx.account.rules.max_open_positions
    count = len(ctx.account.positions)
    if w.position is None and count + 1 > limit:
        return _fail(gate, "max_open_positions", f"{count} positions open, max {limit}")
    return _ok(gate, f"{count} open positions, max {limit}")


def _daily_trades(ctx: GateContext, w: _Work) -> GateResult:
    gate, limit = "daily_trades", ctx.account.rules.max_daily_trades
    count = ctx.account.trades_today
    if count >= limit:
        return _fail(gate, "max_daily_trades", f"{count} trades today, max {limit}")
    return _ok(gate, f"{count} trades today, max {limit}")


def _margin(ctx: GateContext, w: _Work) -> GateResult:
    account = ctx.account
    free = free_margin(account)
    needed = pnl.required_margin(w.margin, w.notional, account.rules.taker_fee)
    if free < needed:
        return _fail(
            "margin", "insufficient_margin", f"needs {_usd(needed)}, {_usd(free)} available"
        )
    return _ok("margin", f"needs {_usd(needed)}, {_usd(free)} available")


def _stop_required(ctx: GateContext, w: _Work) -> GateResult:
    plan, rules = ctx.intent.exit_plan, ctx.account.rules
    if plan is None and ctx.intent.action is Action.OPEN and w.position is not None:
        plan = w.position.exit_plan  # adding to a position keeps its plan
    w.stop = plan.stop_decimal if plan is not None else None
    if rules.require_stop and w.stop is None:
        return _fail("stop_required", "missing_stop", "this account requires a stop")
    pct = rules.default_stop_pct
    if w.stop is None and pct is not None and ctx.intent.action is Action.OPEN:
        assert w.side is not None
        assert ctx.asset is not None
        w.stop = w.default_stop = ctx.precision.price(
            ctx.asset.symbol, default_stop(w.side, w.fill_price, pct)
        )
        return _ok("stop_required", f"default stop {_t(w.stop)} applied ({_t(pct)} from the fill)")
    return _ok("stop_required", "stop present or not required")


def _exit_plan_sides(ctx: GateContext, w: _Work) -> GateResult:
    gate, plan, side = "exit_plan_sides", ctx.intent.exit_plan, w.side
    if plan is None and w.default_stop is not None:
        plan = ExitPlan(stop=_t(w.default_stop))  # a default stop must not outlive liquidation
    if plan is None:
        return _ok(gate, "no new exit plan")
    assert side is not None
    # OPEN checks against its fill price, UPDATE_EXIT_PLAN against the current price.
    price = w.fill_price if ctx.intent.action is Action.OPEN else ctx.reference_price
    assert price is not None
    stop, target = plan.stop_decimal, plan.target_decimal
    if stop is not None and side.sign * (price - stop) <= 0:
        where = "below" if side is Side.LONG else "above"
        return _fail(gate, "stop_wrong_side", f"a {side} stop must be {where} {_t(price)}")
    if target is not None and side.sign * (target - price) <= 0:
        where = "above" if side is Side.LONG else "below"
        return _fail(gate, "target_wrong_side", f"a {side} target must be {where} {_t(price)}")
    invalidation = plan.invalidation_price_decimal
    # Mark-to-market closes the position once a bar closes at or beyond this level: on the
    # wrong side of the price it would close the position at the first mark.
    if invalidation is not None and side.sign * (price - invalidation) <= 0:
        where = "below" if side is Side.LONG else "above"
        return _fail(
            gate,
            "invalidation_wrong_side",
            f"a {side} invalidation_price must be {where} {_t(price)}",
        )
    time_exit = plan.time_exit_ms
    if time_exit is not None and time_exit <= ctx.now_ms:
        return _fail(gate, "time_exit_past", f"time_exit {plan.time_exit} is not in the future")
    liquidation = _liquidation_after_open(ctx, w) if ctx.intent.action is Action.OPEN else None
    if stop is not None and liquidation is not None and side.sign * (stop - liquidation) <= 0:
        return _fail(
            gate,
            "stop_beyond_liquidation",
            f"the stop {_t(stop)} is at or beyond the liquidation price {_t(liquidation)}: "
            "the position would be liquidated before it stops out",
        )
    return _ok(gate, "exit plan levels on the right side")


def _liquidation_after_open(ctx: GateContext, w: _Work) -> Decimal | None:
    """Hyperliquid's liquidation price of the position this OPEN leaves (added to an existing
    same-side position when there is one)."""
    assert w.side is not None
    qty, entry, margin = w.qty, w.fill_price, w.margin
    if w.position is not None:
        entry = pnl.weighted_entry(w.position.qty, w.position.entry_price, qty, entry)
        qty, margin = qty + w.position.qty, margin + w.position.margin
    rules = ctx.account.rules
    max_leverage = market_max_leverage(ctx.asset) or rules.max_leverage
    return pnl.liquidation_price(
        w.side,
        entry,
        qty,
        margin,
        max_leverage,
        rules.margin_mode,
        account_value=ctx.account.equity if rules.margin_mode is MarginMode.CROSS else None,
    )


def _risk_at_stop(ctx: GateContext, w: _Work) -> GateResult:
    """This OPEN's loss at its stop (no stop: its margin), added to the position's and to every
    open position's, as fractions of equity."""
    gate, rules, account = "risk_at_stop", ctx.account.rules, ctx.account
    if rules.max_position_risk is None and rules.max_portfolio_risk is None:
        return _ok(gate, "no risk limits")
    assert w.side is not None
    added = risk_at_stop(w.side, w.qty, w.fill_price, w.stop, w.margin)
    equity = max(account.equity, _ZERO)
    same_side = w.position if w.position is not None and w.position.side is w.side else None
    held = position_risk(same_side) if same_side is not None else _ZERO
    if rules.max_position_risk is not None and held + added > rules.max_position_risk * equity:
        return _fail(
            gate,
            "position_risk_above_max",
            f"the position would lose {_usd(held + added)} at its stop, max "
            f"{_usd(rules.max_position_risk * equity)} ({_t(rules.max_position_risk)} of equity)",
        )
    total = portfolio_risk(account) + added
    if rules.max_portfolio_risk is not None and total > rules.max_portfolio_risk * equity:
        return _fail(
            gate,
            "portfolio_risk_above_max",
            f"open positions would lose {_usd(total)} at their stops, max "
            f"{_usd(rules.max_portfolio_risk * equity)} ({_t(rules.max_portfolio_risk)} of equity)",
        )
    return _ok(gate, f"{_usd(added)} at risk to the stop, {_usd(total)} across positions")


def _cooldown(ctx: GateContext, w: _Work) -> GateResult:
    until = ctx.account.cooldowns.get(ctx.intent.symbol)
    if until is not None and ctx.now_ms < until:
        return _fail("cooldown", "cooldown_active", f"no new OPEN before {iso_utc(until)}")
    return _ok("cooldown", "no cooldown")


# -- CLOSE and UPDATE_EXIT_PLAN ------------------------------------------------------------------


def _position_open(ctx: GateContext, w: _Work) -> GateResult:
    gate, symbol = "position_open", ctx.intent.symbol
    position = ctx.account.positions.get(symbol)
    if position is None or position.qty <= 0:
        return _fail(gate, "no_open_position", f"no open {symbol} position")
    if position.closing:
        return _fail(gate, "position_closing", f"the {symbol} position is already closing")
    if ctx.intent.side is not None and ctx.intent.side is not position.side:
        return _fail(
            gate,
            "side_mismatch",
            f"the open {symbol} position is {position.side}, not {ctx.intent.side}",
        )
    w.position, w.side = position, position.side
    return _ok(gate, f"{position.side} {_t(position.qty)} {symbol} open")


def _close_size(ctx: GateContext, w: _Work) -> GateResult:
    gate, position, asset = "close_size", w.position, ctx.asset
    assert position is not None
    assert asset is not None
    assert ctx.reference_price is not None
    wanted = ctx.intent.qty_decimal
    if wanted is None:
        w.qty = position.qty  # a full close takes the booked qty as is, never re-rounded
    else:
        if wanted > position.qty:
            return _fail(
                gate,
                "close_qty_above_position",
                f"close qty {_t(wanted)} exceeds the position's {_t(position.qty)}",
            )
        w.qty = ctx.precision.amount(asset.symbol, wanted)
        if w.qty <= 0:
            return _fail(gate, "qty_below_step", f"close qty {_t(wanted)} is below one step")
    rules = ctx.account.rules
    raw = pnl.fill_price(ctx.reference_price, position.side, False, rules.slippage_bps)
    w.fill_price = ctx.precision.price(asset.symbol, raw)
    w.notional = pnl.notional(w.qty, w.fill_price)
    w.fee = pnl.fee(w.notional, rules.taker_fee)
    full = w.qty == position.qty
    w.margin = position.margin if full else position.margin * w.qty / position.qty
    return _ok(gate, f"close {_t(w.qty)} of {_t(position.qty)} at {_t(w.fill_price)}")


def _planned_fill(ctx: GateContext, w: _Work) -> PlannedFill:
    assert w.side is not None
    assert ctx.reference_price is not None
    is_open = ctx.intent.action is Action.OPEN
    position = w.position
    rules = ctx.account.rules
    closes = not is_open and position is not None and w.qty == position.qty
    gross = (
        pnl.gross_pnl(w.side, w.qty, position.entry_price, w.fill_price)
        if not is_open and position is not None
        else _ZERO
    )
    return PlannedFill(
        symbol=ctx.intent.symbol,
        side=w.side,
        is_open=is_open,
        qty=w.qty,
        reference_price=ctx.reference_price,
        fill_price=w.fill_price,
        notional=w.notional,
        fee_rate=rules.taker_fee,
        fee=w.fee,
        slippage_bps=rules.slippage_bps,
        margin=w.margin,
        leverage=ctx.intent.leverage if is_open else (position.leverage if position else 1),
        adds_to_position=is_open and position is not None,
        closes_position=closes,
        gross_pnl=gross,
        default_stop=w.default_stop,
    )


_COMMON: tuple[Gate, ...] = (
    _account_active,
    _symbol_tradable,
    _one_action_per_symbol,
    _price_fresh,
)
_PIPELINES: dict[Action, tuple[Gate, ...]] = {
    Action.OPEN: (
        *_COMMON,
        _side_given,
        _confidence,
        _size,
        _leverage,
        _position_notional,
        _deposit_cap,
        _no_flip,
        _open_positions,
        _daily_trades,
        _margin,
        _stop_required,
        _exit_plan_sides,
        _risk_at_stop,
        _cooldown,
    ),
    # Whether there is a position to act on is said before anything about its price.
    Action.CLOSE: (*_COMMON[:-1], _position_open, _price_fresh, _close_size),
    Action.UPDATE_EXIT_PLAN: (
        *_COMMON[:-1],
        _position_open,
        _price_fresh,
        _stop_required,
        _exit_plan_sides,
    ),
}
GATE_ORDER: dict[Action, tuple[str, ...]] = {
    action: tuple(g.__name__.lstrip("_") for g in gates) for action, gates in _PIPELINES.items()
}
