"""Rolling 1m and 5m candles up into 1h candles."""

from __future__ import annotations

import random

import pytest

from autotrader.market.models import Candle
from autotrader.market.rollup import bars_per_bucket, bucket_bounds, rollup, rollup_with_counts
from autotrader.market.sources.synthetic import generate

HOUR = 3_600_000
MINUTE = 60_000
T0 = 1_726_272_000_000  # 2024-09-14 00:00 UTC, on the hour


def bar(minute: int, *, price: float = 100.0, timeframe: str = "1m", symbol: str = "BTC") -> Candle:
    """A bar opening ``minute`` minutes after T0 whose prices encode the minute."""
    return Candle(
        symbol, timeframe, T0 + minute * MINUTE, price, price + 2, price - 2, price + 1, 1.5
    )


def test_a_full_hour_of_1m_bars_becomes_one_1h_candle():
    bars = [bar(m, price=100.0 + m) for m in range(60)]
    [(candle, count)] = rollup_with_counts(bars)
    assert count == 60 == bars_per_bucket("1m", "1h")
    assert candle == Candle("BTC", "1h", T0, 100.0, 161.0, 98.0, 160.0, 90.0)


def test_twelve_5m_bars_make_a_complete_hour():
    bars = [bar(m * 5, price=50.0 + m, timeframe="5m") for m in range(24)]
    rolled = rollup_with_counts(bars)
    assert [count for _, count in rolled] == [12, 12] == [bars_per_bucket("5m")] * 2
    first, second = (candle for candle, _ in rolled)
    assert (first.open_time, first.open, first.close) == (T0, 50.0, 62.0)
    assert (second.open_time, second.open, second.high, second.low) == (T0 + HOUR, 62.0, 75.0, 60.0)
    assert first.timeframe == second.timeframe == "1h"


def test_a_partial_hour_is_rolled_with_its_smaller_count():
    rolled = rollup_with_counts([bar(m) for m in range(90)])
    assert [(candle.open_time, count) for candle, count in rolled] == [(T0, 60), (T0 + HOUR, 30)]


def test_an_hour_with_a_gap_counts_only_the_bars_present():
    bars = [bar(m, price=100.0 + m) for m in range(60) if not 20 <= m < 30]
    [(candle, count)] = rollup_with_counts(bars)
    assert count == 50
    assert (candle.open, candle.close, candle.volume) == (100.0, 160.0, 75.0)


def test_a_single_bar_in_the_middle_of_an_hour_keeps_the_bucket_start():
    [(candle, count)] = rollup_with_counts([bar(37, price=42.0)])
    assert count == 1
    assert candle == Candle("BTC", "1h", T0, 42.0, 44.0, 40.0, 43.0, 1.5)


def test_unsorted_input_gives_the_same_ascending_result():
    bars = [bar(m, price=100.0 + m % 17) for m in range(180)]
    shuffled = bars[:]
    random.Random(7).shuffle(shuffled)
    assert rollup(shuffled) == rollup(bars)
    assert [c.open_time for c in rollup(shuffled)] == [T0, T0 + HOUR, T0 + 2 * HOUR]


def test_a_bar_exactly_on_the_hour_opens_the_next_bucket():
    rolled = rollup_with_counts([bar(59, price=1.0), bar(60, price=2.0)])
    assert [(candle.open_time, candle.open, count) for candle, count in rolled] == [
        (T0, 1.0, 1),
        (T0 + HOUR, 2.0, 1),
    ]


def test_the_symbol_is_kept():
    [candle] = rollup([bar(0, symbol="PURR/USDC")])
    assert candle.symbol == "PURR/USDC"


def test_no_candles_roll_up_to_nothing():
    assert rollup([]) == []


def test_mixed_timeframes_are_refused():
    with pytest.raises(ValueError, match="one timeframe, got 1m, 5m"):
        rollup([bar(0), bar(5, timeframe="5m")])


def test_mixed_symbols_are_refused():
    with pytest.raises(ValueError, match="one symbol"):
        rollup([bar(0), bar(1, symbol="ETH")])


def test_duplicate_open_times_are_refused_instead_of_double_counting_volume():
    with pytest.raises(ValueError, match="two 1m candles open at"):
        rollup([bar(3), bar(3)])


def test_coarser_or_unknown_targets_are_refused():
    hourly = bar(0, timeframe="1h")
    with pytest.raises(ValueError, match="cannot roll 1h candles up into 5m"):
        rollup([hourly], target="5m")
    with pytest.raises(ValueError, match="unknown timeframe '4h'"):
        rollup([bar(0)], target="4h")


def test_bucket_bounds_are_the_enclosing_hour_with_an_exclusive_end():
    assert bucket_bounds(T0) == (T0, T0 + HOUR)
    assert bucket_bounds(T0 + HOUR - 1) == (T0, T0 + HOUR)
    assert bucket_bounds(T0 + 61 * MINUTE) == (T0 + HOUR, T0 + 2 * HOUR)
    assert bucket_bounds(T0 + 7 * MINUTE, "5m") == (T0 + 5 * MINUTE, T0 + 10 * MINUTE)


def test_rolling_1m_and_5m_views_of_the_same_market_agree():
    minutes = generate("BTC", start_ms=T0, count=600, seed=3)
    fives = [
        Candle(
            "BTC",
            "5m",
            chunk[0].open_time,
            chunk[0].open,
            max(c.high for c in chunk),
            min(c.low for c in chunk),
            chunk[-1].close,
            sum(c.volume for c in chunk),
        )
        for chunk in (minutes[i : i + 5] for i in range(0, 600, 5))
    ]
    from_minutes, from_fives = rollup(minutes), rollup(fives)
    assert len(from_minutes) == 10
    for a, b in zip(from_minutes, from_fives, strict=True):
        assert (a.open_time, a.open, a.high, a.low, a.close) == (
            b.open_time,
            b.open,
            b.high,
            b.low,
            b.close,
        )
        assert a.volume == pytest.approx(b.volume, rel=1e-12)
