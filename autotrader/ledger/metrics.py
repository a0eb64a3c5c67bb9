"""Performance metrics from an equity series and a list of trade PnLs. Pure: no I/O, no clock.

Inputs are Decimal (equity, PnL); ratios come back as ``float`` — they are statistics of money,
not money, and the square root in Sharpe/Sortino leaves Decimal anyway. ``None`` means "not
defined for this input" (too few points, no variance, no losing trade), never zero.

Annualisation (Sharpe, Sortino): the returns are per period between consecutive snapshots
(simple returns ``e[i] / e[i-1] − 1``). Snapshots are not guaranteed to be evenly spaced (a
worker may pause), so the period is the *median* spacing of the series, and the ratio is scaled
by ``sqrt(periods per year)`` with ``periods per year = 365 days / median spacing`` — crypto
trades every day of the year. Risk-free rate 0. Sharpe uses the sample standard deviation
(n − 1); Sortino's downside deviation is ``sqrt(mean(min(r, 0)²))`` over every return (target 0).
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from decimal import Decimal

from autotrader.core.clock import YEAR_MS


def simple_returns(equity: Sequence[Decimal]) -> list[float]:
    """Per-period returns ``e[i] / e[i-1] − 1``; a period starting at zero (or below) equity has
    no defined return and is skipped."""
    return [
        float(current / previous - 1)
        for previous, current in itertools.pairwise(equity)
        if previous > 0
    ]


def periods_per_year(times_ms: Sequence[int]) -> float | None:
    """``365 days / median spacing`` of ``times_ms`` (ascending); None with fewer than two
    distinct times."""
    gaps = [b - a for a, b in itertools.pairwise(times_ms) if b > a]
    if not gaps:
        return None
    return YEAR_MS / statistics.median(gaps)


def sharpe(returns: Sequence[float], periods: float | None) -> float | None:
    """Annualised Sharpe ratio: ``mean / sample stdev · sqrt(periods)``. None with fewer than
    two returns, no spacing, or zero variance."""
    if len(returns) < 2 or not periods:
        return None
    deviation = statistics.stdev(returns)
    if deviation == 0:
        return None
    return statistics.fmean(returns) / deviation * math.sqrt(periods)


def sortino(returns: Sequence[float], periods: float | None) -> float | None:
    """Annualised Sortino ratio: ``mean / downside deviation · sqrt(periods)``. None with fewer
    than two returns, no spacing, or no negative return."""
    if len(returns) < 2 or not periods:
        return None
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in returns) / len(returns))
    if downside == 0:
        return None
    return statistics.fmean(returns) / downside * math.sqrt(periods)


def drawdowns(equity: Sequence[Decimal]) -> list[Decimal]:
    """Fraction below the running peak at each point (0 at a new high), exact Decimal."""
    result, peak = [], None
    for value in equity:
        peak = value if peak is None or value > peak else peak
        result.append((peak - value) / peak if peak > 0 else Decimal(0))
    return result


def max_drawdown(equity: Sequence[Decimal]) -> Decimal:
    """The largest fall from a running peak, as a fraction of that peak (0 for no fall)."""
    return max(drawdowns(equity), default=Decimal(0))


def win_rate(pnls: Sequence[Decimal]) -> float | None:
    """Share of trades with a positive net PnL; None without trades."""
    if not pnls:
        return None
    return sum(1 for p in pnls if p > 0) / len(pnls)


def profit_factor(pnls: Sequence[Decimal]) -> float | None:
    """Gross profit over gross loss; None when no trade lost (undefined, not infinite)."""
    loss = -sum((p for p in pnls if p < 0), Decimal(0))
    if loss == 0:
        return None
    return float(sum((p for p in pnls if p > 0), Decimal(0)) / loss)


def combine(series: Sequence[Sequence[tuple[int, Decimal]]], starts: Sequence[Decimal]):
    """Sum several accounts' equity series into one, on the union of their times.

    Each account contributes its last known equity at every time — before its first point, its
    starting balance (money waiting to be deployed), so an account joining late adds no fake
    return. Returns ``[(time_ms, equity)]`` ascending."""
    times = sorted({t for points in series for t, _ in points})
    cursors = [0] * len(series)
    current = list(starts)
    combined = []
    for t in times:
        for i, points in enumerate(series):
            while cursors[i] < len(points) and points[cursors[i]][0] <= t:
                current[i] = points[cursors[i]][1]
                cursors[i] += 1
        combined.append((t, sum(current, Decimal(0))))
    return combined
