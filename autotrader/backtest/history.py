"""Market history for a backtest, read from market memory once and held in memory.

Per symbol: the source series mark-to-market reads (the freshest of 1m/5m, as
``prop.mtm`` chooses it) as plain lists indexed by bar, the bars of each granularity a
strategy decides on with their indicators computed by TA-Lib over the whole series once, the
funding observations of the period, and the registry entry; for strategies whose engine reads a
context packet, the series their read plans name too. After loading, nothing here touches the
store: a decision, a prompt or an exit check is a list lookup, never a query.

No look-ahead: :meth:`SymbolHistory.closed_bars`, :meth:`SymbolHistory.price` and every read of
:class:`HistoryMarket` return only bars whose close time is at or before the instant asked about.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from autotrader.core.clock import HOUR_MS
from autotrader.core.db import Store
from autotrader.core.money import from_float
from autotrader.decisions.engines.base import IndicatorBar
from autotrader.market import indicators
from autotrader.market import repo as market_repo
from autotrader.market.models import INDICATOR_COLUMNS, TIMEFRAME_MS, AssetInfo, Candle
from autotrader.market.repo import SOURCE_PRIORITY, observations
from autotrader.market.repo.observations import FUNDING_COLUMNS
from autotrader.market.view import SOURCE_TIMEFRAMES, ExecutionPrice
from autotrader.prop.mtm import funding_window


@dataclass
class SourceSeries:
    """The execution series of one symbol: bar ``i`` opens at ``open_time[i]`` and closes
    at ``close_time[i]``; prices are the stored floats."""

    source: str
    timeframe: str
    open_time: list[int]
    close_time: list[int]
    open: list[float]
    high: list[float]
    low: list[float]
    close: list[float]

    def candle(self, symbol: str, index: int) -> Candle:
        return Candle(
            symbol,
            self.timeframe,
            self.open_time[index],
            self.open[index],
            self.high[index],
            self.low[index],
            self.close[index],
            0.0,
        )

    def last_closed(self, now_ms: int) -> int:
        """The index of the newest bar closed by ``now_ms`` (-1: none yet)."""
        return bisect.bisect_right(self.close_time, now_ms) - 1


@dataclass
class GranularitySeries:
    """Bars of one granularity of one source with their indicators, ascending."""

    source: str
    bars: list[IndicatorBar]
    close_time: list[int]
    open: list[float]
    volume: list[float]


@dataclass
class SymbolHistory:
    symbol: str
    asset: AssetInfo | None
    series: SourceSeries | None
    granularities: dict[str, GranularitySeries] = field(default_factory=dict)
    funding_times: list[int] = field(default_factory=list)
    funding: list[dict] = field(default_factory=list)

    def price(self, now_ms: int) -> ExecutionPrice | None:
        """The execution price as live reads it: the close of the newest closed source bar,
        as of its close time."""
        if self.series is None:
            return None
        index = self.series.last_closed(now_ms)
        if index < 0:
            return None
        s = self.series
        return ExecutionPrice(
            self.symbol, from_float(s.close[index]), s.close_time[index], s.source, s.timeframe
        )

    def closed_bars(self, granularity: str, now_ms: int, count: int) -> tuple[IndicatorBar, ...]:
        """The last ``count`` bars of ``granularity`` closed by ``now_ms``, ascending."""
        found = self.granularities.get(granularity)
        if found is None:
            return ()
        end = bisect.bisect_right(found.close_time, now_ms)
        return tuple(found.bars[max(0, end - count) : end])

    def prefilter_metric(self, prefilter: str, now_ms: int) -> float | None:
        """The candidate prefilter's value (``volatility``: Bollinger width over the middle
        band; ``volume``: USD volume) of the last hourly bar closed by ``now_ms``."""
        found = self.granularities.get("1h")
        end = bisect.bisect_right(found.close_time, now_ms) if found else 0
        if found is None or end == 0:
            return None
        bar = found.bars[end - 1]
        if prefilter == "volatility":
            if bar.bb_middle and bar.bb_upper is not None and bar.bb_lower is not None:
                return (bar.bb_upper - bar.bb_lower) / bar.bb_middle
            return None
        return found.volume[end - 1] * bar.close if prefilter == "volume" else None

    def funding_rate(self, hour: int) -> dict | None:
        """The observation paid at ``hour`` (the window ``prop.mtm`` uses)."""
        since, until = funding_window(hour)
        end = bisect.bisect_right(self.funding_times, until)
        if end == 0 or self.funding_times[end - 1] < since:
            return None
        return self.funding[end - 1]


class History:
    """Every symbol a backtest may touch, loaded for ``[since_ms, until_ms]``."""

    def __init__(self, symbols: dict[str, SymbolHistory], since_ms: int, until_ms: int) -> None:
        self.symbols = symbols
        self.since_ms = since_ms
        self.until_ms = until_ms

    def bar_count(self) -> int:
        """Source bars that close inside the period, over every symbol."""
        total = 0
        for history in self.symbols.values():
            s = history.series
            if s is not None:
                total += bisect.bisect_right(s.close_time, self.until_ms) - bisect.bisect_right(
                    s.close_time, self.since_ms
                )
        return total

    def times(self) -> list[int]:
        """Every source-bar close time in ``(since, until]``, over every symbol, ascending:
        the instants a mark-to-market pass runs at."""
        moments: set[int] = set()
        for history in self.symbols.values():
            s = history.series
            if s is None:
                continue
            lo = bisect.bisect_right(s.close_time, self.since_ms)
            hi = bisect.bisect_right(s.close_time, self.until_ms)
            moments.update(s.close_time[lo:hi])
        return sorted(moments)


def load_history(
    store: Store,
    symbols: Iterable[str],
    granularities: Iterable[str],
    *,
    since_ms: int,
    until_ms: int,
    context: Iterable[tuple[str, str]] = (),
    funding_since_ms: int | None = None,
) -> History:
    """Read what a backtest of ``[since_ms, until_ms]`` needs from market memory: one range
    read per series. Indicators start from the first stored bar, so their warm-up is the
    same as live's.

    ``context`` names the ``(symbol, timeframe)`` series prompts read beyond the traded
    symbols' (a rollup such as 1h brings the source timeframes it is rolled up from); a symbol
    only read there gets no execution series, so it adds no instants and no bars to the run.
    ``funding_since_ms`` reaches further back for the funding observations prompts show.
    """
    wanted = tuple(dict.fromkeys(granularities))
    read: dict[str, list[str]] = {symbol: list(wanted) for symbol in dict.fromkeys(symbols)}
    for symbol, timeframe in context:
        extra = [timeframe] if timeframe in SOURCE_TIMEFRAMES else [timeframe, *SOURCE_TIMEFRAMES]
        read[symbol] = list(dict.fromkeys([*read.get(symbol, ()), *extra]))
    traded = set(symbols)
    # The first hour paid after ``since`` takes the last rate observed in the hour before.
    funding_since = min(since_ms - 2 * HOUR_MS, funding_since_ms or since_ms)
    loaded = {}
    for symbol, timeframes in read.items():
        rates = observations.funding_between(store, symbol, funding_since, until_ms)
        loaded[symbol] = SymbolHistory(
            symbol=symbol,
            asset=market_repo.get_asset(store, symbol),
            series=_source_series(store, symbol, since_ms, until_ms) if symbol in traded else None,
            granularities={
                g: s for g in timeframes if (s := _granularity(store, symbol, g, until_ms))
            },
            funding_times=[r["time"] for r in rates],
            funding=rates,
        )
    return History(loaded, since_ms, until_ms)


def _source_series(store: Store, symbol: str, since_ms: int, until_ms: int) -> SourceSeries | None:
    chosen = market_repo.freshest_series(store, symbol, SOURCE_TIMEFRAMES, until_ms=until_ms)
    if chosen is None:
        return None
    step = TIMEFRAME_MS[chosen.timeframe]
    # Two bars before the period too: the price at its first instant is a closed bar's close.
    rows = market_repo.candle_rows(
        store, chosen.source, symbol, chosen.timeframe, since_ms - 2 * step, until_ms - step
    )
    if not rows:
        return None
    open_time, open_, high, low, close, _volume = (list(c) for c in zip(*rows, strict=True))
    return SourceSeries(
        source=chosen.source,
        timeframe=chosen.timeframe,
        open_time=open_time,
        close_time=[t + step for t in open_time],
        open=open_,
        high=high,
        low=low,
        close=close,
    )


def _granularity(
    store: Store, symbol: str, granularity: str, until_ms: int
) -> GranularitySeries | None:
    step = TIMEFRAME_MS.get(granularity)
    chosen = market_repo.freshest_series(store, symbol, (granularity,), until_ms=until_ms)
    if step is None or chosen is None:
        return None
    rows = market_repo.candle_rows(store, chosen.source, symbol, granularity, 0, until_ms - step)
    values = indicators.compute([row[4] for row in rows])
    columns = {name: values[name].tolist() for name in INDICATOR_COLUMNS}
    bars = [
        IndicatorBar(
            open_time=row[0],
            close=row[4],
            high=row[2],
            low=row[3],
            **{name: _finite(column[i]) for name, column in columns.items()},
        )
        for i, row in enumerate(rows)
    ]
    return GranularitySeries(
        chosen.source,
        bars,
        [row[0] + step for row in rows],
        [row[1] for row in rows],
        [row[5] for row in rows],
    )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


class HistoryMarket:
    """Market memory at one instant of the history, answered from memory: what ``PropDesk``
    and the snapshots ask live's ``MarketSnapshot`` (``price``, ``asset``), and what a context
    packet reads (a :class:`~autotrader.context.market_reader.MarketReader`).

    Bars are those closed by ``now_ms`` (live shows the bar still forming too, whose later
    prices a replay would leak). Polymarket and DefiLlama observations are not replayed: those
    reads find nothing, and the packet says so.
    """

    def __init__(self, history: History, now_ms: int) -> None:
        self.history = history
        self.now_ms = now_ms

    def price(self, symbol: str) -> ExecutionPrice | None:
        found = self.history.symbols.get(symbol)
        return found.price(self.now_ms) if found else None

    def asset(self, symbol: str) -> AssetInfo | None:
        found = self.history.symbols.get(symbol)
        return found.asset if found else None

    def _visible(
        self, source: str, symbol: str, timeframe: str, until_ms: int
    ) -> tuple[GranularitySeries | None, int]:
        """The series and the end of its bars opened by ``until_ms`` and closed by now."""
        found = self.history.symbols.get(symbol)
        series = found.granularities.get(timeframe) if found else None
        if series is None or series.source != source:
            return None, 0
        last_close = min(self.now_ms, until_ms + TIMEFRAME_MS[timeframe])
        return series, bisect.bisect_right(series.close_time, last_close)

    def newest_open_time(
        self, source: str, symbol: str, timeframe: str, *, until_ms: int
    ) -> int | None:
        series, end = self._visible(source, symbol, timeframe, until_ms)
        return series.bars[end - 1].open_time if series is not None and end else None

    def candles(
        self, source: str, symbol: str, timeframe: str, since_ms: int, *, until_ms: int
    ) -> list[Candle]:
        series, end = self._visible(source, symbol, timeframe, until_ms)
        if series is None:
            return []
        start = bisect.bisect_left(series.close_time, since_ms + TIMEFRAME_MS[timeframe])
        candles = []
        for i in range(start, end):
            bar = series.bars[i]
            candles.append(
                Candle(
                    symbol,
                    timeframe,
                    bar.open_time,
                    series.open[i],
                    bar.high,
                    bar.low,
                    bar.close,
                    series.volume[i],
                )
            )
        return candles

    def indicator_rows(
        self, source: str, symbol: str, timeframe: str, *, until_ms: int, limit: int
    ) -> list[tuple]:
        series, end = self._visible(source, symbol, timeframe, until_ms)
        if series is None:
            return []
        return [
            (bar.open_time, *(getattr(bar, name) for name in INDICATOR_COLUMNS))
            for bar in series.bars[max(0, end - limit) : end]
        ]

    def funding_rows(self, symbol: str, *, until_ms: int, limit: int) -> list[tuple]:
        found = self.history.symbols.get(symbol)
        if found is None or limit <= 0:
            return []
        times = found.funding_times
        end = bisect.bisect_right(times, min(until_ms, self.now_ms))
        start = max(0, end - limit)
        # The newest ``limit`` in (time, source) order: rows tied at the oldest time kept in.
        start = bisect.bisect_left(times, times[start], hi=start) if start < end else start
        window = found.funding[start:end]
        rows = sorted(window, key=lambda r: (r["time"], _source_rank(r["source"])))[-limit:]
        return [(r["time"], r["source"], *(r[c] for c in FUNDING_COLUMNS)) for r in rows]

    def prediction_markets_for(
        self, scope: str, target: str, *, until_ms: int, limit: int, soonest: bool = False
    ) -> list[dict]:
        return []

    def prediction_prices_at(self, market_id: str, *, until_ms: int) -> tuple[int, dict]:
        return 0, {}

    def macro_latest(
        self, scope: str, subject: str, *, until_ms: int
    ) -> tuple[str, list[tuple[str, int, float]]]:
        return subject, []


def _source_rank(source: str) -> int:
    return SOURCE_PRIORITY.index(source) if source in SOURCE_PRIORITY else len(SOURCE_PRIORITY)
