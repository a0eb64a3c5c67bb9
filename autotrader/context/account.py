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
from autotrader.prop import pnl
from autotrader.prop import repo as prop_repo
from autotrader.prop.accounts import account_state

RECENT_FILLS = 10
RECENT_REJECTIONS = 5
CENT = Decimal("0.01")
DAY_MS = 86_400_000  # UTC days are whole in epoch time (no leap seconds)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else to_text(value)


def _usd(value: Decimal) -> str:
    """An account amount to the cent: the ledger keeps full precision, a prompt needs cents."""
    return to_text(value.quantize(CENT, ROUND_HALF_EVEN))


def account_context(store: Store, symbol: str, account_id: int, now: int) -> dict[str, Any]:
    """Balance, equity, margin, drawdown, positions with exit plans and marks, recent fills and
    rejections, and what the gates still allow for ``symbol``, as of ``now``.

    Decimals become text: account amounts rounded to the cent, prices (entry, mark,
    liquidation) to 8 significant digits, quantities and exit-plan prices exact. Raises
    ``NotFoundError`` for an unknown account.
    """
    state = account_state(store, account_id, now)
    account, rules = state.account, state.account["rules"]
    positions = []
    held = Decimal(0)
    for p in state.positions:
        row = p.row
        if row["symbol"] == symbol:
            held = pnl.notional(row["qty"], p.mark)
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
    asset = market_repo.get_asset(store, symbol)
    # As the leverage gate does: spot and unknown symbols trade unlevered; a perp without a
    # published maximum is bounded by the account alone.
    market_max = 1 if asset is None or asset.kind == "spot" else asset.max_leverage
    trades_today = prop_repo.opens_since(store, account_id, now - now % DAY_MS)
    cooldown = prop_repo.cooldowns(store, account_id, now).get(symbol)
    free = pnl.free_margin(state.balance, state.equity, state.margin_used)
    limits = {
        "open_positions": len(positions),
        "max_open_positions": rules.max_open_positions,
        "positions_left": max(0, rules.max_open_positions - len(positions)),
        "trades_today": trades_today,
        "max_daily_trades": rules.max_daily_trades,
        "daily_trades_left": max(0, rules.max_daily_trades - trades_today),
        "account_max_leverage": rules.max_leverage,
        "market_max_leverage": market_max,
        "max_leverage": min(rules.max_leverage, market_max or rules.max_leverage),
        "max_position_notional": to_text(rules.max_position_notional),
        "symbol_position_notional": _usd(held),
        "symbol_notional_left": _usd(max(Decimal(0), rules.max_position_notional - held)),
        "free_margin": _usd(free),
        "max_drawdown": to_text(rules.max_drawdown),
        "require_stop": rules.require_stop,
        "symbol_allowed": rules.allows(symbol),
        "cooldown_until": iso_utc(cooldown) if cooldown is not None else None,
        "taker_fee": to_text(rules.taker_fee),
        "slippage_bps": to_text(rules.slippage_bps),
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
