"""Importing candles from CSV, JSON, Feather and Parquet files, including hostile ones."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from autotrader.core.errors import InvalidInputError, NotFoundError
from autotrader.market.models import Candle
from autotrader.market.sources.files import read_candle_file
from tests.conftest import TEST_DATA

DATA = TEST_DATA / "candles"
BTC_1H_CSV = DATA / "binance_BTC_USDT-1h.csv"  # the first 2,000 hours of the Binance series
FIRST_HOUR = 1_726_272_000_000  # 2024-09-14 00:00 UTC, the first row of the 1h files
HOUR = 3_600_000
MINUTE = 60_000
FIRST_CANDLE = Candle("BTC", "1h", FIRST_HOUR, 60497.99, 60610.45, 60372.77, 60414.39, 753.37252)
HEADER = "timestamp_ms,open,high,low,close,volume\n"


@pytest.fixture(scope="module")
def hourly_slice() -> pd.DataFrame:
    """The first 48 rows of the Binance BTC 1h CSV, as pandas reads them."""
    return pd.read_csv(BTC_1H_CSV, nrows=48)


@pytest.fixture(scope="module")
def hourly_slice_candles(hourly_slice, tmp_path_factory) -> list[Candle]:
    path = tmp_path_factory.mktemp("slice") / "slice.csv"
    hourly_slice.to_csv(path, index=False)
    return read_candle_file(path, symbol="BTC", timeframe="1h").candles


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _read(path: Path, timeframe: str = "1h"):
    return read_candle_file(path, symbol="BTC", timeframe=timeframe)


# --- the reference files -------------------------------------------------------------------


def test_binance_csv_uses_the_millisecond_column():
    result = _read(BTC_1H_CSV)
    assert result.layout == "csv, timestamp column 'timestamp_ms' in milliseconds"
    assert (len(result.candles), result.rejections, result.rows_read) == (2_000, [], 2_000)
    assert result.candles[0] == FIRST_CANDLE
    assert result.candles[-1].open_time == FIRST_HOUR + 1_999 * HOUR  # 2024-12-06 07:00 UTC


def test_binance_feather_matches_the_csv():
    result = _read(DATA / "binance_BTC_USDT-1h.feather")
    assert result.layout == "feather, timestamp column 'date' as UTC datetimes"
    assert result.rejections == []
    assert result.candles == _read(BTC_1H_CSV).candles


def test_freqtrade_5m_feather_reads_every_row():
    result = _read(DATA / "binance_BTC_USDT-5m.feather", "5m")
    assert (len(result.candles), result.rejections) == (120, [])
    assert result.candles[0].open_time == 1_735_603_200_000  # 2024-12-31 00:00 UTC
    assert result.candles[-1].open_time == 1_735_603_200_000 + 119 * 5 * MINUTE  # 09:55 UTC
    assert all(c.timeframe == "5m" for c in result.candles[:10])


def test_ftx_csv_with_date_strings_is_read_as_utc():
    result = read_candle_file(
        DATA / "ftx_BTC-PERP_1m_2022-01.csv", symbol="BTC-PERP", timeframe="1m"
    )
    assert result.layout.startswith("csv, timestamp column 'timestamp' as date strings")
    assert (len(result.candles), result.rejections) == (300, [])
    assert result.candles[-1].open_time == 1_640_991_660_000 + 299 * MINUTE  # 2022-01-01 04:00
    first = result.candles[0]
    assert first == Candle(
        "BTC-PERP", "1m", 1_640_991_660_000, 46319.0, 46385.0, 46319.0, 46377.0, 2300413.7295
    )


def test_refuses_5m_candles_asked_for_as_1h(tmp_path):
    path = tmp_path / "five.feather"
    pd.read_feather(DATA / "binance_BTC_USDT-5m.feather").head(24).to_feather(path)
    with pytest.raises(InvalidInputError, match=r"^five.feather: bars are 5m apart, not 1h;"):
        _read(path, "1h")


def test_the_timeframe_is_read_from_the_bar_spacing_when_none_is_given():
    result = read_candle_file(DATA / "binance_BTC_USDT-5m.feather", symbol="BTC")
    assert result.timeframe == "5m"
    assert {c.timeframe for c in result.candles} == {"5m"}
    assert read_candle_file(BTC_1H_CSV, symbol="BTC").timeframe == "1h"


def test_a_gap_and_a_stray_row_do_not_change_the_inferred_spacing(tmp_path):
    minutes = [0, 5, 10, 15, 30, 35, 40, 41]  # a 15-minute gap, then a row off the 5m grid
    body = "".join(f"{FIRST_HOUR + m * MINUTE},10,11,9,10,1\n" for m in minutes)
    result = read_candle_file(_write(tmp_path, "gappy.csv", HEADER + body), symbol="BTC")
    assert result.timeframe == "5m"
    assert [r.reason for r in result.rejections] == ["off_grid_time"]


def test_refuses_a_spacing_that_is_no_supported_timeframe(tmp_path):
    body = "".join(f"{FIRST_HOUR + m * 15 * MINUTE},10,11,9,10,1\n" for m in range(4))
    with pytest.raises(InvalidInputError, match="bars are 15 minutes apart; expected 1m, 5m, 1h"):
        read_candle_file(_write(tmp_path, "quarter.csv", HEADER + body), symbol="BTC")


def test_a_single_bar_needs_its_timeframe_named(tmp_path):
    path = _write(tmp_path, "one.csv", HEADER + f"{FIRST_HOUR},10,11,9,10,1\n")
    with pytest.raises(InvalidInputError, match="pass --timeframe"):
        read_candle_file(path, symbol="BTC")
    assert read_candle_file(path, symbol="BTC", timeframe="1h").timeframe == "1h"


# --- other formats, written from the CSV ---------------------------------------------------


def test_ccxt_json_arrays_give_the_same_candles(tmp_path, hourly_slice, hourly_slice_candles):
    rows = hourly_slice[["timestamp_ms", "open", "high", "low", "close", "volume"]]
    path = _write(tmp_path, "ohlcv.json", json.dumps(rows.values.tolist()))
    result = _read(path)
    assert result.layout == "json ccxt arrays [t,o,h,l,c,v], timestamp column 't' in milliseconds"
    assert result.candles == hourly_slice_candles


def test_json_objects_with_named_keys_give_the_same_candles(
    tmp_path, hourly_slice, hourly_slice_candles
):
    records = hourly_slice.drop(columns=["timestamp_ms"]).rename(columns={"date": "timestamp"})
    path = _write(tmp_path, "objects.json", records.to_json(orient="records"))
    result = _read(path)
    assert result.layout.startswith("json objects, timestamp column 'timestamp' as date strings")
    assert result.candles == hourly_slice_candles


def test_json_objects_with_short_keys_and_string_prices_are_accepted(tmp_path):
    # Hyperliquid's candleSnapshot shape: prices as strings, "T" is the close time
    rows = [
        {"t": FIRST_HOUR, "T": FIRST_HOUR + 3_599_999, "o": "10", "h": "12", "l": "9", "c": "11",
         "v": "5.5"},
    ]  # fmt: skip
    result = _read(_write(tmp_path, "hl.json", json.dumps(rows)))
    assert result.candles == [Candle("BTC", "1h", FIRST_HOUR, 10.0, 12.0, 9.0, 11.0, 5.5)]


def test_parquet_with_a_date_index_gives_the_same_candles(
    tmp_path, hourly_slice, hourly_slice_candles
):
    frame = hourly_slice.drop(columns=["timestamp_ms"])
    frame["date"] = pd.to_datetime(frame["date"], utc=True)
    path = tmp_path / "candles.parquet"
    frame.set_index("date").to_parquet(path)
    result = _read(path)
    assert result.layout == "parquet, timestamp column 'date' as UTC datetimes"
    assert result.candles == hourly_slice_candles


@pytest.mark.parametrize(
    ("values", "unit"),
    [
        (lambda ms: ms // 1000, "seconds"),
        (lambda ms: ms, "milliseconds"),
        (lambda ms: ms * 1000, "microseconds"),
        (lambda ms: ms * 1_000_000, "nanoseconds"),
        (lambda ms: ms / 1000.0, "seconds"),
    ],
)
def test_epoch_units_are_inferred_from_magnitude(tmp_path, hourly_slice, values, unit):
    frame = hourly_slice[["open", "high", "low", "close", "volume"]].copy()
    frame.insert(0, "time", values(hourly_slice["timestamp_ms"]))
    path = tmp_path / "epoch.feather"
    frame.to_feather(path)
    result = _read(path)
    assert result.layout == f"feather, timestamp column 'time' in {unit}"
    assert [c.open_time for c in result.candles] == hourly_slice["timestamp_ms"].tolist()


def test_naive_datetimes_are_taken_as_utc_and_aware_ones_converted(tmp_path, hourly_slice):
    expected = hourly_slice["timestamp_ms"].tolist()
    utc = pd.to_datetime(hourly_slice["date"], utc=True)
    for name, dates, note in [
        ("naive", utc.dt.tz_localize(None), "as datetimes (naive, taken as UTC)"),
        ("paris", utc.dt.tz_convert("Europe/Paris"), "as UTC datetimes"),
    ]:
        frame = hourly_slice[["open", "high", "low", "close", "volume"]].copy()
        frame.insert(0, "datetime", dates)
        path = tmp_path / f"{name}.parquet"
        frame.to_parquet(path, index=False)
        result = _read(path)
        assert result.layout == f"parquet, timestamp column 'datetime' {note}"
        assert [c.open_time for c in result.candles] == expected


def test_column_names_are_case_insensitive_and_volume_is_optional(tmp_path):
    text = "Open_Time,OPEN,High,low,Close\n1726272000000,10,12,9,11\n"
    result = _read(_write(tmp_path, "caps.csv", text))
    assert result.candles == [Candle("BTC", "1h", FIRST_HOUR, 10.0, 12.0, 9.0, 11.0, 0.0)]
    assert result.layout.endswith("no volume column (volume set to 0)")


# --- row problems: rejected one by one, the rest imported ----------------------------------


def test_out_of_order_rows_are_sorted_before_validation(tmp_path):
    hour = 3_600_000
    lines = [f"{FIRST_HOUR + i * hour},10,12,9,11,1" for i in (2, 0, 1)]
    result = _read(_write(tmp_path, "shuffled.csv", HEADER + "\n".join(lines)))
    assert result.rejections == []
    assert [c.open_time for c in result.candles] == [FIRST_HOUR + i * hour for i in range(3)]


def test_duplicates_are_rejected_at_their_row_in_the_file(tmp_path):
    hour = 3_600_000
    lines = [f"{FIRST_HOUR + i * hour},10,12,9,11,1" for i in (1, 0, 1)]
    result = _read(_write(tmp_path, "dupes.csv", HEADER + "\n".join(lines)))
    assert len(result.candles) == 2
    assert [(r.index, r.reason) for r in result.rejections] == [(2, "duplicate_time")]


def test_a_nan_row_and_a_high_below_low_row_are_rejected_alone(tmp_path):
    hour = 3_600_000
    text = (
        HEADER
        + f"{FIRST_HOUR},10,12,9,11,1\n"
        + f"{FIRST_HOUR + hour},10,NaN,9,11,1\n"
        + f"{FIRST_HOUR + 2 * hour},10,8,9,11,1\n"
        + f"{FIRST_HOUR + 3 * hour},10,12,9,11,1\n"
    )
    result = _read(_write(tmp_path, "hostile.csv", text))
    assert [c.open_time for c in result.candles] == [FIRST_HOUR, FIRST_HOUR + 3 * hour]
    assert [(r.index, r.reason) for r in result.rejections] == [(1, "nan"), (2, "high<low")]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ([1e300, 1e300, 1e300, 1e300, 1], "price_out_of_range"),
        ([10, 10**400, 9, 11, 1], "nan"),  # a JSON integer no float holds
        ([10, float("inf"), 9, 11, 1], "nan"),
        ([10, 12, 9, 11, 1e300], "volume_out_of_range"),
        ([-10, 12, 9, 11, 1], "non_positive_price"),
    ],
)
def test_absurd_numbers_are_rejected_alone_never_a_crash(tmp_path, row, reason):
    rows = [[FIRST_HOUR, 10, 12, 9, 11, 1], [FIRST_HOUR + HOUR, *row]]
    text = json.dumps(rows).replace("Infinity", "1e999")  # what a JSON writer would emit
    result = _read(_write(tmp_path, "absurd.json", text))
    assert [c.open_time for c in result.candles] == [FIRST_HOUR]
    assert [(r.index, r.reason) for r in result.rejections] == [(1, reason)]


def test_an_unreadable_time_in_one_row_rejects_only_that_row(tmp_path):
    text = "date,open,high,low,close,volume\n2024-09-14 00:00:00,10,12,9,11,1\nsoon,10,12,9,11,1\n"
    result = _read(_write(tmp_path, "dates.csv", text))
    assert len(result.candles) == 1
    assert [(r.index, r.reason) for r in result.rejections] == [(1, "bad_time")]


def test_a_short_ccxt_array_is_rejected_alone(tmp_path):
    rows = [[FIRST_HOUR, 10, 12, 9, 11, 1], [FIRST_HOUR + 3_600_000, 10, 12]]
    result = _read(_write(tmp_path, "short.json", json.dumps(rows)))
    assert len(result.candles) == 1
    assert [r.index for r in result.rejections] == [1]


# --- files whose layout cannot be understood ----------------------------------------------


def test_a_csv_without_a_timestamp_column_names_the_expected_columns(tmp_path):
    path = _write(tmp_path, "prices.csv", "open,high,low,close,volume\n10,12,9,11,1\n")
    with pytest.raises(InvalidInputError) as caught:
        _read(path)
    assert str(caught.value) == (
        "prices.csv: no timestamp column; expected one of timestamp_ms, timestamp, date, time,"
        " datetime, open_time, t"
    )


def test_missing_price_columns_are_named(tmp_path):
    path = _write(tmp_path, "partial.csv", "timestamp_ms,open,close\n1726272000000,10,11\n")
    with pytest.raises(InvalidInputError, match=r"partial.csv: no high, low column; expected"):
        _read(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.csv", "this is not a table\njust, some, words, here\n", "no timestamp column"),
        ("ragged.csv", "timestamp,open\n1,2\n1,2,3,4\n", "cannot read as csv"),
        ("words.csv", "hello world\nthis is prose\n", "no timestamp column"),
        ("empty.csv", "", "empty file"),
        ("header.csv", HEADER, "no rows"),
        ("binary.csv", "\udcff", "cannot read"),
        ("broken.json", "[[1, 2,", "invalid JSON at line 1 column 8"),
        ("object.json", '{"candles": []}', "JSON is not a list"),
        ("mixed.json", '[[1,2,3,4,5,6], {"t": 1}]', "neither all arrays nor all objects"),
        ("junk.parquet", "not parquet at all", "cannot read as parquet"),
        ("junk.feather", "not feather at all", "cannot read as feather"),
        ("prices.txt", "timestamp,open\n", "unknown file type '.txt'"),
        ("when.csv", "time,open,high,low,close\n10:00,1,1,1,1\n", "'time' is not readable"),
    ],
)
def test_unreadable_files_raise_one_line_invalid_input(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    with pytest.raises(InvalidInputError, match=message) as caught:
        _read(path)
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith(f"{name}: ")


def test_a_missing_file_is_not_found(tmp_path):
    with pytest.raises(NotFoundError, match="no such file"):
        _read(tmp_path / "nowhere.csv")


def test_a_directory_is_not_a_candle_file(tmp_path):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(InvalidInputError, match="not a file"):
        _read(folder)
