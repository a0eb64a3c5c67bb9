"""Synthetic candles are valid, deterministic and shaped by their regime."""

from __future__ import annotations

import dataclasses
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autotrader.market.models import TIMEFRAME_MS
from autotrader.market.sources.synthetic import generate, generate_segments
from autotrader.market.validation import validate_candle_rows
from tests.conftest import examples

T0 = 1_726_272_000_000  # 2024-09-14 00:00 UTC


def _revalidate(candles):
    rows = [dataclasses.astuple(c)[2:] for c in candles]
    return validate_candle_rows(rows, symbol="BTC", timeframe=candles[0].timeframe)


@pytest.mark.parametrize("regime", ["trend", "range", "crash"])
@pytest.mark.parametrize("timeframe", ["1m", "5m", "1h"])
def test_every_candle_passes_validation_on_the_grid(regime, timeframe):
    candles = generate("BTC", start_ms=T0, count=500, timeframe=timeframe, regime=regime)
    accepted, rejected = _revalidate(candles)
    assert rejected == []
    assert len(accepted) == 500
    step = TIMEFRAME_MS[timeframe]
    assert [c.open_time for c in candles] == [T0 + i * step for i in range(500)]
    assert all(c.symbol == "BTC" and c.timeframe == timeframe for c in candles)


def test_the_same_seed_gives_identical_candles_and_another_seed_does_not():
    first = generate("ETH", start_ms=T0, count=300, regime="range", seed=11)
    again = generate("ETH", start_ms=T0, count=300, regime="range", seed=11)
    other = generate("ETH", start_ms=T0, count=300, regime="range", seed=12)
    assert first == again
    assert first != other


def test_each_bar_opens_at_the_previous_close_starting_from_the_start_price():
    candles = generate("BTC", start_ms=T0, count=50, start_price=60_000.0)
    assert candles[0].open == 60_000.0
    assert all(b.open == a.close for a, b in pairwise(candles))


def test_a_trend_rises_and_a_range_stays_near_its_start():
    trend = generate("BTC", start_ms=T0, count=2_000, regime="trend", seed=1)
    ranging = generate("BTC", start_ms=T0, count=2_000, regime="range", seed=1)
    assert trend[-1].close > 120.0  # drift 0.0002/bar over 2,000 bars is about +50 %
    assert all(80.0 < c.close < 125.0 for c in ranging)


def test_a_crash_drops_sharply_partway_through():
    candles = generate("BTC", start_ms=T0, count=1_000, regime="crash", volatility=0.0005)
    before, after = candles[590].close, candles[660].close
    assert after < 0.75 * before
    assert 0.9 < candles[500].close / 100.0 < 1.1


def test_a_range_without_volatility_is_flat():
    flat = generate("BTC", start_ms=T0, count=20, regime="range", volatility=0.0)
    prices = [price for c in flat for price in (c.open, c.high, c.low, c.close)]
    assert prices == pytest.approx([100.0] * 80, rel=1e-14)


def test_segments_follow_each_other_on_one_grid():
    candles = generate_segments(
        "BTC", [("trend", 600), ("crash", 120), ("range", 720)], start_ms=T0, seed=5
    )
    assert len(candles) == 1_440
    accepted, rejected = _revalidate(candles)
    assert rejected == []
    assert len(accepted) == 1_440
    assert candles[-1].open_time == T0 + 1_439 * 60_000
    assert candles[720].close < 0.8 * candles[599].close
    assert candles == generate_segments(
        "BTC", [("trend", 600), ("crash", 120), ("range", 720)], start_ms=T0, seed=5
    )


def test_generate_is_a_single_segment():
    assert generate("BTC", start_ms=T0, count=100, regime="crash", seed=2) == generate_segments(
        "BTC", [("crash", 100)], start_ms=T0, seed=2
    )


def test_zero_candles_is_an_empty_list():
    assert generate("BTC", start_ms=T0, count=0) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"regime": "moon"}, "unknown regime 'moon'"),
        ({"timeframe": "4h"}, "unknown timeframe '4h'"),
        ({"start_ms": T0 + 1}, "not on the 1m grid"),
        ({"count": -1}, "negative count"),
        ({"start_price": 0.0}, "start_price must be a positive number"),
        ({"volatility": -0.1}, "volatility must be >= 0"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    arguments = {"start_ms": T0, "count": 10, **kwargs}
    with pytest.raises(ValueError, match=message):
        generate("BTC", **arguments)


@settings(max_examples=examples(30), deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    regime=st.sampled_from(["trend", "range", "crash"]),
    count=st.integers(1, 300),
    volatility=st.floats(0.0, 0.05),
)
def test_any_seed_and_volatility_give_valid_candles(seed, regime, count, volatility):
    candles = generate(
        "BTC", start_ms=T0, count=count, regime=regime, seed=seed, volatility=volatility
    )
    accepted, rejected = _revalidate(candles)
    assert rejected == []
    assert len(accepted) == count
