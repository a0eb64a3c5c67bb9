"""Row-level validation of candle payloads.

A malformed row never sinks its batch: it is rejected with a short reason (counted and logged by
the caller) and the rest is stored. Checks: every field present and numeric (strings of numbers
are accepted, as Hyperliquid sends prices as strings), finite, positive prices and non-negative
volume below bounds no market reaches, ``low <= min(open, close)`` and
``high >= max(open, close)``, times on the timeframe grid, and no duplicate or out-of-order open
times within the batch. :func:`reject_future` refuses bars that open after the clock (every
source's candles pass it on their way into the store).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from autotrader.market.models import TIMEFRAME_MS, Candle, Rejection

_FIELDS = ("open", "high", "low", "close", "volume")
# Bounds beyond any real market, so an absurd value is a rejected row rather than a float that
# later overflows a Decimal price or a notional: no asset trades near a trillion per unit (BTC
# quoted in Vietnamese dong is ~2.5e9), and no token has 1e18 units to trade in one bar.
MAX_PRICE = 1e12
MAX_VOLUME = 1e18


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:  # an int beyond any float (JSON allows 1 and 400 zeros)
            return math.inf if value > 0 else -math.inf
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def validate_candle_rows(
    rows: Iterable[Sequence[Any]], *, symbol: str, timeframe: str
) -> tuple[list[Candle], list[Rejection]]:
    """Validate ``[open_time_ms, open, high, low, close, volume]`` rows into candles.

    Returns the accepted candles in time order and one ``Rejection`` per refused row.
    """
    step = TIMEFRAME_MS[timeframe]
    accepted: list[Candle] = []
    rejected: list[Rejection] = []
    last_time: int | None = None
    seen: set[int] = set()
    for index, row in enumerate(rows):
        if not isinstance(row, (list, tuple)) or len(row) < 6:
            rejected.append(Rejection(index, "missing_fields", f"expected 6 fields, got {row!r}"))
            continue
        raw_time = _number(row[0])
        if raw_time is None or not math.isfinite(raw_time) or raw_time < 0:
            rejected.append(Rejection(index, "bad_time", repr(row[0])))
            continue
        open_time = int(raw_time)
        values = [_number(v) for v in row[1:6]]
        if any(v is None for v in values):
            rejected.append(Rejection(index, "not_a_number", repr(row[1:6])))
            continue
        o, h, low, c, v = (float(x) for x in values)  # type: ignore[arg-type]
        if not all(math.isfinite(x) for x in (o, h, low, c, v)):
            rejected.append(Rejection(index, "nan", repr(row[1:6])))
            continue
        if min(o, h, low, c) <= 0:
            rejected.append(Rejection(index, "non_positive_price", repr(row[1:5])))
            continue
        if max(o, h, low, c) > MAX_PRICE:
            rejected.append(Rejection(index, "price_out_of_range", repr(row[1:5])))
            continue
        if v < 0:
            rejected.append(Rejection(index, "negative_volume", repr(v)))
            continue
        if v > MAX_VOLUME:
            rejected.append(Rejection(index, "volume_out_of_range", repr(v)))
            continue
        if h < low or h < max(o, c) or low > min(o, c):
            rejected.append(Rejection(index, "high<low", f"o={o} h={h} l={low} c={c}"))
            continue
        if open_time % step:
            rejected.append(Rejection(index, "off_grid_time", f"{open_time} not on {timeframe}"))
            continue
        if open_time in seen:
            rejected.append(Rejection(index, "duplicate_time", str(open_time)))
            continue
        if last_time is not None and open_time < last_time:
            rejected.append(Rejection(index, "out_of_order", f"{open_time} after {last_time}"))
            continue
        seen.add(open_time)
        last_time = open_time
        accepted.append(Candle(symbol, timeframe, open_time, o, h, low, c, v))
    return accepted, rejected


def reject_future(
    candles: Sequence[Candle], *, now_ms: int
) -> tuple[list[Candle], list[Rejection]]:
    """Split ``candles`` into those opened by the clock and those from its future.

    A bar may open up to one bar after ``now_ms`` (a source's clock a little ahead of ours);
    anything later is a bad row, and storing it would make it the series' newest bar: what
    ``ingest latest`` and every strategy read. ``Rejection.index`` is the position in
    ``candles``.
    """
    kept: list[Candle] = []
    rejected: list[Rejection] = []
    for index, candle in enumerate(candles):
        if candle.open_time > now_ms + TIMEFRAME_MS[candle.timeframe]:
            rejected.append(Rejection(index, "future_time", f"{candle.open_time} > {now_ms}"))
        else:
            kept.append(candle)
    return kept, rejected
