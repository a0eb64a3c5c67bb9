"""Risk arithmetic: the desk's book, what a position risks, sizing, exposure and correlation.

A position *risks* what it loses if its stop fills: ``qty × |mark − stop|`` (all of its value
without a stop). Sizing takes the smallest of the size limit, the single-position risk budget
and what is left of the portfolio risk budget. Money is Decimal; correlations (statistics of
stored float candles) are floats.
"""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

from autotrader.core.clock import HOUR_MS
from autotrader.core.db import Store
from autotrader.core.money import ZERO
from autotrader.desk.models import RiskControls, TradeLimits
from autotrader.market import repo as market_repo
from autotrader.prop.accounts import account_state
from autotrader.prop.models import Side

_CENT = Decimal("0.01")
_SIGNIFICANT_DIGITS = 5
CORRELATION_HOURS = 48
HIGH_CORRELATION = 0.8


@dataclass(frozen=True)
class BookPosition:
    """One open position of the desk, marked now. ``pnl_pct`` is unrealized PnL over the
    initial margin (a fraction), as the ledger's return on a trade."""

    id: int
    symbol: str
    side: Side
    qty: Decimal
    entry_price: Decimal
    mark: Decimal
    notional: Decimal
    stop: Decimal | None
    target: Decimal | None
    unrealized: Decimal
    pnl_pct: Decimal
    risk_usd: Decimal
    opened_at: int


@dataclass(frozen=True)
class Book:
    account_id: int
    equity: Decimal
    balance: Decimal
    cash: Decimal
    positions: tuple[BookPosition, ...]

    @property
    def open_risk(self) -> Decimal:
        return sum((p.risk_usd for p in self.positions), ZERO)

    def position(self, *, position_id: int | None = None, symbol: str | None = None):
        """The open position with this id (or on this symbol), or None."""
        for p in self.positions:
            if (position_id is not None and p.id == position_id) or (
                position_id is None and symbol is not None and p.symbol == symbol
            ):
                return p
        return None


def read_book(store: Store, account_id: int, now_ms: int) -> Book:
    """The desk account's equity, cash and open positions, marked at the prices as of now."""
    state = account_state(store, account_id, now_ms)
    positions = []
    for held in state.positions:
        row = held.row
        side = Side(row["side"])
        margin = row["margin"] or row["qty"] * row["entry_price"]
        positions.append(
            BookPosition(
                id=row["id"],
                symbol=row["symbol"],
                side=side,
                qty=row["qty"],
                entry_price=row["entry_price"],
                mark=held.mark,
                notional=row["qty"] * held.mark,
                stop=row["stop"],
                target=row["target"],
                unrealized=held.unrealized,
                pnl_pct=held.unrealized / margin if margin else ZERO,
                risk_usd=position_risk(side, row["qty"], held.mark, row["stop"]),
                opened_at=row["opened_at"],
            )
        )
    return Book(account_id, state.equity, state.balance, state.cash, tuple(positions))


def position_risk(side: Side, qty: Decimal, mark: Decimal, stop: Decimal | None) -> Decimal:
    """What filling at ``stop`` would lose from ``mark`` (the whole value without a stop)."""
    if stop is None:
        return qty * mark
    return max(ZERO, (mark - stop) * side.sign * qty)


def stop_fraction(entry: Decimal, stop: Decimal) -> Decimal:
    """The stop's distance as a fraction of the entry price."""
    return abs(entry - stop) / entry


def entry_risk(notional: Decimal, entry: Decimal, stop: Decimal | None) -> Decimal:
    """What a new position of ``notional`` USD risks to its stop."""
    return notional if stop is None else notional * stop_fraction(entry, stop)


def default_stop(entry: Decimal, side: Side, pct: Decimal) -> Decimal:
    """The stop ``pct`` (negative, e.g. -0.30) from ``entry`` on the losing side, to five
    significant digits rounded away from the entry."""
    raw = entry * (1 + pct) if side is Side.LONG else entry * (1 - pct)
    quantum = Decimal(1).scaleb(raw.adjusted() - _SIGNIFICANT_DIGITS + 1)
    return raw.quantize(quantum, rounding=ROUND_FLOOR if side is Side.LONG else ROUND_CEILING)


def target_price(entry: Decimal, stop: Decimal, ratio: Decimal) -> Decimal | None:
    """The take-profit ``ratio`` times the stop's distance beyond ``entry`` (five significant
    digits, away from the entry); None when that would be at or below zero."""
    raw = entry + (entry - stop) * ratio
    if raw <= 0:
        return None
    above = raw > entry
    quantum = Decimal(1).scaleb(raw.adjusted() - _SIGNIFICANT_DIGITS + 1)
    return raw.quantize(quantum, rounding=ROUND_CEILING if above else ROUND_FLOOR)


def size_entry(
    *,
    equity: Decimal,
    entry: Decimal,
    stop: Decimal | None,
    open_risk: Decimal,
    limits: TradeLimits,
    controls: RiskControls,
) -> Decimal:
    """USD of position value for a new entry: the smallest of the size limit, the
    single-position risk budget and what is left of the portfolio budget, to the cent (without
    a stop, all of the position is at risk).

    When no portfolio budget is left the size is not shrunk to nothing: the portfolio-risk gate
    then refuses the proposal with its numbers, on the record.
    """
    distance = stop_fraction(entry, stop) if stop is not None else Decimal(1)
    caps = [limits.max_position_size_usd]
    if distance > 0:
        caps.append(equity * controls.max_single_position_risk / distance)
        remaining = equity * controls.max_portfolio_risk - open_risk
        if remaining > 0:
            caps.append(remaining / distance)
    return max(min(caps), _CENT).quantize(_CENT, rounding=ROUND_DOWN)


@dataclass(frozen=True)
class Exposure:
    gross: Decimal  # Σ |notional|
    net: Decimal  # longs − shorts
    gross_pct: Decimal  # of equity
    risk: Decimal  # Σ what each position risks
    risk_pct: Decimal  # of equity


def exposure(book: Book) -> Exposure:
    gross = sum((p.notional for p in book.positions), ZERO)
    net = sum((p.notional * p.side.sign for p in book.positions), ZERO)
    equity = book.equity if book.equity > 0 else None
    risk = book.open_risk
    return Exposure(
        gross=gross,
        net=net,
        gross_pct=gross / equity if equity else ZERO,
        risk=risk,
        risk_pct=risk / equity if equity else ZERO,
    )


def hourly_returns(store: Store, symbol: str, *, now_ms: int, hours: int) -> dict[int, float]:
    """Close-to-close log returns of the closed 1h bars of the last ``hours``: ``{open_time:
    return}`` (empty without stored 1h candles)."""
    chosen = market_repo.freshest_series(store, symbol, ("1h",), until_ms=now_ms - HOUR_MS)
    if chosen is None:
        return {}
    bars = market_repo.candles_between(
        store, chosen.source, symbol, "1h", now_ms - (hours + 1) * HOUR_MS, now_ms - HOUR_MS
    )
    return {
        b.open_time: math.log(b.close / a.close)
        for a, b in itertools.pairwise(bars)
        if a.close > 0 and b.close > 0
    }


def correlation(a: dict[int, float], b: dict[int, float]) -> float | None:
    """Pearson correlation over the hours both series have; None with fewer than 6 or no
    variance."""
    common = sorted(set(a) & set(b))
    if len(common) < 6:
        return None
    xs, ys = [a[t] for t in common], [b[t] for t in common]
    try:
        return round(statistics.correlation(xs, ys), 4)
    except statistics.StatisticsError:
        return None


def correlations(store: Store, symbols: list[str], *, now_ms: int) -> dict[str, float | None]:
    """Pairwise correlations of ``symbols`` (``"BTC/ETH": 0.91``) from stored 1h candles."""
    returns = {s: hourly_returns(store, s, now_ms=now_ms, hours=CORRELATION_HOURS) for s in symbols}
    return {
        f"{x}/{y}": correlation(returns[x], returns[y])
        for x, y in itertools.combinations(sorted(set(symbols)), 2)
    }
