"""Indicators match TA-Lib's golden outputs, in one pass and when updated bar batch by batch."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autotrader.market.indicators import (
    INDICATOR_COLUMNS,
    ROW_COLUMNS,
    WARMUP_BARS,
    compute,
    incremental,
    to_rows,
    window_start,
)
from tests.conftest import TEST_DATA, examples

GOLDEN = TEST_DATA / "candles" / "golden_talib_BTC_USDT-1h_first2000.csv"
EXACT = 1e-9
# TA-Lib's Bollinger σ comes from running sums of x and x² (cancellation at 60,000² ≈ 3.6e9),
# so a window started later than bar 0 lands ~1e-8 away; see the indicators module docstring.
BAND_TOLERANCE = 1e-7
BANDS = ("bb_upper", "bb_lower")


def _golden() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    with GOLDEN.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    closes = np.array([float(row["close"]) for row in rows])
    columns = {
        name: np.array([float(row[name]) if row[name] else math.nan for row in rows])
        for name in INDICATOR_COLUMNS
    }
    return closes, columns


@pytest.fixture(scope="module")
def golden() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    return _golden()


def _assert_close(actual: np.ndarray, expected: np.ndarray, tolerance: float, name: str) -> None:
    assert actual.shape == expected.shape, name
    assert np.array_equal(np.isnan(actual), np.isnan(expected)), f"{name}: NaN positions differ"
    worst = np.nanmax(np.abs(actual - expected), initial=0.0)
    assert worst < tolerance, f"{name}: off by {worst:.3g}"


def _simulate_store(closes: np.ndarray, batch_sizes: list[int]) -> dict[str, np.ndarray]:
    """Feed ``closes`` in batches as the store does, keeping only each batch's new values."""
    stored: dict[str, list[np.ndarray]] = {name: [] for name in INDICATOR_COLUMNS}
    existing, turn = 0, 0
    while existing < len(closes):
        batch = batch_sizes[turn % len(batch_sizes)]
        turn += 1
        end = min(existing + batch, len(closes))
        start = window_start(existing)
        new_values = incremental(closes[start:end], existing - start)
        for name, values in new_values.items():
            assert len(values) == end - existing
            stored[name].append(values)
        existing = end
    return {name: np.concatenate(parts) for name, parts in stored.items()}


def test_compute_matches_talib_golden_file(golden):
    closes, expected = golden
    values = compute(closes)
    assert tuple(values) == INDICATOR_COLUMNS
    for name in INDICATOR_COLUMNS:
        _assert_close(values[name], expected[name], EXACT, name)


def test_first_values_appear_where_talib_has_enough_history(golden):
    closes, _ = golden
    values = compute(closes)
    first = {name: int(np.argmax(~np.isnan(column))) for name, column in values.items()}
    assert first["rsi14"] == 14
    assert first["sma20"] == first["ema20"] == first["bb_upper"] == 19
    # TA-Lib holds the MACD line back until its signal line exists too
    assert first["macd"] == first["macd_signal"] == first["macd_hist"] == 33


@pytest.mark.parametrize("batch_sizes", [[1], [7], [50], [1, 7, 50, 3]])
def test_incremental_batches_match_golden_for_every_bar(golden, batch_sizes):
    closes, expected = golden
    values = _simulate_store(closes, batch_sizes)
    for name in INDICATOR_COLUMNS:
        tolerance = BAND_TOLERANCE if name in BANDS else EXACT
        _assert_close(values[name], expected[name], tolerance, name)


def test_window_starts_warmup_bars_back_or_at_the_first_bar():
    assert window_start(0) == 0
    assert window_start(WARMUP_BARS - 1) == 0
    assert window_start(WARMUP_BARS) == 0
    assert window_start(WARMUP_BARS + 250) == 250
    with pytest.raises(ValueError, match=">= 0"):
        window_start(-1)


def test_incremental_with_a_short_history_is_the_full_history(golden):
    closes, _ = golden
    full = compute(closes[:300])
    new = incremental(closes[:300], 120)
    for name in INDICATOR_COLUMNS:
        np.testing.assert_array_equal(new[name], full[name][120:])


def test_incremental_refuses_a_first_new_index_outside_the_window():
    with pytest.raises(ValueError, match="outside"):
        incremental(np.ones(10), 11)
    with pytest.raises(ValueError, match="outside"):
        incremental(np.ones(10), -1)


def test_compute_refuses_a_two_dimensional_input():
    with pytest.raises(ValueError, match="one-dimensional"):
        compute(np.ones((3, 3)))


def test_compute_on_an_empty_series_gives_empty_columns():
    values = compute(np.array([], dtype=np.float64))
    assert all(len(column) == 0 for column in values.values())


def test_to_rows_turns_nan_into_none_and_keeps_column_order(golden):
    closes, _ = golden
    times = np.arange(40, dtype=np.int64) * 3_600_000
    rows = to_rows(times, compute(closes[:40]))
    assert len(rows) == 40
    assert all(len(row) == len(ROW_COLUMNS) for row in rows)
    assert rows[0] == (0, *([None] * len(INDICATOR_COLUMNS)))
    last = dict(zip(ROW_COLUMNS, rows[-1], strict=True))
    assert last["open_time"] == 39 * 3_600_000
    assert all(type(last[name]) is float for name in INDICATOR_COLUMNS)
    assert type(rows[-1][0]) is int
    assert dict(zip(ROW_COLUMNS, rows[20], strict=True))["macd"] is None


def test_to_rows_refuses_mismatched_lengths_and_missing_columns():
    values = compute(np.linspace(100.0, 120.0, 30))
    with pytest.raises(ValueError, match="has 30 values for 29 times"):
        to_rows(list(range(29)), values)
    del values["ema20"]
    with pytest.raises(ValueError, match="missing indicator values: ema20"):
        to_rows(list(range(30)), values)


def test_warmup_is_long_enough_for_the_slowest_seed_to_fade():
    # a seed error as large as the price itself must shrink below 1e-12 by the first new bar;
    # Wilder's 13/14 (RSI, seeded at bar 14) and 25/27 (MACD's slow EMA, bar 25) are slowest
    assert (13 / 14) ** (WARMUP_BARS - 14) * 60_000 < 1e-12
    assert (25 / 27) ** (WARMUP_BARS - 26) * 60_000 < 1e-12


@settings(max_examples=examples(30), deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    length=st.integers(1, 1_500),
    batch_sizes=st.lists(st.integers(1, 120), min_size=1, max_size=5),
)
def test_incremental_equals_full_on_random_walks(seed, length, batch_sizes):
    rng = np.random.default_rng(seed)
    closes = 60_000.0 * np.exp(np.cumsum(rng.normal(0.0, 0.003, length)))
    full = compute(closes)
    values = _simulate_store(closes, batch_sizes)
    for name in INDICATOR_COLUMNS:
        tolerance = BAND_TOLERANCE if name in BANDS else EXACT
        _assert_close(values[name], full[name], tolerance, name)
