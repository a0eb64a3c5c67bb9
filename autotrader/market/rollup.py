"""Roll fine candles (1m, 5m) up into coarser ones (1h), with a count of source bars per bucket.

A bucket is ``[floor(open_time / step) * step, + step)`` in epoch ms, UTC. The rolled candle
takes the open of its first source bar, the highest high, the lowest low, the close of its last
bar and the summed volume. Buckets with missing source bars are still produced; the count lets
the caller decide whether an hour is complete (60 1m bars or 12 5m bars).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from itertools import pairwise
from operator import attrgetter

from autotrader.market.models import TIMEFRAME_MS, Candle

_OPEN_TIME = attrgetter("open_time")
_HIGH, _LOW, _VOLUME = attrgetter("high"), attrgetter("low"), attrgetter("volume")


def _step(timeframe: str) -> int:
    try:
        return TIMEFRAME_MS[timeframe]
    except KeyError:
        known = ", ".join(TIMEFRAME_MS)
        raise ValueError(f"unknown timeframe {timeframe!r}; expected one of {known}") from None


def bucket_bounds(open_time: int, target: str = "1h") -> tuple[int, int]:
    """``(start, end)`` epoch ms of the ``target`` bucket holding ``open_time``; end exclusive.

    Raises ``ValueError`` for an unknown timeframe.
    """
    step = _step(target)
    start = open_time - open_time % step
    return start, start + step


def bars_per_bucket(source: str, target: str = "1h") -> int:
    """How many ``source`` bars make a complete ``target`` bar (60 for 1m→1h, 12 for 5m→1h).

    Raises ``ValueError`` if either timeframe is unknown or ``source`` does not divide ``target``.
    """
    source_step, target_step = _step(source), _step(target)
    if target_step % source_step:
        raise ValueError(f"cannot roll {source} candles up into {target}")
    return target_step // source_step


def _single(values: set[str], what: str) -> str:
    distinct = sorted(values)
    if len(distinct) != 1:
        raise ValueError(f"rollup needs candles of one {what}, got {', '.join(distinct)}")
    return distinct[0]


def rollup_with_counts(candles: Iterable[Candle], target: str = "1h") -> list[tuple[Candle, int]]:
    """Rolled ``target`` candles in ascending time, each with its number of source bars.

    Input may be unsorted. Raises ``ValueError`` for mixed symbols or timeframes, a source
    timeframe that does not divide ``target``, or two source bars with the same open time.
    """
    bars = sorted(candles, key=_OPEN_TIME)
    if not bars:
        return []
    symbol = _single({bar.symbol for bar in bars}, "symbol")
    source = _single({bar.timeframe for bar in bars}, "timeframe")
    bars_per_bucket(source, target)  # validates the pair before any work
    step = _step(target)
    times = [bar.open_time for bar in bars]
    if len(set(times)) != len(times):
        # summing both would double the volume; duplicates mean an upstream bug
        duplicate = next(a for a, b in pairwise(times) if a == b)
        raise ValueError(f"two {source} candles open at {duplicate}")

    rolled: list[tuple[Candle, int]] = []
    first = 0
    while first < len(times):
        # bars are sorted, so a bucket is one run of the list: find its end by bisection
        start = times[first] - times[first] % step
        end = bisect_left(times, start + step, first)
        rolled.append((_merge(bars[first:end], symbol, target, start), end - first))
        first = end
    return rolled


def _merge(group: list[Candle], symbol: str, target: str, open_time: int) -> Candle:
    return Candle(
        symbol=symbol,
        timeframe=target,
        open_time=open_time,
        open=group[0].open,
        high=max(map(_HIGH, group)),
        low=min(map(_LOW, group)),
        close=group[-1].close,
        volume=sum(map(_VOLUME, group)),
    )


def rollup(candles: Iterable[Candle], target: str = "1h") -> list[Candle]:
    """Rolled ``target`` candles in ascending time (see ``rollup_with_counts`` for the rules)."""
    return [candle for candle, _count in rollup_with_counts(candles, target)]
