"""Seeded synthetic candles for tests, demos and benchmarks: no network, same seed, same bars.

Closes follow a geometric random walk whose drift depends on the regime:

- ``trend``: a steady upward drift (a tenth of the per-bar volatility each bar);
- ``range``: mean reversion towards the price the segment started at;
- ``crash``: flat, then a 30 % drop spread over a twentieth of the segment starting 60 % of the
  way in, then flat again.

Each bar opens at the previous close; wicks extend beyond open/close by a random amount, so
every candle passes ``validate_candle_rows``. Volume grows with the size of the move.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from autotrader.market.models import TIMEFRAME_MS, Candle

Regime = Literal["trend", "range", "crash"]
REGIMES: tuple[str, ...] = ("trend", "range", "crash")
DEFAULT_VOLATILITY = 0.002  # standard deviation of one bar's log return (~0.2 %)

_TREND_DRIFT_PER_VOL = 0.1  # drift per bar, in units of volatility
_RANGE_PULL = 0.05  # fraction of the gap to the anchor price closed each bar
_CRASH_DROP = math.log(0.7)  # log move of the whole crash (-30 %)
_CRASH_START, _CRASH_LENGTH = 0.6, 0.05  # fractions of the segment
_BASE_VOLUME = 1_000.0


def generate(
    symbol: str,
    *,
    start_ms: int,
    count: int,
    timeframe: str = "1m",
    regime: str = "trend",
    seed: int = 0,
    start_price: float = 100.0,
    volatility: float = DEFAULT_VOLATILITY,
) -> list[Candle]:
    """``count`` consecutive candles of one regime, the first opening at ``start_ms``.

    ``start_ms`` is epoch ms on the ``timeframe`` grid; ``volatility`` is the per-bar standard
    deviation of log returns. The same arguments always give the same candles. Raises
    ``ValueError`` for an unknown regime or timeframe, an off-grid or negative start, a negative
    count, a non-positive start price or a negative volatility.
    """
    return generate_segments(
        symbol,
        [(regime, count)],
        start_ms=start_ms,
        timeframe=timeframe,
        seed=seed,
        start_price=start_price,
        volatility=volatility,
    )


def generate_segments(
    symbol: str,
    segments: Sequence[tuple[str, int]],
    *,
    start_ms: int,
    timeframe: str = "1m",
    seed: int = 0,
    start_price: float = 100.0,
    volatility: float = DEFAULT_VOLATILITY,
) -> list[Candle]:
    """Candles for consecutive regime segments, e.g. ``[("trend", 600), ("crash", 120)]``.

    Each segment continues from the previous one's last close; a ``range`` segment reverts to
    the price it started at. Arguments and errors are as for ``generate``.
    """
    step = _check(segments, start_ms, timeframe, start_price, volatility)
    rng = np.random.default_rng(seed)
    log_closes = _log_path(rng, segments, math.log(start_price), volatility)
    return _candles(rng, symbol, timeframe, start_ms, step, start_price, log_closes, volatility)


def _check(
    segments: Sequence[tuple[str, int]],
    start_ms: int,
    timeframe: str,
    start_price: float,
    volatility: float,
) -> int:
    if timeframe not in TIMEFRAME_MS:
        raise ValueError(
            f"unknown timeframe {timeframe!r}; expected one of {', '.join(TIMEFRAME_MS)}"
        )
    step = TIMEFRAME_MS[timeframe]
    if start_ms < 0 or start_ms % step:
        raise ValueError(f"start_ms {start_ms} is not on the {timeframe} grid")
    for regime, count in segments:
        if regime not in REGIMES:
            raise ValueError(f"unknown regime {regime!r}; expected one of {', '.join(REGIMES)}")
        if count < 0:
            raise ValueError(f"segment {regime!r} has a negative count {count}")
    if not (math.isfinite(start_price) and start_price > 0):
        raise ValueError(f"start_price must be a positive number, got {start_price}")
    if not (math.isfinite(volatility) and volatility >= 0):
        raise ValueError(f"volatility must be >= 0, got {volatility}")
    return step


def _log_path(
    rng: np.random.Generator, segments: Sequence[tuple[str, int]], log_start: float, vol: float
) -> np.ndarray:
    """Log closes of all segments, each continuing from the last log close before it."""
    parts: list[np.ndarray] = []
    level = log_start
    for regime, count in segments:
        if count == 0:
            continue
        shocks = rng.normal(0.0, vol, count)
        if regime == "trend":
            path = level + np.cumsum(shocks + _TREND_DRIFT_PER_VOL * vol)
        elif regime == "range":
            path = _mean_reverting(level, shocks)
        else:
            path = level + np.cumsum(shocks + _crash_moves(count))
        parts.append(path)
        level = float(path[-1])
    return np.concatenate(parts) if parts else np.empty(0)


def _mean_reverting(anchor: float, shocks: np.ndarray) -> np.ndarray:
    # an Ornstein-Uhlenbeck step in log price; a loop because each step depends on the last
    path = np.empty_like(shocks)
    level = anchor
    for index, shock in enumerate(shocks):
        level += _RANGE_PULL * (anchor - level) + shock
        path[index] = level
    return path


def _crash_moves(count: int) -> np.ndarray:
    moves = np.zeros(count)
    length = max(1, round(count * _CRASH_LENGTH))
    start = min(int(count * _CRASH_START), count - length)
    moves[start : start + length] = _CRASH_DROP / length
    return moves


def _candles(
    rng: np.random.Generator,
    symbol: str,
    timeframe: str,
    start_ms: int,
    step: int,
    start_price: float,
    log_closes: np.ndarray,
    vol: float,
) -> list[Candle]:
    count = len(log_closes)
    if count == 0:
        return []
    closes = np.exp(log_closes)
    opens = np.concatenate(([start_price], closes[:-1]))
    # exp(|x|) >= 1, so wicks never cut into the body: high >= max(o, c), low <= min(o, c)
    highs = np.maximum(opens, closes) * np.exp(np.abs(rng.normal(0.0, vol / 2, count)))
    lows = np.minimum(opens, closes) * np.exp(-np.abs(rng.normal(0.0, vol / 2, count)))
    moves = np.abs(np.log(closes / opens))
    volumes = _BASE_VOLUME * rng.lognormal(0.0, 0.5, count) * (1.0 + 100.0 * moves)
    return [
        Candle(symbol, timeframe, start_ms + index * step, o, h, low, c, v)
        for index, (o, h, low, c, v) in enumerate(
            zip(
                opens.tolist(),
                highs.tolist(),
                lows.tolist(),
                closes.tolist(),
                volumes.tolist(),
                strict=True,
            )
        )
    ]
