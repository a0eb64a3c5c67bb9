"""``ledger verify``'s ``fill_price`` check: a fill's price lies inside the market bars it was
filled against.

A paper fill references the close of the last *closed* 1m/5m bar as of its time (the execution
price, :func:`autotrader.market.view.execution_price`), moved against the trader by the
account's slippage and rounded to the market's price precision. So every fill's price must lie
in ``[low · (1 − s), high · (1 + s)]`` of that bar (of each series as fresh as the freshest, any
of which may have priced it), widened by the rounding. A close mark-to-market decided — a stop,
target, time exit or liquidation — references instead a level some bar reached after the
position opened, so a trigger fill outside its last closed bar is checked again against every
bar from the one that priced the opening to the fill: a time exit may reference the opening
fill's own price (twice the slippage), and a liquidation only needs the market to have reached
its price (a gap can carry every bar past the level). A fill whose symbol has no bar closed by
its time (retention keeps a day of 1m/5m bars) cannot be checked; :meth:`BarBook.unchecked`
counts them per symbol, for a note.

Bars are floats (analytics, see the architecture guide); the rounding allowance is far wider
than a float's error, so comparing in floats never decides a case.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from autotrader.core.db import Store
from autotrader.market import repo as market_repo
from autotrader.market.models import TIMEFRAME_MS
from autotrader.market.view import SOURCE_TIMEFRAMES
from autotrader.prop.vocabulary import CloseTrigger

ROUNDING = 1e-4
"""Relative room for rounding a price to the market's precision: Hyperliquid's five significant
digits move a price by at most half a basis point (a registered tick may allow more)."""
_TRIGGERS = frozenset({CloseTrigger.STOP, CloseTrigger.TARGET, CloseTrigger.TIME})


@dataclass
class _Series:
    """One candle series of a symbol: open times ascending, with each bar's low and high."""

    step: int
    times: list[int]
    lows: list[float]
    highs: list[float]

    def last_closed(self, at_ms: int) -> int:
        """The index of the newest bar closed by ``at_ms`` (-1: none)."""
        return bisect_right(self.times, at_ms - self.step) - 1


@dataclass(frozen=True)
class Outside:
    """A fill whose price lies outside the bars it was filled against."""

    fill_id: int
    account_id: int
    symbol: str
    side: str
    price: float
    at_ms: int
    low: float
    high: float
    slippage: float  # the fraction allowed


class BarBook:
    """Each traded symbol's 1m/5m bars, read once per verify pass (on its first fill): those
    opened in ``[since_ms, until_ms]`` (default all), the span of the fills to check."""

    def __init__(
        self,
        store: Store,
        *,
        half_ticks: dict[str, float],
        since_ms: int = 0,
        until_ms: int = 2**62,
    ) -> None:
        self.store = store
        self.half_ticks = half_ticks
        self.since_ms, self.until_ms = since_ms, until_ms
        self._series: dict[str, list[_Series]] = {}
        self.unchecked: Counter[str] = Counter()

    def _of(self, symbol: str) -> list[_Series]:
        found = self._series.get(symbol)
        if found is None:
            found = self._series[symbol] = _load(
                self.store, symbol, since_ms=self.since_ms, until_ms=self.until_ms
            )
        return found

    def last_closed(self, symbol: str, at_ms: int) -> tuple[float, float] | None:
        """``(low, high)`` across the freshest bars closed by ``at_ms`` (one per series as
        fresh as the freshest), or None when no bar of ``symbol`` had closed by then."""
        return _last_closed(self._of(symbol), at_ms)

    def since(self, symbol: str, from_ms: int, at_ms: int) -> tuple[float, float] | None:
        """``(low, high)`` of every bar from the last one closed by ``from_ms`` to the last one
        closed by ``at_ms``, across series; None when there is none."""
        lows, highs = [], []
        for series in self._of(symbol):
            end = series.last_closed(at_ms)
            if end < 0:
                continue
            start = max(series.last_closed(from_ms), 0)
            if start > end:  # opened after the fill (a stored time out of order): no bars
                continue
            lows.append(min(series.lows[start : end + 1]))
            highs.append(max(series.highs[start : end + 1]))
        return (min(lows), max(highs)) if lows else None

    def allowance(self, symbol: str, price: float) -> float:
        return max(abs(price) * ROUNDING, self.half_ticks.get(symbol, 0.0))

    def outside(
        self, fills: Iterable[tuple], slippage: dict[int, float]
    ) -> tuple[list[Outside], int]:
        """Fills (``id, account_id, symbol, side, price, created_at``) whose price lies outside
        their last closed bar, and how many fills were read. Fills with no bar to check are
        counted in :attr:`unchecked`."""
        found: list[Outside] = []
        read = 0
        # Local names: this loop runs once per fill (half a million times on a large ledger),
        # and a symbol almost always has one series, which is looked up inline.
        symbols: dict[str, tuple[_Series | None, list[_Series], float]] = {}
        unchecked, last_closed, rounding = self.unchecked, _last_closed, ROUNDING
        for fill_id, account, symbol, side, price_text, at in fills:
            read += 1
            known = symbols.get(symbol)
            if known is None:
                every = self._of(symbol)
                one = every[0] if len(every) == 1 else None
                known = symbols[symbol] = (one, every, self.half_ticks.get(symbol, 0.0))
            one = known[0]
            if one is not None:
                i = bisect_right(one.times, at - one.step) - 1
                bounds = (one.lows[i], one.highs[i]) if i >= 0 else None
            else:
                bounds = last_closed(known[1], at)
            if bounds is None:
                unchecked[symbol] += 1
                continue
            price, s = float(price_text), slippage.get(account, 0.0)
            low, high = bounds
            room = max(price * rounding, known[2])
            if low * (1 - s) - room <= price <= high * (1 + s) + room:
                continue
            found.append(Outside(fill_id, account, symbol, side, price, at, low, high, s))
        return found, read

    def explained_by_trigger(self, fill: Outside, trigger: str | None, opened_at: int) -> bool:
        """Whether a fill outside its last closed bar is a close mark-to-market decided at a
        level the bars since the position opened reached."""
        if trigger not in _TRIGGERS and trigger != CloseTrigger.LIQUIDATION:
            return False
        bounds = self.since(fill.symbol, opened_at, fill.at_ms)
        if bounds is None:
            return False
        low, high = bounds
        room = self.allowance(fill.symbol, fill.price)
        if trigger == CloseTrigger.LIQUIDATION:
            # Zero slippage, and the level need only have been reached: selling out a long
            # needs a low at or below it, buying back a short a high at or above it.
            return low - room <= fill.price if fill.side == "SELL" else fill.price <= high + room
        s = fill.slippage * (2 if trigger == CloseTrigger.TIME else 1)
        return low * (1 - s) - room <= fill.price <= high * (1 + s) + room


def _last_closed(series_of_symbol: list[_Series], at_ms: int) -> tuple[float, float] | None:
    best, low, high = -1, 0.0, 0.0
    for series in series_of_symbol:
        i = bisect_right(series.times, at_ms - series.step) - 1
        if i < 0:
            continue
        closed = series.times[i] + series.step
        if closed > best:
            best, low, high = closed, series.lows[i], series.highs[i]
        elif closed == best:
            low, high = min(low, series.lows[i]), max(high, series.highs[i])
    return None if best < 0 else (low, high)


def _load(store: Store, symbol: str, *, since_ms: int, until_ms: int) -> list[_Series]:
    series: dict[tuple[str, str], _Series] = {}
    for source, timeframe, open_time, low, high in market_repo.bar_ranges(
        store, symbol, SOURCE_TIMEFRAMES, since_ms=since_ms, until_ms=until_ms
    ):
        found = series.get((source, timeframe))
        if found is None:
            found = series[(source, timeframe)] = _Series(TIMEFRAME_MS[timeframe], [], [], [])
        found.times.append(open_time)
        found.lows.append(low)
        found.highs.append(high)
    return list(series.values())
