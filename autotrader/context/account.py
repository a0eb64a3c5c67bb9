"""The prop account as a decision's context sees it: balance, equity, margin, drawdown, open
positions with their exit plans and marks, recent fills and rejections, and what the gates still
allow for the decided symbol — all as of the clock, Decimals as canonical text.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from autotrader.context.render import fmt_decimal
from autotrader.core.clock import iso_utc
from autotrader.core.db import Store
from autotrader.core.money import to_text
from autotrader.market import repo as market_repo
from autotrader.prop import repo as prop_repo
from autotrader.prop.accounts import account_state
from autotrader.prop.execution import MarketSnapshot, account_view
from autotrader.prop.limits import symbol_limits

RECENT_FILLS = 10
RECENT_REJECTIONS = 5
CENT = Decimal("0.01")


def _text(value: Decimal | None) -> str | None:
    return None if value is None else to_text(value)


def _usd(value: Decimal) -> str:
    """An account amount to the cent: the ledger keeps full precision, a prompt needs cents."""
    return to_text(value.quantize(CENT, ROUND_HALF_EVEN))


def account_context(
    store: Store, symbol: str, account_id: int, now: int, *, market: MarketSnapshot | None = None
) -> dict[str, Any]:
    """Balance, equity, margin, drawdown, positions with exit plans and marks, recent fills and
    rejections, and what the gates still allow for ``symbol``, as of ``now``.

    Decimals become text: account amounts rounded to the cent, prices (entry, mark,
    liquidation) to 8 significant digits, quantities and exit-plan prices exact. Marks and
    the symbol's registry entry come from ``market`` (default: the store's market memory).
    Raises ``NotFoundError`` for an unknown account.
    """
    state = account_state(store, account_id, now, market=market)
    account = state.account
    positions = []
    for p in state.positions:
        row = p.row
        positions.append(
            {
                "symbol": row["symbol"],
                "side": row["side"],
                "qty": _text(row["qty"]),
                "entry_price": fmt_decimal(row["entry_price"]),
                "mark": fmt_decimal(p.mark),
                "unrealized_pnl": _usd(p.unrealized),
                "leverage": _text(row["leverage"]),
                "margin": _usd(row["margin"]),
                "liquidation_price": fmt_decimal(row["liquidation_price"]),
                "stop": _text(row["stop"]),
                "target": _text(row["target"]),
                "invalidation": row["invalidation"],
                "invalidation_price": _text(row["invalidation_price"]),
                "time_exit": iso_utc(row["time_exit"]) or None,
                "opened_at": iso_utc(row["opened_at"]),
            }
        )
    # The gates' own view of the account and their own limit arithmetic (prop/limits.py), so
    # what the model is told it may do is exactly what the gates will allow.
    view = account_view(store, account, now, market=market)
    mark = next((p.mark for p in state.positions if p.row["symbol"] == symbol), None)
    asset = market.asset(symbol) if market is not None else market_repo.get_asset(store, symbol)
    lim = symbol_limits(view, asset, symbol, mark)
    limits = {
        "open_positions": lim.open_positions,
        "max_open_positions": lim.max_open_positions,
        "positions_left": lim.positions_left,
        "trades_today": lim.trades_today,
        "max_daily_trades": lim.max_daily_trades,
        "daily_trades_left": lim.daily_trades_left,
        "account_max_leverage": lim.account_max_leverage,
        "market_max_leverage": lim.market_max_leverage,
        "max_leverage": lim.max_leverage,
        "max_position_notional": to_text(lim.max_position_notional),
        "symbol_position_notional": _usd(lim.symbol_position_notional),
        "symbol_notional_left": _usd(lim.symbol_notional_left),
        "free_margin": _usd(lim.free_margin),
        "max_drawdown": to_text(lim.max_drawdown),
        "require_stop": lim.require_stop,
        "symbol_allowed": lim.symbol_allowed,
        "cooldown_until": iso_utc(lim.cooldown_until) if lim.cooldown_until is not None else None,
        "taker_fee": to_text(lim.taker_fee),
        "slippage_bps": to_text(lim.slippage_bps),
        **_policy_limits(lim),
    }
    fills = prop_repo.recent_fills(store, account_id, until_ms=now, limit=RECENT_FILLS)
    rejected = prop_repo.recent_rejections(store, account_id, until_ms=now, limit=RECENT_REJECTIONS)
    return {
        "id": account["id"],
        "clone_id": account["clone_id"],
        "kind": account["kind"],
        "status": account["status"],
        "quote": account["quote"],
        "balance": _usd(state.balance),
        "equity": _usd(state.equity),
        "cash": _usd(state.cash),
        "margin_used": _usd(state.margin_used),
        "unrealized_pnl": _usd(state.unrealized_pnl),
        "peak_equity": _usd(state.peak_equity),
        "drawdown": to_text(state.drawdown.quantize(Decimal("1e-8"))),
        "limits": limits,
        "positions": positions,
        "recent_fills": [
            {
                "time": iso_utc(f["created_at"]),
                **{k: f[k] for k in ("symbol", "purpose", "side", "qty", "price", "notional")},
                "fee": f["fee"],
                "trigger": f["trigger"],
            }
            for f in fills
        ],
        "recent_rejections": [
            {
                "time": iso_utc(r["created_at"]),
                **{k: r[k] for k in ("symbol", "action", "reject_code")},
            }
            for r in rejected
        ],
    }


def _policy_limits(lim) -> dict:
    """The optional trade-limit and risk-control rules, shown only when the account sets them."""
    shown: dict = {}
    if lim.min_confidence is not None:
        shown["min_confidence"] = to_text(lim.min_confidence)
    if lim.max_position_risk is not None:
        shown["max_position_risk"] = to_text(lim.max_position_risk)
    if lim.max_portfolio_risk is not None:
        shown["max_portfolio_risk"] = to_text(lim.max_portfolio_risk)
        shown["portfolio_risk"] = _usd(lim.portfolio_risk)
        shown["portfolio_risk_left"] = _usd(lim.portfolio_risk_left)
    if lim.default_stop_pct is not None:
        shown["default_stop_pct"] = to_text(lim.default_stop_pct)
    return shown
