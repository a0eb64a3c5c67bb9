"""Derivation in the store: stored indicators equal TA-Lib's golden values, rollups count their
source bars, and deriving again changes nothing. Real SQLite file, real TA-Lib."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from autotrader.core.clock import parse_iso_utc
from autotrader.market import repo
from autotrader.market.derive import derive
from autotrader.market.indicators import INDICATOR_COLUMNS
from autotrader.market.ingest import Ingestor
from autotrader.market.models import Candle
from autotrader.market.repo import cursors
from autotrader.market.sources.synthetic import generate
from tests.conftest import TEST_DATA

CANDLES = TEST_DATA / "candles"
BTC_1H = CANDLES / "binance_BTC_USDT-1h.csv"
GOLDEN = CANDLES / "golden_talib_BTC_USDT-1h_first2000.csv"
ROWS = 2_000
EXACT = 1e-9
HOUR = 3_600_000
MINUTE = 60_000
T0 = 1_726_272_000_000  # 2024-09-14 00:00 UTC, the first bar of the BTC file


def _read_csv(path: Path, limit: int) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        return [row for _, row in zip(range(limit), reader, strict=False)]


@pytest.fixture(scope="module")
def btc_rows() -> list[dict[str, str]]:
    return _read_csv(BTC_1H, ROWS)


@pytest.fixture(scope="module")
def golden() -> list[dict[str, str]]:
    rows = _read_csv(GOLDEN, ROWS)
    assert set(INDICATOR_COLUMNS) <= set(rows[0]), "the golden file lost an indicator column"
    return rows


def _candles(rows: list[dict[str, str]]) -> list[Candle]:
    return [
        Candle(
            "BTC",
            "1h",
            int(row["timestamp_ms"]),
            float(row["open"]),
            float(row["high"]),
            float(row["low"]),
            float(row["close"]),
            float(row["volume"]),
        )
        for row in rows
    ]


def _assert_indicators_match_golden(store, source: str, golden: list[dict[str, str]]) -> None:
    stored = repo.indicators_between(store, source, "BTC", "1h", 0)
    assert len(stored) == len(golden)
    for row, expected in zip(stored, golden, strict=True):
        assert row["open_time"] == parse_iso_utc(expected["date"])
        for name in INDICATOR_COLUMNS:
            want = float(expected[name]) if expected[name] else math.nan
            got = row[name]
            if math.isnan(want):
                assert got is None, f"{name} at {row['open_time']}: {got} where TA-Lib has none"
            else:
                assert got is not None, f"{name} at {row['open_time']} missing"
                assert abs(got - want) <= EXACT, f"{name} at {row['open_time']}: {got} != {want}"


def _dump(store) -> tuple[list[dict], list[dict]]:
    candles = store.query("SELECT * FROM candles ORDER BY source, symbol, timeframe, open_time")
    indicators = store.query(
        "SELECT * FROM indicators ORDER BY source, symbol, timeframe, open_time"
    )
    return candles, indicators


# -- indicators against TA-Lib ---------------------------------------------------------------------


def test_imported_1h_candles_get_indicators_equal_to_talib(
    store, clock, tmp_path, btc_rows, golden
):
    path = tmp_path / "btc-1h.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(btc_rows[0]))
        writer.writeheader()
        writer.writerows(btc_rows)

    result, imported = Ingestor(store, clock).import_file(path, symbol="BTC", timeframe="1h")

    assert (result.written, result.rejected) == (ROWS, 0)
    assert "timestamp_ms" in imported.layout
    assert [r["close"] for r in golden[:3]] == [f"{float(r['close']):.10f}" for r in btc_rows[:3]]
    _assert_indicators_match_golden(store, "file", golden)


@pytest.mark.parametrize("batch", [pytest.param(1, marks=pytest.mark.slow), 7, 50, 333])
def test_indicators_stay_equal_to_talib_when_candles_arrive_in_small_batches(
    store, clock, btc_rows, golden, batch
):
    candles = _candles(btc_rows)
    ingestor = Ingestor(store, clock)
    batches = [candles[i : i + batch] for i in range(0, len(candles), batch)]

    for chunk in batches:
        ingestor.store_synthetic(chunk)

    _assert_indicators_match_golden(store, "synthetic", golden)


def test_a_late_correction_of_an_old_bar_recomputes_every_later_indicator(
    store, clock, btc_rows, golden
):
    candles = _candles(btc_rows)
    ingestor = Ingestor(store, clock)
    wrong = candles[500]
    ingestor.store_synthetic(candles[:500])
    ingestor.store_synthetic(
        [Candle("BTC", "1h", wrong.open_time, 1.0, 2.0 * wrong.high, 0.5, 2.0 * wrong.close, 1.0)]
    )
    ingestor.store_synthetic(candles[501:])

    ingestor.store_synthetic([candles[500]])  # the source corrects the bar

    _assert_indicators_match_golden(store, "synthetic", golden)


def test_candles_handed_over_newest_first_still_get_every_indicator(store, clock, btc_rows, golden):
    ingestor = Ingestor(store, clock)

    ingestor.store_synthetic(list(reversed(_candles(btc_rows))))

    _assert_indicators_match_golden(store, "synthetic", golden)
    cursor = cursors.cursor(store, "synthetic", "ohlcv", "BTC")
    assert cursor["newest_time"] == int(btc_rows[-1]["timestamp_ms"])


# -- rollups -----------------------------------------------------------------------------------


def test_1m_candles_roll_up_into_stored_1h_candles_with_bar_counts(store, clock):
    minutes = generate("ETH", start_ms=T0, count=150, seed=3)  # 2 full hours and 30 minutes

    Ingestor(store, clock).store_synthetic(minutes)

    hours = store.query(
        "SELECT open_time, open, high, low, close, volume, bars FROM candles"
        " WHERE source = 'synthetic' AND symbol = 'ETH' AND timeframe = '1h' ORDER BY open_time"
    )
    assert [(h["open_time"], h["bars"]) for h in hours] == [
        (T0, 60),
        (T0 + HOUR, 60),
        (T0 + 2 * HOUR, 30),
    ]
    first = minutes[:60]
    assert hours[0]["open"] == first[0].open
    assert hours[0]["close"] == first[-1].close
    assert hours[0]["high"] == max(c.high for c in first)
    assert hours[0]["low"] == min(c.low for c in first)
    assert hours[0]["volume"] == pytest.approx(sum(c.volume for c in first), rel=1e-12)
    assert len(repo.indicators_between(store, "synthetic", "ETH", "1h", 0)) == 3


def test_the_forming_hour_grows_as_1m_bars_arrive(store, clock):
    minutes = generate("ETH", start_ms=T0, count=90, seed=4)
    ingestor = Ingestor(store, clock)

    ingestor.store_synthetic(minutes[:70])
    ingestor.store_synthetic(minutes[70:])

    hours = store.query(
        "SELECT open_time, close, bars FROM candles WHERE timeframe = '1h' ORDER BY open_time"
    )
    assert [(h["open_time"], h["bars"]) for h in hours] == [(T0, 60), (T0 + HOUR, 30)]
    assert hours[-1]["close"] == minutes[-1].close


def test_5m_candles_from_a_file_roll_up_into_1h_with_twelve_bars_an_hour(store, clock, tmp_path):
    import pandas as pd

    frame = pd.read_feather(CANDLES / "binance_BTC_USDT-5m.feather").head(12 * 3 + 5)
    path = tmp_path / "btc-5m.feather"
    frame.to_feather(path)

    result, _ = Ingestor(store, clock).import_file(path, symbol="BTC", timeframe="5m")

    assert result.written == 41
    hours = store.query(
        "SELECT bars, high, volume FROM candles WHERE source = 'file' AND timeframe = '1h'"
        " ORDER BY open_time"
    )
    assert [h["bars"] for h in hours] == [12, 12, 12, 5]
    assert hours[0]["high"] == frame["high"].head(12).max()
    assert hours[0]["volume"] == pytest.approx(frame["volume"].head(12).sum(), rel=1e-12)


def test_deriving_again_writes_the_same_values_and_no_extra_rows(store, clock):
    minutes = generate("SOL", start_ms=T0, count=200, seed=5)
    Ingestor(store, clock).store_synthetic(minutes)
    before = _dump(store)

    with store.atomic():
        derive(store, "synthetic", "SOL", "1m", T0)
        derive(store, "synthetic", "SOL", "1m", T0 + 100 * MINUTE)
        derive(store, "synthetic", "SOL", "1h", T0)

    assert _dump(store) == before
    assert len(before[0]) == 200 + 4  # 1m bars and their 4 hours
    assert len(before[1]) == 200 + 4


def test_storing_the_same_candles_twice_changes_nothing(store, clock):
    minutes = generate("SOL", start_ms=T0, count=120, seed=6)
    ingestor = Ingestor(store, clock)
    ingestor.store_synthetic(minutes)
    before = _dump(store)

    ingestor.store_synthetic(minutes)

    assert _dump(store) == before
