"""A signal's score, side, confidence and source from its components."""

from __future__ import annotations

from decimal import Decimal

from autotrader.desk.signals import Analysis
from autotrader.desk.vocabulary import SignalSource
from autotrader.prop.models import Side


def analysis(**components: float) -> Analysis:
    return Analysis("BTC", "5m", 0, Decimal(60000), components)


def test_the_score_is_the_weighted_sum_and_its_sign_the_side():
    reading = analysis(trend=1.0, breakout=1.0)
    assert reading.score == 0.8
    assert reading.side is Side.LONG
    assert reading.confidence == 0.9
    assert analysis(trend=-1.0).side is Side.SHORT


def test_a_score_under_the_minimum_is_no_signal():
    assert analysis(trend=0.5, momentum=-0.5).side is None  # 0.10
    assert analysis(funding=1.0).side is Side.LONG  # 0.15: the least that counts


def test_confidence_is_capped_below_certainty():
    assert analysis(trend=1, momentum=1, breakout=1, volume=1, polymarket=1).confidence == 0.99


def test_the_source_is_where_most_of_the_score_came_from():
    assert analysis(trend=1.0, volume=1.0).source is SignalSource.INDICATOR
    assert analysis(trend=0.5, volume=1.0, polymarket=1.0).source is SignalSource.POLYMARKET
    assert analysis(funding=1.0, volume=1.0).source is SignalSource.VOLUME
