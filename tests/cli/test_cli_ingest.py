"""``autotrader ingest``: import, latest, status, assets, run-once, backfill, worker, stream,
prune.

Bootstrap builds the real clients from settings, so the environment points them at loopback
fakes: FakeHyperliquid (real ccxt on top) and FakeJsonServer (real httpx on top). The clock is
the replay clock (``AUTOTRADER_NOW``). Tests that make several Hyperliquid calls are marked
slow: ccxt spaces them 500 ms apart and the bootstrap has no setting to lower that.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autotrader.bootstrap import open_store
from autotrader.core.clock import iso_utc, parse_iso_utc
from autotrader.core.settings import load_settings
from autotrader.market.indicators import INDICATOR_COLUMNS
from tests.conftest import TEST_DATA
from tests.fakes.hyperliquid_server import FakeHyperliquid, make_candle_rows
from tests.fakes.hyperliquid_ws import FakeHyperliquidWs
from tests.fakes.json_server import FakeJsonServer

CANDLES = TEST_DATA / "candles"
MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
NOW = 1_700_000_040_000  # on the 1m grid
FTX_FIRST = parse_iso_utc("2021-12-31T23:01:00Z")
FTX_ROWS = 300


@pytest.fixture
def db(cli, tmp_path: Path) -> str:
    path = str(tmp_path / "cli.db")
    assert cli("init", "--db", path).exit_code == 0
    return path


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("AUTOTRADER_NOW", iso_utc(NOW))
    return NOW


@pytest.fixture
def hyperliquid(monkeypatch: pytest.MonkeyPatch, now: int) -> Iterator[FakeHyperliquid]:
    with FakeHyperliquid() as fake:
        start = NOW - 2 * DAY
        fake.set_candles("BTC", "1m", make_candle_rows("BTC", "1m", start, 2 * 24 * 60 + 1))
        monkeypatch.setenv("AUTOTRADER_HYPERLIQUID_URL", fake.url)
        monkeypatch.setenv("AUTOTRADER_HTTP_TIMEOUT", "2")
        monkeypatch.setenv("AUTOTRADER_HTTP_RETRIES", "0")  # the bootstrap sleeps for real
        yield fake


def _open(db: str):
    return open_store(load_settings(), path=Path(db))


def _count(db: str, sql: str, params: tuple = ()) -> int:
    store = _open(db)
    try:
        return store.scalar(sql, params)
    finally:
        store.close()


def _one_error_line(result) -> str:
    assert result.exit_code == 1, result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# -- import ------------------------------------------------------------------------------------


def _csv_slice(source: Path, target: Path, rows: int) -> Path:
    with source.open() as handle:
        lines = [next(handle) for _ in range(rows + 1)]
    target.write_text("".join(lines))
    return target


def _feather_slice(source: Path, target: Path, rows: int) -> Path:
    import pandas as pd

    pd.read_feather(source).head(rows).to_feather(target)
    return target


def _btc_1h_rows(rows: int) -> list[dict[str, str]]:
    with (CANDLES / "binance_BTC_USDT-1h.csv").open(newline="") as handle:
        return [row for _, row in zip(range(rows), csv.DictReader(handle), strict=False)]


def _json_arrays(target: Path, rows: int) -> Path:
    data = [
        [int(r["timestamp_ms"]), *(float(r[k]) for k in ("open", "high", "low", "close", "volume"))]
        for r in _btc_1h_rows(rows)
    ]
    target.write_text(json.dumps(data))
    return target


def _parquet(target: Path, rows: int) -> Path:
    import pandas as pd

    frame = pd.DataFrame(_btc_1h_rows(rows))
    for column in ("open", "high", "low", "close", "volume"):
        frame[column] = frame[column].astype(float)
    frame["date"] = pd.to_datetime(frame["date"], utc=True)
    frame.drop(columns=["timestamp_ms"]).set_index("date").to_parquet(target)
    return target


SAMPLES: dict[str, tuple[Any, str, str]] = {
    # name: (writer(tmp_path) -> file, timeframe, what the layout line says)
    "csv 1h": (
        lambda d: _csv_slice(CANDLES / "binance_BTC_USDT-1h.csv", d / "btc-1h.csv", 120),
        "1h",
        "timestamp column 'timestamp_ms' in milliseconds",
    ),
    "feather 1h": (
        lambda d: _feather_slice(
            CANDLES / "binance_BTC_USDT-1h.feather", d / "btc-1h.feather", 120
        ),
        "1h",
        "feather, timestamp column 'date' as UTC datetimes",
    ),
    "feather 5m freqtrade": (
        lambda d: _feather_slice(
            CANDLES / "binance_BTC_USDT-5m.feather", d / "btc-5m.feather", 120
        ),
        "5m",
        "feather, timestamp column 'date' as UTC datetimes",
    ),
    "ftx csv 1m string times": (
        lambda d: _csv_slice(CANDLES / "ftx_BTC-PERP_1m_2022-01.csv", d / "ftx.csv", 120),
        "1m",
        "timestamp column 'timestamp' as date strings",
    ),
    "json ccxt arrays": (lambda d: _json_arrays(d / "btc.json", 120), "1h", "json ccxt arrays"),
    "parquet": (
        lambda d: _parquet(d / "btc.parquet", 120),
        "1h",
        "parquet, timestamp column 'date'",
    ),
}


@pytest.mark.parametrize("sample", list(SAMPLES))
def test_import_reads_every_sample_format(cli, tmp_path, db, sample) -> None:
    write, timeframe, layout = SAMPLES[sample]
    path = write(tmp_path)

    result = cli(
        "ingest", "import", str(path), "--symbol", "btc", "--timeframe", timeframe, "--db", db
    )

    assert result.exit_code == 0, result.stderr
    assert layout in result.stdout
    assert f"120 candles stored for BTC {timeframe}, 0 rejected" in result.stdout
    stored = _count(
        db, "SELECT COUNT(*) FROM candles WHERE symbol = 'BTC' AND timeframe = ?", (timeframe,)
    )
    assert stored == 120
    assert _count(db, "SELECT COUNT(*) FROM indicators WHERE timeframe = ?", (timeframe,)) == 120


def test_import_stores_a_5m_file_as_5m_bars_without_being_told(cli, tmp_path, db) -> None:
    path = _feather_slice(CANDLES / "binance_BTC_USDT-5m.feather", tmp_path / "btc.feather", 120)

    result = cli("ingest", "import", str(path), "--symbol", "BTC", "--db", db)

    assert result.exit_code == 0, result.stderr
    assert "120 candles stored for BTC 5m, 0 rejected" in result.stdout
    assert _count(db, "SELECT COUNT(*) FROM candles WHERE timeframe = '1m'") == 0


def test_import_refuses_a_timeframe_the_file_does_not_have_and_stores_nothing(
    cli, tmp_path, db
) -> None:
    path = _feather_slice(CANDLES / "binance_BTC_USDT-5m.feather", tmp_path / "btc.feather", 120)

    result = cli("ingest", "import", str(path), "--symbol", "BTC", "--timeframe", "1m", "--db", db)

    assert "btc.feather: bars are 5m apart, not 1m" in _one_error_line(result)
    assert _count(db, "SELECT COUNT(*) FROM candles") == 0


def test_import_warns_about_a_symbol_the_registry_does_not_know(cli, tmp_path, db) -> None:
    path = _csv_slice(CANDLES / "binance_BTC_USDT-1h.csv", tmp_path / "btc-1h.csv", 24)

    result = cli("ingest", "import", str(path), "--symbol", "DOGGO", "--db", db)

    assert result.exit_code == 0, result.stderr
    assert "warning: DOGGO is not in the asset registry" in result.stderr
    assert "24 candles stored for DOGGO 1h" in result.stdout


def test_import_counts_bad_rows_and_stores_the_rest(cli, tmp_path, db) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "timestamp,open,high,low,close,volume\n"
        "2024-01-01T00:00:00Z,10,11,9,10.5,1\n"
        "2024-01-01T00:01:00Z,10,9,11,10.5,1\n"
        "2024-01-01T00:02:00Z,10,11,9,abc,1\n"
        "2024-01-01T00:03:00Z,10,11,9,10.5,-1\n"
        "2024-01-01T00:04:00Z,10,11,9,10.5,1\n"
    )

    result = cli("ingest", "import", str(path), "--symbol", "BTC", "--db", db)

    assert result.exit_code == 0, result.stderr
    assert "2 candles stored for BTC 1m, 3 rejected" in result.stdout
    assert "high<low" in result.stdout
    assert "negative_volume" in result.stdout


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "prices.csv",
            "open,high,low,close\n1,2,0.5,1.5\n",
            "no timestamp column; expected one of",
        ),
        ("notes.txt", "just some notes\n", "unknown file type '.txt'; expected .csv"),
        ("garbage.csv", "hello world\nthis is not a table\n", "no timestamp column"),
        ("broken.json", "{not json", "broken.json: invalid JSON at line 1 column 2"),
        ("empty.csv", "", "expected a table of candles"),
    ],
)
def test_a_hostile_import_file_fails_with_one_line_naming_what_was_expected(
    cli, tmp_path, db, name, content, expected
) -> None:
    path = tmp_path / name
    path.write_text(content)

    result = cli("ingest", "import", str(path), "--symbol", "BTC", "--db", db)

    assert expected in _one_error_line(result)


@pytest.mark.parametrize("depth", [100, 100_000])
def test_a_deeply_nested_json_file_fails_with_one_line(cli, tmp_path, db, depth) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * depth + "]" * depth)

    result = cli("ingest", "import", str(path), "--symbol", "BTC", "--db", db)

    assert "nested deeper than 64 levels" in _one_error_line(result)


def test_importing_a_missing_file_fails_with_one_line(cli, tmp_path, db) -> None:
    result = cli("ingest", "import", str(tmp_path / "nope.csv"), "--symbol", "BTC", "--db", db)
    assert "no such file" in _one_error_line(result)


# -- latest and status -------------------------------------------------------------------------


@pytest.fixture
def ftx_imported(cli, tmp_path, db, monkeypatch) -> int:
    """300 FTX 1m bars imported; the replay clock one minute after the last one closes."""
    path = _csv_slice(CANDLES / "ftx_BTC-PERP_1m_2022-01.csv", tmp_path / "ftx.csv", FTX_ROWS)
    now = FTX_FIRST + FTX_ROWS * MINUTE
    monkeypatch.setenv("AUTOTRADER_NOW", iso_utc(now))
    result = cli("ingest", "import", str(path), "--symbol", "BTC", "--db", db)
    assert result.exit_code == 0, result.stderr
    return now


def test_latest_json_shows_the_newest_candle_with_every_indicator(cli, db, ftx_imported) -> None:
    result = cli("ingest", "latest", "--symbol", "btc", "--json", "--db", db)

    assert result.exit_code == 0, result.stderr
    view = json.loads(result.stdout)
    assert (view["symbol"], view["source"], view["timeframe"]) == ("BTC", "file", "1m")
    assert view["open_time"] == iso_utc(ftx_imported - MINUTE)
    assert view["age_s"] == "0"
    assert view["close"] == "46809"  # prices are decimal text, as every --json writes them
    assert view["series_bars"] == FTX_ROWS
    missing = [name for name in INDICATOR_COLUMNS if view.get(name) is None]
    assert missing == []


def test_latest_of_the_rolled_up_hour(cli, db, ftx_imported) -> None:
    result = cli("ingest", "latest", "--symbol", "BTC", "--timeframe", "1h", "--json", "--db", db)

    assert result.exit_code == 0, result.stderr
    view = json.loads(result.stdout)
    # 23:01-23:59, four full hours, then the 04:00 bar alone
    assert (view["timeframe"], view["bars"], view["series_bars"]) == ("1h", 1, 6)
    assert view["open_time"] == "2022-01-01T04:00:00Z"
    assert view["macd"] is None  # six hours are too few for MACD


def test_latest_falls_back_to_1h_when_only_hourly_candles_are_stored(cli, tmp_path, db) -> None:
    path = _csv_slice(CANDLES / "binance_BTC_USDT-1h.csv", tmp_path / "btc-1h.csv", 60)
    assert (
        cli(
            "ingest", "import", str(path), "--symbol", "BTC", "--timeframe", "1h", "--db", db
        ).exit_code
        == 0
    )

    result = cli("ingest", "latest", "--symbol", "BTC", "--json", "--db", db)

    assert result.exit_code == 0, result.stderr
    view = json.loads(result.stdout)
    assert (view["timeframe"], view["rsi14"] is not None) == ("1h", True)


def test_latest_table_and_an_unknown_symbol(cli, db, ftx_imported) -> None:
    table = cli("ingest", "latest", "--symbol", "BTC", "--db", db)
    assert table.exit_code == 0, table.stderr
    assert "macd_signal" in table.stdout
    assert "bb_upper" in table.stdout

    assert "no 1m/5m candles stored for ETH" in _one_error_line(
        cli("ingest", "latest", "--symbol", "ETH", "--db", db)
    )


def test_status_json_reports_coverage_lag_and_staleness(cli, db, ftx_imported) -> None:
    result = cli("ingest", "status", "--json", "--db", db)

    assert result.exit_code == 0, result.stderr
    [file_ohlcv] = json.loads(result.stdout)
    assert (file_ohlcv["source"], file_ohlcv["channel"], file_ohlcv["subjects"]) == (
        "file",
        "ohlcv",
        1,
    )
    assert file_ohlcv["coverage_pct"] == "100"
    assert file_ohlcv["lag_s"] == "0"
    assert file_ohlcv["stale"] is False
    assert file_ohlcv["rows_24h"] == FTX_ROWS
    assert file_ohlcv["last_success"] == iso_utc(ftx_imported)


def test_status_on_an_empty_store_says_how_to_start(cli, db) -> None:
    result = cli("ingest", "status", "--db", db)
    assert result.exit_code == 0, result.stderr
    assert "nothing ingested yet" in result.stdout


def test_prune_reports_what_it_deleted(cli, db, ftx_imported, monkeypatch) -> None:
    monkeypatch.setenv("AUTOTRADER_RETENTION_1M_HOURS", "1")

    result = cli("ingest", "prune", "--db", db)

    assert result.exit_code == 0, result.stderr
    # the clock sits a minute after the 300th bar opened: the last hour before it keeps 60 bars,
    # the other 240 go with their indicators
    assert "candles_1m=480" in result.stdout
    assert "candles_1h=0" in result.stdout
    assert _count(db, "SELECT COUNT(*) FROM candles WHERE timeframe = '1m'") == 60


def test_an_imported_bar_from_the_future_is_refused_and_prune_keeps_the_history(
    cli, tmp_path, db, monkeypatch
) -> None:
    """The review's reproduction: one row dated in the future among a day of history, then the
    prune every ingest worker tick runs."""
    monkeypatch.setenv("AUTOTRADER_NOW", iso_utc(NOW))
    future = parse_iso_utc("2100-01-01T00:00:00Z")  # after any real clock running this test
    rows = [f"{NOW - i * MINUTE},100,101,99,100.5,1" for i in range(24 * 60)]
    rows += [f"{future},100,101,99,100.5,1", f"{NOW - DAY},1e300,1e300,1e300,1e300,1"]
    path = tmp_path / "history.csv"
    path.write_text("timestamp,open,high,low,close,volume\n" + "\n".join(rows) + "\n")

    imported = cli("ingest", "import", str(path), "--symbol", "BTC", "--db", db)
    pruned = cli("ingest", "prune", "--db", db)

    assert imported.exit_code == 0, imported.stderr
    assert f"{24 * 60} candles stored for BTC 1m, 2 rejected" in imported.stdout
    assert "rejected 1× future_time" in imported.stdout
    assert "rejected 1× price_out_of_range" in imported.stdout
    assert pruned.exit_code == 0, pruned.stderr
    assert _count(db, "SELECT COUNT(*) FROM candles WHERE timeframe = '1m'") == 24 * 60
    latest = json.loads(cli("ingest", "latest", "--symbol", "BTC", "--json", "--db", db).stdout)
    assert latest["open_time"] == iso_utc(NOW)


# -- the asset registry --------------------------------------------------------------------------


def test_assets_list_works_offline_from_the_packaged_snapshot(cli, db) -> None:
    result = cli("ingest", "assets", "list", "--json", "--db", db)

    assert result.exit_code == 0, result.stderr
    assets = {a["symbol"]: a for a in json.loads(result.stdout)}
    assert {"BTC", "ETH", "PURR/USDC"} <= set(assets)
    assert assets["BTC"]["kind"] == "perp"
    assert assets["BTC"]["channels"] == ["ohlcv", "funding"]
    assert assets["PURR/USDC"]["channels"] == ["ohlcv"]
    assert assets["BTC"]["category"] == "L1"


def test_assets_list_filters_by_category(cli, db) -> None:
    result = cli("ingest", "assets", "list", "--category", "meme", "--json", "--db", db)
    assert result.exit_code == 0, result.stderr
    assert {a["symbol"] for a in json.loads(result.stdout)} == {"MEME", "PURR/USDC"}


def test_assets_show_btc(cli, db) -> None:
    table = cli("ingest", "assets", "show", "BTC", "--db", db)
    assert table.exit_code == 0, table.stderr
    assert "BTC/USDC:USDC" in table.stdout
    assert "max_leverage" in table.stdout

    shown = json.loads(cli("ingest", "assets", "show", "btc", "--json", "--db", db).stdout)
    assert (shown["symbol"], shown["kind"], shown["settle"]) == ("BTC", "perp", "USDC")
    assert "unknown asset 'NOPE'" in _one_error_line(
        cli("ingest", "assets", "show", "NOPE", "--db", db)
    )


@pytest.mark.slow
def test_assets_sync_refresh_reloads_from_the_exchange(cli, db, hyperliquid) -> None:
    result = cli("ingest", "assets", "sync", "--refresh", "--db", db)

    assert result.exit_code == 0, result.stderr
    assert "from the exchange" in result.stdout
    assert hyperliquid.requests_of("spotMeta")
    assert _count(db, "SELECT COUNT(*) FROM assets") > 6


def test_assets_sync_against_a_failing_exchange_fails_with_one_line(cli, db, hyperliquid) -> None:
    hyperliquid.fail_next(1, 503)

    line = _one_error_line(cli("ingest", "assets", "sync", "--db", db))

    assert "Hyperliquid load_markets failed after 1 attempt(s)" in line


def test_assets_sync_offline_uses_the_snapshot(cli, db, monkeypatch) -> None:
    monkeypatch.setenv("AUTOTRADER_HYPERLIQUID_URL", "http://127.0.0.1:9")  # nothing listens
    result = cli("ingest", "assets", "sync", "--offline", "--db", db)
    assert result.exit_code == 0, result.stderr
    assert "from the packaged snapshot" in result.stdout


# -- run-once, backfill, worker ------------------------------------------------------------------


@pytest.mark.slow
def test_run_once_against_hyperliquid_stores_candles_and_funding(cli, db, hyperliquid) -> None:
    result = cli("ingest", "run-once", "--source", "hyperliquid", "--symbols", "BTC", "--db", db)

    assert result.exit_code == 0, result.stderr
    assert "0 rejected" in result.stdout
    assert _count(db, "SELECT COUNT(*) FROM candles WHERE timeframe = '1m'") == 24 * 60 + 1
    assert _count(db, "SELECT COUNT(*) FROM funding_rates WHERE symbol = 'BTC'") == 1
    status = {
        (h["source"], h["channel"]): h
        for h in json.loads(cli("ingest", "status", "--json", "--db", db).stdout)
    }
    assert status[("hyperliquid", "ohlcv")]["stale"] is False
    assert status[("hyperliquid", "ohlcv")]["coverage_pct"] == "100"


@pytest.mark.slow
def test_run_once_against_a_failing_server_exits_1_and_status_shows_the_error(
    cli, db, hyperliquid
) -> None:
    hyperliquid.fail_next(50, 500)

    result = cli(
        "ingest",
        "run-once",
        "--source",
        "hyperliquid",
        "--symbols",
        "BTC",
        "--channels",
        "ohlcv",
        "--db",
        db,
    )

    assert result.exit_code == 1
    assert "failed" in result.stdout
    status = cli("ingest", "status", "--json", "--db", db)
    health = {(h["source"], h["channel"]): h for h in json.loads(status.stdout)}
    ohlcv = health[("hyperliquid", "ohlcv")]
    assert (ohlcv["failing"], ohlcv["stale"]) == (True, True)
    assert "500" in ohlcv["last_error"]
    assert "STALE" in cli("ingest", "status", "--db", db).stdout


@pytest.fixture
def json_server(monkeypatch: pytest.MonkeyPatch, now: int) -> Iterator[FakeJsonServer]:
    def load(relative: str) -> Any:
        return json.loads((TEST_DATA / relative).read_text(encoding="utf-8"))

    examples = load("defillama/openapi_free_schema_examples.json")
    with FakeJsonServer() as server:
        server.route("/markets", [load("polymarket/nautilus_gamma_market.json")])
        for path in (
            "/v2/chains",
            "/protocols",
            "/overview/dexs",
            "/overview/fees",
            "/overview/open-interest",
            "/stablecoins",
        ):
            server.route(path, examples[path]["schema_example"])
        for name in (
            "POLYMARKET_GAMMA_URL",
            "POLYMARKET_CLOB_URL",
            "DEFILLAMA_URL",
            "DEFILLAMA_STABLECOINS_URL",
        ):
            monkeypatch.setenv(f"AUTOTRADER_{name}", server.url)
        monkeypatch.setenv("AUTOTRADER_HTTP_RETRIES", "0")
        yield server


def test_run_once_polymarket_and_defillama_store_observations(cli, db, json_server) -> None:
    result = cli("ingest", "run-once", "--source", "polymarket,defillama", "--json", "--db", db)

    assert result.exit_code == 0, result.stderr
    results = {r["channel"]: r for r in json.loads(result.stdout)}
    assert set(results) == {
        "markets",
        "chains",
        "protocols",
        "dex",
        "fees",
        "stablecoins",
        "open_interest",
    }
    assert all(r["error"] is None and r["written"] > 0 for r in results.values())
    assert json_server.requests[0] == (
        "/markets",
        {
            "limit": "100",
            "order": "volume24hr",
            "ascending": "false",
            "active": "true",
            "closed": "false",
        },
    )
    assert _count(db, "SELECT COUNT(*) FROM prediction_prices") == 2
    assert _count(db, "SELECT COUNT(*) FROM macro_observations") > 5
    status = json.loads(cli("ingest", "status", "--json", "--db", db).stdout)
    assert {(h["source"], h["channel"]) for h in status} >= {
        ("polymarket", "markets"),
        ("defillama", "chains"),
    }


def test_run_once_json_counts_rejected_rows_by_reason(cli, db, json_server) -> None:
    market = json.loads((TEST_DATA / "polymarket/nautilus_gamma_market.json").read_text())
    broken = {
        "id": "x",
        "question": "Half a market?",
        "outcomes": '["Yes", "No"]',
        "outcomePrices": '["0.5"]',
    }
    json_server.route("/markets", [market, broken, {**broken, "id": "y"}])

    result = cli("ingest", "run-once", "--source", "polymarket", "--json", "--db", db)

    assert result.exit_code == 0, result.stderr
    [markets] = json.loads(result.stdout)
    assert (markets["written"], markets["rejected"]) == (1, 2)
    assert markets["rejection_reasons"] == {"price_count_mismatch": 2}


def test_a_failing_polymarket_shows_in_status_until_it_succeeds_again(
    cli, db, json_server, monkeypatch
) -> None:
    json_server.fail_next(1, 502, path="/markets")
    failed = cli("ingest", "run-once", "--source", "polymarket", "--db", db)
    assert failed.exit_code == 1
    status = json.loads(cli("ingest", "status", "--json", "--db", db).stdout)
    assert [(h["channel"], h["failing"], "HTTP 502" in h["last_error"]) for h in status] == [
        ("markets", True, True)
    ]
    monkeypatch.setenv("AUTOTRADER_NOW", iso_utc(NOW + MINUTE))

    assert cli("ingest", "run-once", "--source", "polymarket", "--db", db).exit_code == 0

    [markets] = json.loads(cli("ingest", "status", "--json", "--db", db).stdout)
    assert (markets["failing"], markets["stale"], markets["rows_24h"]) == (False, False, 2)


def test_run_once_reports_a_missing_endpoint_and_exits_1(cli, db, json_server) -> None:
    json_server.route("/overview/fees", {"error": "gone"}, status=404)

    result = cli("ingest", "run-once", "--source", "defillama", "--db", db)

    assert result.exit_code == 1
    assert "not found" in result.stdout
    assert _count(db, "SELECT COUNT(*) FROM macro_observations") > 0


def test_backfill_stores_the_requested_range(cli, db, hyperliquid) -> None:
    since, until = NOW - 36 * HOUR, NOW - 34 * HOUR

    result = cli(
        "ingest",
        "backfill",
        "--since",
        iso_utc(since),
        "--until",
        iso_utc(until),
        "--symbols",
        "BTC",
        "--db",
        db,
    )

    assert result.exit_code == 0, result.stderr
    assert "backfill BTC" in result.stdout
    stored = _count(
        db,
        "SELECT COUNT(*) FROM candles WHERE timeframe = '1m' AND open_time BETWEEN ? AND ?",
        (since, until),
    )
    assert stored == 2 * 60 + 1
    assert _count(db, "SELECT COUNT(*) FROM candles WHERE timeframe = '1m'") == stored
    assert [r["req"]["startTime"] for r in hyperliquid.requests_of("candleSnapshot")] == [since]


def test_backfill_of_an_unknown_symbol_exits_1_naming_it(cli, db, now) -> None:
    result = cli(
        "ingest", "backfill", "--since", iso_utc(NOW - HOUR), "--symbols", "NOPE", "--db", db
    )

    assert result.exit_code == 1
    assert "unknown symbol 'NOPE'" in result.stdout
    assert _count(db, "SELECT COUNT(*) FROM ingest_cursors") == 0


@pytest.mark.slow
def test_worker_runs_the_requested_number_of_ticks(cli, db, hyperliquid) -> None:
    result = cli(
        "ingest",
        "worker",
        "--source",
        "hyperliquid",
        "--symbols",
        "BTC",
        "--channels",
        "ohlcv",
        "--max-ticks",
        "2",
        "--interval",
        "0.01",
        "--db",
        db,
    )

    assert result.exit_code == 0, result.stderr
    assert "stopped (max_ticks) after 2 ticks, 0 failed" in result.stdout
    assert len(hyperliquid.requests_of("candleSnapshot")) == 2
    beats = json.loads(cli("workers", "status", "--json", "--db", db).stdout)["workers"]
    assert [(b["name"], b["ticks"]) for b in beats] == [("ingest", 2)]


@pytest.fixture
def hyperliquid_ws(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHyperliquidWs]:
    with FakeHyperliquidWs() as fake:
        monkeypatch.setenv("AUTOTRADER_HYPERLIQUID_WS_URL", fake.url)
        monkeypatch.setenv("AUTOTRADER_HYPERLIQUID_RATE_LIMIT_MS", "1")
        yield fake


def _push_when_subscribed(ws: FakeHyperliquidWs, coin: str, rows: list[dict]) -> threading.Thread:
    """Push ``rows`` once the command under test has subscribed (it blocks the test's thread)."""

    def push() -> None:
        ws.wait_for_subscribers(coin)
        for row in rows:
            ws.push(coin, row)

    thread = threading.Thread(target=push, daemon=True)
    thread.start()
    return thread


@pytest.mark.slow
def test_stream_stores_pushed_bars_until_its_duration_ends(
    cli, db, hyperliquid, hyperliquid_ws
) -> None:
    # The exchange's history ends two bars before now; the stream pushes those two.
    history = make_candle_rows("BTC", "1m", NOW - 2 * DAY, 2 * 24 * 60 + 1)
    hyperliquid.set_candles("BTC", "1m", history[:-2])
    pusher = _push_when_subscribed(hyperliquid_ws, "BTC", history[-2:])

    result = cli(
        "ingest", "stream", "--symbols", "BTC", "--duration", "2s", "--interval", "0.05", "--db", db
    )

    pusher.join(5)
    assert result.exit_code == 0, result.stderr
    assert "ingest-stream: stopped (duration)" in result.stdout
    assert _newest_btc_bar(db) == NOW  # pushed: REST did not have it
    assert _count(db, "SELECT COUNT(*) FROM candles WHERE timeframe = '1m'") == 24 * 60 + 1
    status = json.loads(cli("workers", "status", "--json", "--db", db).stdout)
    assert [(b["name"], b["status"]) for b in status["workers"]] == [("ingest-stream", "stopped")]


@pytest.mark.slow
@pytest.mark.xdist_group("processes")  # on one worker, one at a time: they start processes
def test_sigterm_stops_the_stream_cleanly_and_closes_its_connection(
    db, hyperliquid, hyperliquid_ws
) -> None:
    history = make_candle_rows("BTC", "1m", NOW - 2 * DAY, 2 * 24 * 60 + 1)
    hyperliquid.set_candles("BTC", "1m", history[:-1])
    command = ["ingest", "stream", "--symbols", "BTC", "--interval", "0.1", "--db", db]
    proc = subprocess.Popen(
        [sys.executable, "-m", "autotrader", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "AUTOTRADER_LOG_FORMAT": "json"},
    )
    try:
        hyperliquid_ws.wait_for_subscribers("BTC", timeout=30)
        hyperliquid_ws.push("BTC", history[-1])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _newest_btc_bar(db) != NOW:
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()

    assert proc.returncode == 0, stderr
    assert "ingest-stream: stopped (signal)" in stdout
    assert _newest_btc_bar(db) == NOW
    assert hyperliquid_ws.close_codes == [1000]  # closed by the client, not cut by its exit


def _newest_btc_bar(db: str) -> int | None:
    return _count(
        db, "SELECT MAX(open_time) FROM candles WHERE symbol = 'BTC' AND timeframe = '1m'"
    )


def test_a_stream_that_never_connects_exits_1_with_one_line(cli, db, now, monkeypatch) -> None:
    monkeypatch.setenv("AUTOTRADER_HYPERLIQUID_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AUTOTRADER_HYPERLIQUID_WS_URL", "ws://127.0.0.1:9/ws")
    monkeypatch.setenv("AUTOTRADER_LOG_LEVEL", "ERROR")  # the tick's own line is not the error

    result = cli("ingest", "stream", "--symbols", "BTC", "--max-ticks", "1", "--db", db)

    assert "no connection was ever subscribed" in _one_error_line(result)


# -- bad flags -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("import", "x.csv", "--symbol", "BTC", "--timeframe", "7m"),
            "--timeframe: '7m' is not one of 1m, 5m, 1h",
        ),
        (("run-once", "--source", "nope"), "--source: unknown 'nope'"),
        (("run-once", "--channels", "trades"), "--channels: unknown 'trades'"),
        (("backfill", "--since", "yesterday"), "--since: 'yesterday' is not an ISO-8601 time"),
        (
            ("backfill", "--since", "2024-01-02T00:00Z", "--until", "2024-01-01T00:00Z"),
            "--until must be after --since",
        ),
        (("latest", "--symbol", "BTC", "--timeframe", "4h"), "--timeframe: '4h' is not one of"),
        (("stream", "--duration", "soon"), "--duration: give a duration such as 15m"),
        (("stream", "--symbols", "NOPE"), "unknown symbol 'NOPE'"),
        (("stream", "--symbols", "btc;drop"), "--symbols"),
    ],
)
def test_bad_flags_fail_with_one_line(cli, db, args, expected) -> None:
    result = cli("ingest", *args, "--db", db)
    assert expected in _one_error_line(result)
