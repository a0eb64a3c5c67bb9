"""The market snapshot a decision engine reads: the execution price and the last bars with their
indicators, as of the decision time, from market memory.

Replay clocks never see the future: only bars opened at or before ``now_ms`` are read, and the
newest bar is left out while it is still forming *and* the store already holds a bar of the
same source opened after ``now_ms`` within its span (a replay over stored history), because its
close and indicators were then built from after ``now_ms``. Live, nothing later is stored, so the
forming bar (built from the data seen so far) is kept.
"""

from __future__ import annotations

import math

from autotrader.core.db import Store
from autotrader.decisions.engines.base import IndicatorBar, MarketSnapshot
from autotrader.market import repo
from autotrader.market.models import INDICATOR_COLUMNS, TIMEFRAME_MS, Candle
from autotrader.market.view import execution_price

_INDICATORS = INDICATOR_COLUMNS
# Read a window twice the requested length, so a few missing bars (an exchange outage) still
# leave ``bars`` candles to return; a longer gap just yields fewer bars.
_WINDOW_FACTOR = 2


def market_snapshot(
    store: Store, symbol: str, *, now_ms: int, granularity: str = "1h", bars: int = 50
) -> MarketSnapshot:
    """The execution price of ``symbol`` at ``now_ms`` and its last ``bars`` candles at
    ``granularity`` joined with their indicator rows, ascending.

    The price is :func:`autotrader.market.view.execution_price` (Decimal, with its time). The
    bars come from the freshest stored source of that timeframe (among
    ``repo.SOURCE_PRIORITY``, which breaks ties), counting only bars opened at
    or before ``now_ms`` (see the module docstring for the forming bar). Indicators missing in
    the store, or not finite, are None. Nothing stored, an unknown granularity or ``bars < 1``
    give empty bars; no price gives ``price=None``. Never raises for missing data.
    """
    price = execution_price(store, symbol, now_ms)
    snapshot_bars = _bars(store, symbol, now_ms, granularity, bars)
    return MarketSnapshot(
        symbol=symbol,
        price=price.price if price is not None else None,
        price_time=price.as_of if price is not None else None,
        granularity=granularity,
        bars=snapshot_bars,
    )


def _bars(
    store: Store, symbol: str, now_ms: int, granularity: str, count: int
) -> tuple[IndicatorBar, ...]:
    step = TIMEFRAME_MS.get(granularity)
    if step is None or count < 1:
        return ()
    chosen = _freshest_source(store, symbol, granularity, now_ms)
    if chosen is None:
        return ()
    source, newest_time = chosen
    since = newest_time - _WINDOW_FACTOR * count * step
    candles = repo.candles_between(store, source, symbol, granularity, since, until_ms=now_ms)
    if candles and _forming_bar_sees_future(store, source, symbol, candles[-1], now_ms):
        candles = candles[:-1]
    candles = candles[-count:]
    if not candles:
        return ()
    rows = repo.indicators_between(
        store, source, symbol, granularity, candles[0].open_time, candles[-1].open_time
    )
    by_time = {row["open_time"]: row for row in rows}
    return tuple(_bar(candle, by_time.get(candle.open_time)) for candle in candles)


def _freshest_source(
    store: Store, symbol: str, timeframe: str, now_ms: int
) -> tuple[str, int] | None:
    """(source, newest open_time) of the ``timeframe`` series whose newest bar opened by
    ``now_ms`` is the latest; ties go to ``repo.SOURCE_PRIORITY`` order.

    The same choice as ``repo.freshest_series`` for one timeframe, but one primary-key seek
    per source: ``freshest_series`` aggregates over every stored candle of the symbol, which
    costs milliseconds per call on a real store and a snapshot is read for every decision.
    """
    best: tuple[str, int] | None = None
    for source in repo.SOURCE_PRIORITY:
        row = repo.latest_candle(store, source, symbol, timeframe, until_ms=now_ms)
        if row is not None and (best is None or row["open_time"] > best[1]):
            best = (source, row["open_time"])
    return best


def _forming_bar_sees_future(
    store: Store, source: str, symbol: str, newest: Candle, now_ms: int
) -> bool:
    """True when ``newest`` is still forming at ``now_ms`` while the store already holds a bar
    of the same source opened after ``now_ms`` and by its close: its values were then built
    from the future (a finer source bar inside it, or the next bar of its own series)."""
    step = TIMEFRAME_MS[newest.timeframe]
    closes_at = newest.open_time + step
    if closes_at <= now_ms:
        return False  # closed: built only from the past
    # Primary-key range reads (a few rows at most), not a scan of the symbol's history.
    return any(
        repo.candles_between(store, source, symbol, timeframe, now_ms + 1, until_ms=closes_at)
        for timeframe, tf_step in TIMEFRAME_MS.items()
        if tf_step <= step
    )


def _bar(candle: Candle, row: dict | None) -> IndicatorBar:
    values = {name: _finite(row.get(name)) if row else None for name in _INDICATORS}
    return IndicatorBar(
        open_time=candle.open_time,
        close=candle.close,
        high=candle.high,
        low=candle.low,
        **values,
    )


def _finite(value: object) -> float | None:
    # Stored indicators are NULL where TA-Lib had too little history; treat NaN/inf the same.
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None
