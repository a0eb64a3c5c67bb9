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
from autotrader.prop.gate_types import AccountView

_ZERO = Decimal(0)


def market_max_leverage(asset: AssetInfo | None) -> int | None:
    """Spot and unknown symbols trade unlevered; a perp without a published maximum is bounded
    by the account alone (None)."""
    if asset is None or asset.kind == "spot":
        return 1
    return asset.max_leverage


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
    )
