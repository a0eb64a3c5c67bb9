"""Trading arithmetic in Decimal: fill prices, fees, margin, PnL, liquidation, funding, drawdown.

Every function takes and returns ``Decimal`` (never float) and is pure. Units: quantities in
units of the asset, prices in quote currency (USD/USDC) per unit, amounts in quote currency,
rates as fractions (``0.00045`` = 0.045 %), slippage in basis points (``5`` = 0.05 %).

Nothing here quantizes: rounding to an exchange's steps is the caller's job (the gates apply the
market's precision). Products and sums of quantized inputs are exact; divisions (margin, weighted
entry, liquidation price, drawdown) are rounded to the decimal context's 28 significant digits.

Sign conventions: ``side.sign`` is +1 for LONG and -1 for SHORT; a positive PnL or funding amount
is money credited to the account, a negative one is money debited.
"""

from __future__ import annotations

from decimal import Decimal

from autotrader.prop.models import MarginMode, Side

_BPS = Decimal(10_000)
_ZERO = Decimal(0)
_ONE = Decimal(1)
_TWO = Decimal(2)


def is_buy(side: Side, action_is_open: bool) -> bool:
    """True when the fill buys: opening a long or closing a short."""
    return (side is Side.LONG) == action_is_open


def fill_price(
    reference: Decimal, side: Side, action_is_open: bool, slippage_bps: Decimal
) -> Decimal:
    """The paper fill price: ``reference`` moved against the trader by ``slippage_bps``.

    Buying (open long, close short) pays ``reference · (1 + bps/10⁴)``; selling (close long, open
    short) receives ``reference · (1 − bps/10⁴)``. Not quantized (the caller applies the market's
    price precision).
    """
    move = slippage_bps / _BPS
    factor = _ONE + move if is_buy(side, action_is_open) else _ONE - move
    return reference * factor


def notional(qty: Decimal, price: Decimal) -> Decimal:
    """Position value in quote currency: ``qty · price``."""
    return qty * price


def fee(notional_value: Decimal, rate: Decimal) -> Decimal:
    """Fee charged on a fill, in quote currency: ``notional · rate`` (a positive amount)."""
    return notional_value * rate


def initial_margin(notional_value: Decimal, leverage: Decimal | int) -> Decimal:
    """Isolated margin locked by a position: ``notional / leverage`` (quote currency)."""
    return notional_value / Decimal(leverage)


def free_margin(balance: Decimal, equity: Decimal, margin_used: Decimal) -> Decimal:
    """Margin a new position may use: ``min(balance, equity) − margin_used``.

    ``balance`` is the ledger sum (cash + locked margin), ``equity`` = balance + unrealized PnL.
    Unrealized losses reduce the free margin; unrealized gains do not add to it (not yet money).
    """
    return min(balance, equity) - margin_used


def required_margin(margin: Decimal, notional_value: Decimal, taker_fee: Decimal) -> Decimal:
    """What an OPEN must find free: its initial margin, its taker fee and the fee of closing it
    later at the same value (so a position can always pay its way out at the entry price)."""
    return margin + _TWO * fee(notional_value, taker_fee)


def open_value(side: Side, qty: Decimal, price: Decimal, fee_rate: Decimal) -> Decimal:
    """Money side of an opening fill, fee included (freqtrade's ``open_trade_value``).

    LONG pays ``qty · price · (1 + fee)``; SHORT receives ``qty · price · (1 − fee)``.
    """
    factor = _ONE + fee_rate if side is Side.LONG else _ONE - fee_rate
    return qty * price * factor


def close_value(side: Side, qty: Decimal, price: Decimal, fee_rate: Decimal) -> Decimal:
    """Money side of a closing fill, fee included.

    LONG receives ``qty · price · (1 − fee)``; SHORT pays ``qty · price · (1 + fee)``.
    """
    factor = _ONE - fee_rate if side is Side.LONG else _ONE + fee_rate
    return qty * price * factor


def fee_exact_pnl(
    side: Side,
    qty: Decimal,
    open_price: Decimal,
    close_price: Decimal,
    open_fee_rate: Decimal,
    close_fee_rate: Decimal | None = None,
) -> Decimal:
    """Realized profit of a round trip net of both fees, as freqtrade computes it.

    LONG: ``close_value − open_value``; SHORT: ``open_value − close_value`` (see the two helpers).
    30 units long from 2.0 to 2.1 at 0.25 % each side: 62.8425 − 60.15 = 2.6925.
    ``close_fee_rate`` defaults to ``open_fee_rate``. Equals ``gross_pnl`` minus both fees.
    """
    close_rate = open_fee_rate if close_fee_rate is None else close_fee_rate
    opened = open_value(side, qty, open_price, open_fee_rate)
    closed = close_value(side, qty, close_price, close_rate)
    return closed - opened if side is Side.LONG else opened - closed


def gross_pnl(side: Side, qty: Decimal, entry: Decimal, exit_price: Decimal) -> Decimal:
    """PnL before fees: ``side · qty · (exit − entry)``.

    The ledger books this as REALIZED_PNL and each fill's fee as its own FEE entry, so that
    ``gross − open fee − close fee`` is :func:`fee_exact_pnl`.
    """
    return side.sign * qty * (exit_price - entry)


def unrealized_pnl(side: Side, qty: Decimal, entry: Decimal, mark: Decimal) -> Decimal:
    """Mark-to-market PnL before closing fees: ``side · qty · (mark − entry)``."""
    return gross_pnl(side, qty, entry, mark)


def weighted_entry(
    old_qty: Decimal, old_price: Decimal, add_qty: Decimal, add_price: Decimal
) -> Decimal:
    """Entry price after adding ``add_qty`` at ``add_price`` to a same-side position.

    ``(old_qty · old_price + add_qty · add_price) / (old_qty + add_qty)``; raises
    ``ValueError`` when the total quantity is not positive.
    """
    total = old_qty + add_qty
    if total <= 0:
        raise ValueError("weighted entry needs a positive total quantity")
    return (old_qty * old_price + add_qty * add_price) / total


def maintenance_margin(position_value: Decimal, max_leverage: Decimal | int) -> Decimal:
    """Hyperliquid maintenance margin: ``position_value / max_leverage / 2``.

    ``max_leverage`` is the *market's* maximum (the asset's), not the position's leverage.
    """
    return position_value / Decimal(max_leverage) / _TWO


def liquidation_price(
    side: Side,
    entry_price: Decimal,
    qty: Decimal,
    isolated_margin: Decimal,
    max_leverage: Decimal | int,
    margin_mode: MarginMode = MarginMode.ISOLATED,
    account_value: Decimal | None = None,
) -> Decimal | None:
    """Price at which the position is liquidated, per Hyperliquid's published formula.

    ``liq = price − side · margin_available / qty / (1 − l · side)`` with
    ``l = 1 / (2 · max_leverage)`` and ``price`` the entry price. ``margin_available`` is
    ``isolated_margin − maintenance_margin`` (isolated) or ``account_value −
    maintenance_margin`` (cross; ``account_value`` required), maintenance margin taken on the
    position value at the entry price. At that price equity equals maintenance margin.

    Returns ``None`` when no positive price liquidates (a 1× long, say). A result on the wrong
    side of the entry (margin below maintenance) is returned as is: the position is already
    liquidatable. Raises ``ValueError`` for a non-positive qty or a cross account without
    ``account_value``.
    """
    if qty <= 0:
        raise ValueError("liquidation price needs a positive quantity")
    maintenance = maintenance_margin(qty * entry_price, max_leverage)
    if margin_mode is MarginMode.CROSS:
        if account_value is None:
            raise ValueError("cross margin needs the account value")
        available = account_value - maintenance
    else:
        available = isolated_margin - maintenance
    sign = side.sign
    l_rate = _ONE / (_TWO * Decimal(max_leverage))
    liq = entry_price - sign * available / qty / (_ONE - l_rate * sign)
    return liq if liq > 0 else None


def funding_payment(
    side: Side, qty: Decimal, oracle_price: Decimal, hourly_rate: Decimal
) -> Decimal:
    """One hourly funding payment credited to the account (negative when the account pays).

    Hyperliquid: payment = size · oracle price · rate, longs pay a positive rate and shorts
    receive it, so the credit is ``−side · qty · oracle_price · rate``.
    """
    return -side.sign * qty * oracle_price * hourly_rate


def drawdown(equity: Decimal, peak: Decimal) -> Decimal:
    """Drawdown from peak equity as a fraction in [0, ∞): ``(peak − equity) / peak``.

    0 when equity is at or above the peak or the peak is not positive. Above 1 only when
    equity is negative.
    """
    if peak <= 0 or equity >= peak:
        return _ZERO
    return (peak - equity) / peak
