"""Booking a fill: the order, the fill, the position change and the ledger entries.

Always called inside the caller's ``store.atomic()`` together with the intent and its gate
results, so a trading step lands whole or not at all. The ledger books every balance change as
its own entry: a FEE for each fill, the gross price PnL of a close as REALIZED_PNL, so that
``balance == deposit + Σ entries`` and a position's fee-exact PnL is ``realized − fees``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal

from autotrader.core.db import Store
from autotrader.core.money import ZERO, quantize_step
from autotrader.market.models import AssetInfo
from autotrader.prop import pnl
from autotrader.prop import repo as prop_repo
from autotrader.prop.gates import PlannedFill
from autotrader.prop.idempotency import system_close_key
from autotrader.prop.models import AccountRules, ExitPlan, MarginMode, Side
from autotrader.prop.vocabulary import IntentOrigin


@dataclass(frozen=True)
class Booked:
    """Ids of what one fill created or changed."""

    order_id: int
    fill_id: int
    position_id: int
    closed: bool


def _order_side(fill: PlannedFill) -> str:
    return "BUY" if pnl.is_buy(fill.side, fill.is_open) else "SELL"


def liquidation_price_for(
    side: Side,
    entry: Decimal,
    qty: Decimal,
    margin: Decimal,
    asset: AssetInfo | None,
    rules: AccountRules,
    *,
    account_value: Decimal,
) -> Decimal | None:
    """Hyperliquid's liquidation price for a position; the market's max leverage sets the
    maintenance margin (the account's cap when the market publishes none)."""
    if qty <= 0:
        return None
    max_leverage = (
        asset.max_leverage if asset and asset.max_leverage else None
    ) or rules.max_leverage
    return pnl.liquidation_price(
        side,
        entry,
        qty,
        margin,
        max_leverage,
        rules.margin_mode,
        account_value=account_value if rules.margin_mode is MarginMode.CROSS else None,
    )


def exit_plan_columns(plan: ExitPlan | None) -> dict:
    if plan is None:
        return {}
    return {
        "stop": plan.stop_decimal,
        "target": plan.target_decimal,
        "invalidation": plan.invalidation,
        "invalidation_price": plan.invalidation_price_decimal,
        "time_exit": plan.time_exit_ms,
        "cooldown_until": plan.cooldown_until_ms,
    }


def book_fill(
    store: Store,
    *,
    account_id: int,
    intent_id: int,
    fill: PlannedFill,
    exit_plan: ExitPlan | None,
    asset: AssetInfo | None,
    rules: AccountRules,
    idempotency_key: str,
    now_ms: int,
    trigger: str | None = None,
    decision_run_id: int | None = None,
) -> Booked:
    """Book an accepted fill (OPEN new/add, CLOSE partial/full) and return the ids.

    Fee, margin and gross PnL are booked at the ledger's scale (``prop_repo.ledger_amount``),
    the same values in the fill, the position and the ledger.
    """
    fill = replace(
        fill,
        fee=prop_repo.ledger_amount(fill.fee),
        margin=prop_repo.ledger_amount(fill.margin),
        gross_pnl=prop_repo.ledger_amount(fill.gross_pnl),
    )
    order_id = prop_repo.insert_order(
        store,
        account_id=account_id,
        intent_id=intent_id,
        symbol=fill.symbol,
        side=_order_side(fill),
        purpose="OPEN" if fill.is_open else "CLOSE",
        qty=fill.qty,
        trigger=trigger,
        now_ms=now_ms,
    )
    current = {p["symbol"]: p for p in prop_repo.open_positions(store, account_id)}.get(fill.symbol)
    equity_hint = prop_repo.balance(store, account_id)
    if fill.is_open:
        position_id, closed = (
            _open(store, account_id, fill, current, exit_plan, asset, rules, equity_hint, now_ms),
            False,
        )
    else:
        assert current is not None, "gates accept a CLOSE only for an open position"
        liq = _liquidation_after_close(current, fill, asset, rules, equity_hint)
        closed = _close(store, current, fill, trigger, liq, asset, now_ms)
        position_id = current["id"]
    fill_id = prop_repo.insert_fill(
        store,
        account_id=account_id,
        order_id=order_id,
        position_id=position_id,
        symbol=fill.symbol,
        side=_order_side(fill),
        qty=fill.qty,
        price=fill.fill_price,
        reference_price=fill.reference_price,
        slippage_bps=fill.slippage_bps,
        notional=fill.notional,
        fee=fill.fee,
        fee_rate=fill.fee_rate,
        idempotency_key=idempotency_key,
        created_at=now_ms,
    )
    common = {
        "now_ms": now_ms,
        "symbol": fill.symbol,
        "fill_id": fill_id,
        "order_id": order_id,
        "position_id": position_id,
        "decision_run_id": decision_run_id,
    }
    if not fill.is_open and fill.gross_pnl != 0:
        prop_repo.append_entry(store, account_id, "REALIZED_PNL", fill.gross_pnl, **common)
    if fill.fee:
        prop_repo.append_entry(store, account_id, "FEE", -fill.fee, **common)
    return Booked(order_id, fill_id, position_id, closed)


def _open(
    store: Store,
    account_id: int,
    fill: PlannedFill,
    current: dict | None,
    exit_plan: ExitPlan | None,
    asset: AssetInfo | None,
    rules: AccountRules,
    account_value: Decimal,
    now_ms: int,
) -> int:
    if current is None:
        liq = liquidation_price_for(
            fill.side,
            fill.fill_price,
            fill.qty,
            fill.margin,
            asset,
            rules,
            account_value=account_value,
        )
        return prop_repo.insert_position(
            store,
            {
                "account_id": account_id,
                "symbol": fill.symbol,
                "side": fill.side.value,
                "status": "OPEN",
                "qty": fill.qty,
                "max_qty": fill.qty,
                "entry_price": fill.fill_price,
                "leverage": Decimal(fill.leverage),
                "margin": fill.margin,
                "liquidation_price": liq,
                "fees_paid": fill.fee,
                "funding_paid": ZERO,
                "realized_pnl": ZERO,
                "last_mark_price": fill.fill_price,
                "last_mark_at": now_ms,
                "funded_until": now_ms,
                "opened_at": now_ms,
                "updated_at": now_ms,
                **exit_plan_columns(exit_plan),
            },
        )
    qty = current["qty"] + fill.qty
    entry = pnl.weighted_entry(current["qty"], current["entry_price"], fill.qty, fill.fill_price)
    margin = current["margin"] + fill.margin
    liq = liquidation_price_for(
        fill.side, entry, qty, margin, asset, rules, account_value=account_value
    )
    prop_repo.update_position(
        store,
        current["id"],
        qty=qty,
        max_qty=max(qty, current["max_qty"]),
        entry_price=entry,
        leverage=(qty * entry / margin) if margin else current["leverage"],
        margin=margin,
        liquidation_price=liq,
        fees_paid=current["fees_paid"] + fill.fee,
        updated_at=now_ms,
        **exit_plan_columns(exit_plan),
    )
    return current["id"]


def on_price_tick(price: Decimal, asset: AssetInfo | None) -> Decimal:
    """``price`` rounded half-even to the market's tick (as fills are); as is without one."""
    tick = Decimal(asset.price_tick) if asset is not None and asset.price_tick else None
    return quantize_step(price, tick, rounding=ROUND_HALF_EVEN) if tick else price


def _liquidation_after_close(
    current: dict,
    fill: PlannedFill,
    asset: AssetInfo | None,
    rules: AccountRules,
    account_value: Decimal,
) -> Decimal | None:
    """The liquidation price of what a (partial) close leaves open; None once closed."""
    remaining = current["qty"] - fill.qty
    if fill.closes_position or remaining <= 0:
        return None
    return liquidation_price_for(
        Side(current["side"]),
        current["entry_price"],
        remaining,
        current["margin"] - fill.margin,
        asset,
        rules,
        account_value=account_value,
    )


def _close(
    store: Store,
    current: dict,
    fill: PlannedFill,
    trigger: str | None,
    liquidation_price: Decimal | None,
    asset: AssetInfo | None,
    now_ms: int,
) -> bool:
    remaining = current["qty"] - fill.qty
    # The exit price is the average of every closing fill, partial closes before adds included,
    # on the market's price tick like every price stored (the fills keep the exact amounts).
    fills = [*prop_repo.closing_fills(store, current["id"]), (fill.qty, fill.fill_price)]
    average = sum((q * p for q, p in fills), ZERO) / sum((q for q, _ in fills), ZERO)
    exit_price = on_price_tick(average, asset)
    closed = fill.closes_position or remaining <= 0
    values: dict = {
        "qty": ZERO if closed else remaining,
        "margin": ZERO if closed else current["margin"] - fill.margin,
        "liquidation_price": liquidation_price,
        "realized_pnl": current["realized_pnl"] + fill.gross_pnl,
        "fees_paid": current["fees_paid"] + fill.fee,
        "exit_price": exit_price,
        "updated_at": now_ms,
    }
    if closed:
        values |= {"status": "CLOSED", "closed_at": now_ms, "close_trigger": trigger or "MANUAL"}
    prop_repo.update_position(store, current["id"], **values)
    return closed


def plan_full_close(
    position: dict,
    reference: Decimal,
    rules: AccountRules,
    precision,
    *,
    slippage_bps: Decimal,
) -> PlannedFill:
    """The fill that closes ``position`` whole at ``reference`` (moved by slippage against the
    trader, then rounded to the market's price precision), taker fee."""
    side = Side(position["side"])
    price = precision.price(
        position["symbol"], pnl.fill_price(reference, side, False, slippage_bps)
    )
    qty = position["qty"]
    notional = pnl.notional(qty, price)
    return PlannedFill(
        symbol=position["symbol"],
        side=side,
        is_open=False,
        qty=qty,
        reference_price=reference,
        fill_price=price,
        notional=notional,
        fee_rate=rules.taker_fee,
        fee=pnl.fee(notional, rules.taker_fee),
        slippage_bps=slippage_bps,
        margin=position["margin"],
        leverage=max(1, int(position["leverage"])),
        closes_position=True,
        gross_pnl=pnl.gross_pnl(side, qty, position["entry_price"], price),
    )


def book_system_close(
    store: Store,
    *,
    account: dict,
    position: dict,
    fill: PlannedFill,
    origin: IntentOrigin,
    code: str,
    reason: str,
    trigger: str,
    now_ms: int,
) -> Booked:
    """Book a close the system decided (a trigger, an admin): its own intent row with the reason
    in place of gate results, so every fill still traces back to exactly one intent."""
    from autotrader.prop.models import Action, TradeIntent

    key = system_close_key(origin, position["id"], trigger)
    intent = TradeIntent(action=Action.CLOSE, symbol=position["symbol"], hypothesis=reason[:120])
    intent_id = prop_repo.insert_intent(
        store,
        account_id=account["id"],
        origin=origin,
        decision_run_id=None,
        symbol=position["symbol"],
        action="CLOSE",
        payload=intent.model_dump(mode="json"),
        accepted=True,
        reject_code=None,
        gate_results=[{"gate": origin, "code": code, "passed": True, "reason": reason}],
        idempotency_key=key,
        now_ms=now_ms,
    )
    return book_fill(
        store,
        account_id=account["id"],
        intent_id=intent_id,
        fill=fill,
        exit_plan=None,
        asset=None,
        rules=account["rules"],
        idempotency_key=key,
        now_ms=now_ms,
        trigger=trigger,
    )
