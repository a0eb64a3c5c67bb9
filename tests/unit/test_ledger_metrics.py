"""Metrics against values worked out by hand on small series."""

from __future__ import annotations

import math
from decimal import Decimal as D

import pytest

from autotrader.ledger import metrics

HOUR = 3_600_000
# 100 → 110 (+10 %) → 99 (−10 %) → 108.9 (+10 %)
EQUITY = [D(100), D(110), D(99), D("108.9")]
HOURLY = [0, HOUR, 2 * HOUR, 3 * HOUR]


def test_simple_returns_are_per_period():
    assert metrics.simple_returns(EQUITY) == pytest.approx([0.1, -0.1, 0.1])


def test_a_period_starting_at_zero_equity_has_no_return():
    assert metrics.simple_returns([D(0), D(5), D(10)]) == pytest.approx([1.0])


def test_periods_per_year_come_from_the_median_spacing():
    assert metrics.periods_per_year(HOURLY) == 8760
    # one long pause does not change the period: the median gap is still an hour
    assert metrics.periods_per_year([0, HOUR, 2 * HOUR, 50 * HOUR, 51 * HOUR]) == 8760
    assert metrics.periods_per_year([5]) is None


def test_sharpe_matches_the_hand_computation():
    # mean 1/30; sample variance ((2/30)² + (4/30)² + (2/30)²) / 2 = 1/75
    expected = (1 / 30) / math.sqrt(1 / 75) * math.sqrt(8760)
    returns = metrics.simple_returns(EQUITY)
    assert metrics.sharpe(returns, 8760) == pytest.approx(expected)
    assert metrics.sharpe(returns, 8760) == pytest.approx(27.0191, rel=1e-4)


def test_sortino_uses_the_downside_deviation_over_every_return():
    # downside deviation sqrt(0.1² / 3)
    expected = (1 / 30) / math.sqrt(0.01 / 3) * math.sqrt(8760)
    assert metrics.sortino(metrics.simple_returns(EQUITY), 8760) == pytest.approx(expected)


def test_ratios_are_undefined_without_variance_or_losses():
    assert metrics.sharpe([0.01, 0.01, 0.01], 8760) is None
    assert metrics.sharpe([0.01], 8760) is None
    assert metrics.sortino([0.01, 0.02], 8760) is None
    assert metrics.sharpe([0.01, 0.02], None) is None


def test_max_drawdown_is_the_largest_fall_from_a_running_peak():
    assert metrics.max_drawdown(EQUITY) == D("0.1")  # 110 → 99
    assert metrics.max_drawdown([D(100), D(80), D(120), D(90), D(130)]) == D("0.25")
    assert metrics.max_drawdown([D(1), D(2), D(3)]) == 0
    assert metrics.max_drawdown([]) == 0


def test_drawdowns_are_exact_decimals():
    assert metrics.drawdowns([D(3), D(2), D(3)]) == [D(0), D(1) / D(3), D(0)]


def test_win_rate_counts_strictly_positive_trades():
    assert metrics.win_rate([D(10), D(-5), D(3), D(-2), D(0)]) == pytest.approx(0.4)
    assert metrics.win_rate([]) is None


def test_profit_factor_is_gross_profit_over_gross_loss():
    assert metrics.profit_factor([D(10), D(-5), D(3), D(-2), D(0)]) == pytest.approx(13 / 7)
    assert metrics.profit_factor([D(10), D(3)]) is None  # no loss: undefined, not infinite
    assert metrics.profit_factor([D(-1)]) == 0


def test_combine_sums_accounts_holding_a_late_account_at_its_start():
    a = [(0, D(100)), (2, D(110))]
    b = [(1, D(50)), (3, D(40))]
    assert metrics.combine([a, b], [D(100), D(50)]) == [
        (0, D(150)),  # b not started: its starting balance
        (1, D(150)),
        (2, D(160)),
        (3, D(150)),
    ]
