"""Derivation: roll source candles up to 1h and compute indicators, in the store.

Called after new source candles land (in the same transaction). Indicators are recomputed over
the whole stored series — retention bounds it to about 1,440 1m or 168 1h bars, which TA-Lib
does in microseconds — so stored values equal a full-history computation exactly, including
Bollinger bands, whose running-sum σ depends on where a computation starts. Only rows from the
first changed bar on are written. A series longer than ``FULL_HISTORY_BARS`` (an imported
multi-year file, say) falls back to a window of ``indicators.WARMUP_BARS`` bars before the new
ones, which matches full history to 1e-9 for every indicator but the bands (~1e-8).
"""

from __future__ import annotations

from dataclasses import dataclass

from autotrader.core.db import Store
from autotrader.market import indicators, repo
from autotrader.market.models import TIMEFRAME_MS
from autotrader.market.rollup import bucket_bounds, rollup_with_counts

FULL_HISTORY_BARS = 5_000
ROLLUP_TIMEFRAME = "1h"


@dataclass(frozen=True)
class DeriveReport:
    rollups: int
    indicator_rows: int


def compute_indicators(
    store: Store, source: str, symbol: str, timeframe: str, since_ms: int
) -> int:
    """(Re)compute indicator rows of one series for bars opening at or after ``since_ms``."""
    total = repo.count_candles(store, source, symbol, timeframe)
    if total == 0:
        return 0
    if total <= FULL_HISTORY_BARS:
        limit = total
    else:
        limit = (
            repo.count_candles(store, source, symbol, timeframe, since_ms=since_ms)
            + indicators.WARMUP_BARS
        )
    times, closes = repo.closes(store, source, symbol, timeframe, limit=limit)
    first_new = next((i for i, t in enumerate(times) if t >= since_ms), len(times))
    if first_new == len(times):
        return 0
    values = indicators.incremental(closes, first_new)
    rows = indicators.to_rows(times[first_new:], values)
    return repo.upsert_indicators(store, source, symbol, timeframe, rows)


def derive(store: Store, source: str, symbol: str, timeframe: str, since_ms: int) -> DeriveReport:
    """Roll up and compute indicators after source candles of ``timeframe`` changed from
    ``since_ms`` on. Idempotent: running it twice writes the same values."""
    rollups = 0
    indicator_rows = compute_indicators(store, source, symbol, timeframe, since_ms)
    if timeframe != ROLLUP_TIMEFRAME and TIMEFRAME_MS[timeframe] < TIMEFRAME_MS[ROLLUP_TIMEFRAME]:
        bucket_start, _ = bucket_bounds(since_ms, ROLLUP_TIMEFRAME)
        base = repo.candles_between(store, source, symbol, timeframe, bucket_start)
        rollups = repo.upsert_rollups(store, source, rollup_with_counts(base, ROLLUP_TIMEFRAME))
        indicator_rows += compute_indicators(store, source, symbol, ROLLUP_TIMEFRAME, bucket_start)
    return DeriveReport(rollups, indicator_rows)


def find_gaps(
    open_times: list[int], *, since_ms: int, until_ms: int, step_ms: int
) -> list[tuple[int, int]]:
    """Missing bar ranges ``(first_missing, last_missing)`` between ``since_ms`` and ``until_ms``.

    ``open_times`` are the stored bars, ascending. Bars are expected on the ``step_ms`` grid from
    the first grid point at or after ``since_ms`` through ``until_ms``.
    """
    start = -(-since_ms // step_ms) * step_ms
    gaps: list[tuple[int, int]] = []
    expected = start
    for t in open_times:
        if t < start:
            continue
        if t > until_ms:
            break
        if t > expected:
            gaps.append((expected, t - step_ms))
        expected = max(expected, t + step_ms)
    if expected <= until_ms:
        gaps.append((expected, until_ms - (until_ms - expected) % step_ms))
    return gaps
