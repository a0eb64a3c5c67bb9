"""The data the safety gates read and return: views of the account and position, the gate
context, each gate's result, the decision, and the fill an accepted intent books. No logic
beyond small helpers; the gates live in ``gates.py``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Protocol

from autotrader.core.money import quantize_step
from autotrader.market.models import AssetInfo
from autotrader.prop.models import (
    AccountRules,
    AccountStatus,
    ExitPlan,
    Side,
    TradeIntent,
)

_ZERO = Decimal(0)


class Precision(Protocol):
    """A market's rounding rules, keyed by the registry symbol (``AssetInfo.symbol``).

    ccxt's ``amount_to_precision``/``price_to_precision`` (through ``AssetInfo.ccxt_symbol``)
    fit here; :class:`StepPrecision` is the plain-Decimal version.
    """

    def amount(self, symbol: str, value: Decimal) -> Decimal:
        """``value`` truncated (towards zero) to the market's amount step."""
        ...

    def price(self, symbol: str, value: Decimal) -> Decimal:
        """``value`` rounded to the market's price precision."""
        ...


class StepPrecision:
    """Precision from the registry's ``amount_step``/``price_tick`` (no step = left as is).

    Amounts truncate to the step (an order never grows); prices round half-even to the tick,
    as ccxt's default ``ROUND`` does. Unknown symbols raise ``KeyError``.
    """

    def __init__(self, assets: Iterable[AssetInfo]) -> None:
        self._steps = {a.symbol: (_step(a.amount_step), _step(a.price_tick)) for a in assets}

    def amount(self, symbol: str, value: Decimal) -> Decimal:
        step = self._steps[symbol][0]
        return quantize_step(value, step) if step is not None else value

    def price(self, symbol: str, value: Decimal) -> Decimal:
        tick = self._steps[symbol][1]
        return quantize_step(value, tick, rounding=ROUND_HALF_EVEN) if tick is not None else value


def _step(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None and Decimal(text) > 0 else None


@dataclass(frozen=True, slots=True)
class PositionView:
    """An open position as the gates need it (Decimals; ``margin`` is its isolated margin)."""

    symbol: str
    side: Side
    qty: Decimal
    entry_price: Decimal
    margin: Decimal = _ZERO
    leverage: int = 1
    closing: bool = False  # a close is in flight (claimed, not yet booked)
    exit_plan: ExitPlan | None = None

    def __post_init__(self) -> None:
        # Rows from SQLite carry plain strings; the gates compare enums by identity.
        object.__setattr__(self, "side", Side(self.side))


@dataclass(frozen=True, slots=True)
class AccountView:
    """The account state the gates judge against.

    ``balance`` is the ledger sum (cash + locked margin), ``margin_used`` the margin locked by
    open positions, ``equity`` = balance + unrealized PnL. ``positions`` holds the *open*
    positions by symbol. ``trades_today`` counts OPEN fills booked since 00:00 UTC.
    ``cooldowns`` maps a symbol to the epoch ms before which it may not be opened.
    ``deposit_cap`` (a live account's, or None) bounds ``open_notional`` — every open
    position's qty at its mark — plus what an OPEN adds.
    """

    id: int
    status: AccountStatus
    rules: AccountRules
    balance: Decimal
    margin_used: Decimal
    equity: Decimal
    positions: Mapping[str, PositionView] = field(default_factory=dict)
    trades_today: int = 0
    cooldowns: Mapping[str, int] = field(default_factory=dict)
    deposit_cap: Decimal | None = None
    open_notional: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", AccountStatus(self.status))


@dataclass(frozen=True, slots=True)
class GateContext:
    """Everything one gate run needs. ``reference_price`` is the latest execution price
    (quote currency) observed at ``price_time_ms``; ``symbols_already_acted`` holds the symbols
    this decision has already acted on (the caller adds each accepted or attempted symbol)."""

    intent: TradeIntent
    account: AccountView
    asset: AssetInfo | None
    reference_price: Decimal | None
    price_time_ms: int | None
    precision: Precision
    now_ms: int
    symbols_already_acted: AbstractSet[str] = frozenset()


@dataclass(frozen=True, slots=True)
class GateResult:
    gate: str  # which gate ran
    code: str  # == gate when passed, else the failure code (see the module table)
    passed: bool
    reason: str  # for humans; never parse it


@dataclass(frozen=True, slots=True)
class PlannedFill:
    """The fill an accepted OPEN or CLOSE books. All Decimal, quote currency unless noted.

    ``side`` is the position's side; ``qty`` (asset units) is quantized; ``fill_price`` is the
    reference moved by slippage against the trader, then quantized; ``fee`` = notional ·
    ``fee_rate`` (taker: paper fills are market orders). OPEN: ``margin`` is the margin to lock.
    CLOSE: ``margin`` is the margin released (pro rata), ``gross_pnl`` the PnL before fees
    against the position's entry, ``closes_position`` true for a full close.
    """

    symbol: str
    side: Side
    is_open: bool
    qty: Decimal
    reference_price: Decimal
    fill_price: Decimal
    notional: Decimal
    fee_rate: Decimal
    fee: Decimal
    slippage_bps: Decimal
    margin: Decimal
    leverage: int
    adds_to_position: bool = False
    closes_position: bool = False
    gross_pnl: Decimal = _ZERO
    default_stop: Decimal | None = None  # the rules' default stop, applied to an OPEN without one


@dataclass(frozen=True, slots=True)
class GateDecision:
    results: tuple[GateResult, ...]
    fill: PlannedFill | None = None  # set for an accepted OPEN or CLOSE only

    @property
    def accepted(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def first_failure(self) -> GateResult | None:
        return next((r for r in self.results if not r.passed), None)
