"""What the safety gates still allow an account for one symbol — one definition, two readers.

The gates (:mod:`autotrader.prop.gates`) judge an intent against these numbers, and the context
packet shows the same numbers to a model before it proposes one (``context/account.py``), so the
prompt and the gates cannot disagree: both read :class:`~autotrader.prop.gate_types.AccountView`
through the functions here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from autotrader.market.models import AssetInfo
from autotrader.prop import pnl
from autotrader.prop.gate_types import AccountView, PositionView
from autotrader.prop.models import Side

_ZERO = Decimal(0)


def market_max_leverage(asset: AssetInfo | None) -> int | None:
    """Spot and unknown symbols trade unlevered; a perp without a published maximum is bounded
    by the account alone (None)."""
    if asset is None or asset.kind == "spot":
        return 1
    return asset.max_leverage


def risk_at_stop(
    side: Side, qty: Decimal, price: Decimal, stop: Decimal | None, margin: Decimal
) -> Decimal:
    """What a position of ``qty`` from ``price`` loses if it stops out at ``stop`` (a stop on
    the profit side risks nothing); without a stop, everything it can lose: its margin."""
    if stop is None:
        return margin
    return max(_ZERO, side.sign * (price - stop)) * qty


def position_risk(position: PositionView) -> Decimal:
    plan = position.exit_plan
    stop = plan.stop_decimal if plan is not None else None
    return risk_at_stop(position.side, position.qty, position.entry_price, stop, position.margin)


def portfolio_risk(account: AccountView) -> Decimal:
    """What every open position together loses at its stop (USD, from its entry)."""
    return sum((position_risk(p) for p in account.positions.values()), _ZERO)


def default_stop(side: Side, fill_price: Decimal, pct: Decimal) -> Decimal:
    """The stop ``pct`` away from the fill on the losing side (unquantized)."""
    return fill_price * (1 - side.sign * pct)


def free_margin(account: AccountView) -> Decimal:
    """Margin a new position may use (unrealized losses count, unrealized gains do not)."""
    return pnl.free_margin(account.balance, account.equity, account.margin_used)


@dataclass(frozen=True, slots=True)
class SymbolLimits:
    """The account's limits and what is left of them for one symbol (Decimal money, USD)."""

    open_positions: int
    max_open_positions: int
    trades_today: int
    max_daily_trades: int
    account_max_leverage: int
    market_max_leverage: int | None
    max_position_notional: Decimal
    symbol_position_notional: Decimal  # the open position's value at the mark
    free_margin: Decimal
    max_drawdown: Decimal
    require_stop: bool
    symbol_allowed: bool
    cooldown_until: int | None  # epoch ms; no new OPEN before it
    taker_fee: Decimal
    slippage_bps: Decimal
    equity: Decimal
    portfolio_risk: Decimal  # what the open positions lose at their stops
    min_confidence: Decimal | None = None
    max_position_risk: Decimal | None = None  # fractions of equity
    max_portfolio_risk: Decimal | None = None
    default_stop_pct: Decimal | None = None

    @property
    def positions_left(self) -> int:
        return max(0, self.max_open_positions - self.open_positions)

    @property
    def daily_trades_left(self) -> int:
        return max(0, self.max_daily_trades - self.trades_today)

    @property
    def max_leverage(self) -> int:
        return min(self.account_max_leverage, self.market_max_leverage or self.account_max_leverage)

    @property
    def symbol_notional_left(self) -> Decimal:
        return max(_ZERO, self.max_position_notional - self.symbol_position_notional)

    @property
    def portfolio_risk_left(self) -> Decimal | None:
        """USD more the open positions may lose at their stops (None: no portfolio limit)."""
        if self.max_portfolio_risk is None:
            return None
        return max(_ZERO, self.max_portfolio_risk * max(self.equity, _ZERO) - self.portfolio_risk)


def symbol_limits(
    account: AccountView, asset: AssetInfo | None, symbol: str, mark: Decimal | None
) -> SymbolLimits:
    """The limits the gates apply to an intent on ``symbol``, as they stand now."""
    rules = account.rules
    position = account.positions.get(symbol)
    held = pnl.notional(position.qty, mark) if position is not None and mark is not None else _ZERO
    return SymbolLimits(
        open_positions=len(account.positions),
        max_open_positions=rules.max_open_positions,
        trades_today=account.trades_today,
        max_daily_trades=rules.max_daily_trades,
        account_max_leverage=rules.max_leverage,
        market_max_leverage=market_max_leverage(asset),
        max_position_notional=rules.max_position_notional,
        symbol_position_notional=held,
        free_margin=free_margin(account),
        max_drawdown=rules.max_drawdown,
        require_stop=rules.require_stop,
        symbol_allowed=rules.allows(symbol),
        cooldown_until=account.cooldowns.get(symbol),
        taker_fee=rules.taker_fee,
        slippage_bps=rules.slippage_bps,
        equity=account.equity,
        portfolio_risk=portfolio_risk(account),
        min_confidence=rules.min_confidence,
        max_position_risk=rules.max_position_risk,
        max_portfolio_risk=rules.max_portfolio_risk,
        default_stop_pct=rules.default_stop_pct,
    )
