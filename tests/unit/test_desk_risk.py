"""Risk arithmetic: stops, targets, what a position risks, sizing, correlation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autotrader.desk.models import RiskControls, TradeLimits
from autotrader.desk.risk import (
    correlation,
    default_stop,
    entry_risk,
    position_risk,
    size_entry,
    target_price,
)
from autotrader.prop.models import Side

D = Decimal


def test_the_default_stop_sits_on_the_losing_side_rounded_away_from_the_entry():
    assert default_stop(D("68523.26"), Side.LONG, D("-0.3")) == D("47966")
    assert default_stop(D("68523.26"), Side.SHORT, D("-0.3")) == D("89081")
    assert default_stop(D("1966.9"), Side.LONG, D("-0.01")) == D("1947.2")


def test_the_target_is_twice_the_stop_distance_beyond_the_entry():
    assert target_price(D(100), D(70), D(2)) == D(160)
    assert target_price(D(100), D(130), D(2)) == D(40)
    assert target_price(D(100), D(160), D(2)) is None  # a short cannot target below zero


def test_a_position_risks_its_distance_to_the_stop_or_all_of_it_without_one():
    assert position_risk(Side.LONG, D("0.5"), D(100), D(90)) == D(5)
    assert position_risk(Side.SHORT, D("0.5"), D(100), D(110)) == D(5)
    assert position_risk(Side.LONG, D("0.5"), D(100), None) == D(50)
    assert position_risk(Side.LONG, D("0.5"), D(100), D(105)) == D(0)  # a stop in profit
    assert entry_risk(D(60), D(100), D(70)) == D(18)


@pytest.mark.parametrize(
    ("open_risk", "stop", "expected"),
    [
        ("0", "70", "60"),  # the size limit binds: 60 USD at a 30 % stop risks 18 < 20
        ("0", "80", "60"),
        ("0", "50", "40"),  # the single-position budget: 20 USD / 50 %
        ("40", "70", "33.33"),  # what is left of the portfolio budget: 10 USD / 30 %
        ("60", "70", "60"),  # none left: not shrunk to nothing (the gate refuses it)
        ("0", None, "20"),  # no stop: all of it at risk, 2 % of equity
    ],
)
def test_sizing_takes_the_smallest_of_the_limits(open_risk, stop, expected):
    size = size_entry(
        equity=D(1000),
        entry=D(100),
        stop=D(stop) if stop else None,
        open_risk=D(open_risk),
        limits=TradeLimits(),
        controls=RiskControls(),
    )
    assert size == D(expected)


def test_correlation_needs_enough_common_hours():
    a = {t: float(t % 3) for t in range(10)}
    assert correlation(a, a) == 1.0
    assert correlation(a, {t: -v for t, v in a.items()}) == -1.0
    assert correlation(a, {t: a[t] for t in range(5)}) is None
    assert correlation(a, {t: 1.0 for t in range(10)}) is None  # no variance
