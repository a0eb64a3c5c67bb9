"""The Ingestor end to end on a real SQLite file: real ccxt against a loopback fake Hyperliquid,
real httpx on a MockTransport serving the real Polymarket and DefiLlama samples, a simulated
clock. What lands in the store, what the cursors say, and what ``ingest status`` reports."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from autotrader.core.clock import SimulatedClock
from autotrader.market import repo
from autotrader.market.health import ChannelHealth, channel_health
from autotrader.market.ingest import Ingestor, Retention
from autotrader.market.models import FundingRate, MacroObservation
from autotrader.market.registry import sync_assets
from autotrader.market.repo import cursors, observations
from autotrader.market.sources.defillama import DefiLlamaSource
from autotrader.market.sources.hyperliquid import HyperliquidSource
from autotrader.market.sources.polymarket import PolymarketSource
from autotrader.market.sources.synthetic import generate
from tests.conftest import TEST_DATA
from tests.fakes.hyperliquid_server import FakeHyperliquid, make_candle_rows

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
NOW = 1_700_000_040_000  # 2023-11-14 22:14 UTC, on the 1m grid
HISTORY = 26 * 60  # bars the fake serves before NOW (more than the 24 h lookback)
WINDOW_BARS = 500
STALE_AFTER_S = 600.0


class Sleeps(list):
    """Stands in for time.sleep: records the backoff delays instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def fake() -> Iterator[FakeHyperliquid]:
    with FakeHyperliquid() as server:
        server.set_candles("BTC", "1m", _rows("BTC", NOW))
        server.set_candles("ETH", "1m", _rows("ETH", NOW, base_price=2_000.0))
        yield server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def at_now(clock: SimulatedClock) -> SimulatedClock:
    clock.set(NOW)
    return clock


@pytest.fixture
def make_ingestor(
    store, at_now: SimulatedClock, fake: FakeHyperliquid, sleeps: Sleeps
) -> Callable[..., Ingestor]:
    def build(**source_options: Any) -> Ingestor:
        options: dict[str, Any] = {
            "base_url": fake.url,
            "timeout_ms": 2_000,
            "max_retries": 2,
            "sleep": sleeps,
            "clock": at_now,
            "rate_limit_ms": 1,
            "window_bars": WINDOW_BARS,
        }
        options.update(source_options)
        return Ingestor(store, at_now, hyperliquid=HyperliquidSource(**options))

    return build


@pytest.fixture
def ingestor(make_ingestor: Callable[..., Ingestor]) -> Ingestor:
    return make_ingestor()


def _rows(coin: str, until: int, *, base_price: float = 100.0) -> list[dict[str, Any]]:
    """Hyperliquid 1m rows from ``NOW - HISTORY`` minutes through ``until`` (inclusive)."""
    start = NOW - HISTORY * MINUTE
    return make_candle_rows(coin, "1m", start, (until - start) // MINUTE + 1, base_price=base_price)


def _snapshot_starts(fake: FakeHyperliquid, since: int = 0) -> list[int]:
    return [r["req"]["startTime"] for r in fake.requests_of("candleSnapshot")[since:]]


def _count(store, timeframe: str, symbol: str = "BTC", source: str = "hyperliquid") -> int:
    return store.scalar(
        "SELECT COUNT(*) FROM candles WHERE source = ? AND symbol = ? AND timeframe = ?",
        (source, symbol, timeframe),
    )


def _health(store, clock) -> dict[tuple[str, str], ChannelHealth]:
    report = channel_health(store, clock, price_stale_after_s=STALE_AFTER_S)
    return {(h.source, h.channel): h for h in report}


def _by_channel(report) -> dict[tuple[str, str], Any]:
    return {(r.channel, r.subject): r for r in report.results}


# -- the registry ------------------------------------------------------------------------------


def test_markets_load_into_the_registry_with_funding_for_perps_only(
    store, at_now, fake, sleeps
) -> None:
    source = HyperliquidSource(base_url=fake.url, sleep=sleeps, rate_limit_ms=1, clock=at_now)

    count = sync_assets(store, at_now, source, refresh=True)

    assert count == repo.count_assets(store)
    assets = {a.symbol: a for a in repo.list_assets(store, active_only=True)}
    assert set(assets) == {"BTC", "ETH", "SOL", "ADA", "MEME", "PURR/USDC"}
    assert fake.requests_of("metaAndAssetCtxs") or fake.requests_of("meta")
    btc, purr = assets["BTC"], assets["PURR/USDC"]
    assert (btc.kind, btc.ccxt_symbol, btc.channels) == (
        "perp",
        "BTC/USDC:USDC",
        ("ohlcv", "funding"),
    )
    assert (purr.kind, purr.channels) == ("spot", ("ohlcv",))
    assert {a.symbol for a in assets.values() if "funding" in a.channels} == {
        "BTC",
        "ETH",
        "SOL",
        "ADA",
        "MEME",
    }
    assert btc.max_leverage
    assert btc.amount_step
    assert btc.price_tick
    assert (btc.category, purr.category) == ("L1", "Meme")


# -- candles: windows, cursors, rollups, indicators --------------------------------------------


def test_a_first_run_fetches_a_day_of_candles_in_windows_and_derives_1h_and_indicators(
    store, ingestor, fake
) -> None:
    report = ingestor.run_once(sources=["hyperliquid"], symbols=["BTC"], channels=["ohlcv"])

    assert report.failed == []
    day = DAY // MINUTE + 1  # NOW - 24 h through the bar still forming at NOW
    assert _by_channel(report)[("ohlcv", "BTC")].written == day
    starts = _snapshot_starts(fake)
    assert starts == [NOW - DAY + i * WINDOW_BARS * MINUTE for i in range(3)]
    assert _count(store, "1m") == day
    hours = store.query(
        "SELECT open_time, bars FROM candles WHERE timeframe = '1h' ORDER BY open_time"
    )
    assert len(hours) == 25
    assert sum(h["bars"] for h in hours) == day
    assert hours[-1] == {"open_time": NOW - NOW % HOUR, "bars": 15}
    latest = repo.latest_candle(store, "hyperliquid", "BTC", "1m")
    assert latest is not None
    assert latest["open_time"] == NOW
    assert latest["rsi14"] is not None
    assert latest["macd_signal"] is not None
    assert len(repo.indicators_between(store, "hyperliquid", "BTC", "1h", 0)) == 25
    cursor = cursors.cursor(store, "hyperliquid", "ohlcv", "BTC")
    assert cursor is not None
    assert (cursor["newest_time"], cursor["last_success_at"], cursor["rows_written"]) == (
        NOW,
        NOW,
        day,
    )


def test_a_second_run_fetches_only_from_the_newest_stored_bar_and_never_duplicates(
    store, ingestor, fake, at_now
) -> None:
    ingestor.run_once(sources=["hyperliquid"], symbols=["BTC"], channels=["ohlcv"])
    first_run = len(fake.requests_of("candleSnapshot"))
    rows = _rows("BTC", NOW + 10 * MINUTE)
    forming = next(r for r in rows if r["t"] == NOW)
    forming["c"] = forming["h"]  # the bar that was still forming closed higher
    fake.set_candles("BTC", "1m", rows)
    at_now.advance(ms=10 * MINUTE)

    report = ingestor.run_once(sources=["hyperliquid"], symbols=["BTC"], channels=["ohlcv"])

    assert report.failed == []
    assert _snapshot_starts(fake, first_run) == [NOW]
    assert _by_channel(report)[("ohlcv", "BTC")].written == 11
    assert _count(store, "1m") == DAY // MINUTE + 11
    duplicates = store.scalar(
        "SELECT COUNT(*) FROM (SELECT open_time FROM candles GROUP BY source, symbol, timeframe,"
        " open_time HAVING COUNT(*) > 1)"
    )
    assert duplicates == 0
    stored = store.query_one(
        "SELECT close FROM candles WHERE timeframe = '1m' AND open_time = ?", (NOW,)
    )
    assert stored == {"close": float(forming["h"])}
    assert cursors.cursor(store, "hyperliquid", "ohlcv", "BTC")["newest_time"] == NOW + 10 * MINUTE
    assert len(fake.requests_of("meta") + fake.requests_of("metaAndAssetCtxs")) <= 2  # once


def test_a_hole_in_stored_candles_is_fetched_back_and_coverage_returns_to_100(
    store, ingestor, fake, at_now
) -> None:
    ingestor.run_once(sources=["hyperliquid"], symbols=["BTC"], channels=["ohlcv"])
    hole = (NOW - 600 * MINUTE, NOW - 590 * MINUTE)
    store.execute("DELETE FROM candles WHERE timeframe = '1m' AND open_time BETWEEN ? AND ?", hole)
    assert _health(store, at_now)[("hyperliquid", "ohlcv")].coverage_pct < 100
    fake.set_candles("BTC", "1m", _rows("BTC", NOW + MINUTE))
    at_now.advance(ms=MINUTE)
    before = len(fake.requests_of("candleSnapshot"))

    report = ingestor.run_once(sources=["hyperliquid"], symbols=["BTC"], channels=["ohlcv"])

    assert report.failed == []
    requested = [
        (r["req"]["startTime"], r["req"]["endTime"])
        for r in fake.requests_of("candleSnapshot")[before:]
    ]
    assert requested[0] == hole
    assert requested[1][0] == NOW
    stored = repo.open_times(store, "hyperliquid", "BTC", "1m", hole[0])
    assert stored[:11] == list(range(hole[0], hole[1] + 1, MINUTE))
    health = _health(store, at_now)[("hyperliquid", "ohlcv")]
    assert health.coverage_pct == 100.0
    assert not health.stale
    assert _count(store, "1m") == DAY // MINUTE + 2


# -- failures ----------------------------------------------------------------------------------


def test_a_500_then_success_is_retried_transparently(store, ingestor, fake, sleeps) -> None:
    ingestor.run_once(sources=["hyperliquid"], symbols=[], channels=["ohlcv"])  # load markets
    fake.fail_next(1, 500, request_type="candleSnapshot")

    report = ingestor.run_once(sources=["hyperliquid"], symbols=["BTC"], channels=["ohlcv"])

    assert report.failed == []
    assert sleeps == [0.5]
    assert _count(store, "1m") == DAY // MINUTE + 1
    assert cursors.cursor(store, "hyperliquid", "ohlcv", "BTC")["last_error"] is None


def test_persistent_500s_are_reported_on_the_cursor_and_in_status_while_others_succeed(
    store, ingestor, fake, sleeps, at_now
) -> None:
    ingestor.run_once(sources=["hyperliquid"], symbols=[], channels=["ohlcv"])  # load markets
    fake.fail_next(3, 500, request_type="candleSnapshot")  # every attempt at BTC

    report = ingestor.run_once(
        sources=["hyperliquid"], symbols=["BTC", "ETH"], channels=["ohlcv", "funding"]
    )

    results = _by_channel(report)
    assert [(r.channel, r.subject) for r in report.failed] == [("ohlcv", "BTC")]
    assert "failed after 3 attempt(s)" in results[("ohlcv", "BTC")].error
    assert sleeps == [0.5, 1.0]
    assert results[("ohlcv", "ETH")].written == DAY // MINUTE + 1
    assert results[("funding", "*")].written == 2
    btc = cursors.cursor(store, "hyperliquid", "ohlcv", "BTC")
    assert btc["last_error_at"] == NOW
    assert "500" in btc["last_error"]
    assert btc["last_success_at"] is None
    health = _health(store, at_now)
    assert health[("hyperliquid", "ohlcv")].failing
    assert health[("hyperliquid", "ohlcv")].stale
    assert "failed after 3 attempt(s)" in health[("hyperliquid", "ohlcv")].last_error
    assert not health[("hyperliquid", "funding")].failing
    assert not health[("hyperliquid", "funding")].stale


def test_a_timeout_is_retried_then_reported_and_a_later_success_clears_it(
    store, make_ingestor, fake, at_now
) -> None:
    ingestor = make_ingestor(timeout_ms=150, max_retries=1)
    ingestor.run_once(sources=["hyperliquid"], symbols=["BTC"], channels=["ohlcv"])
    fake.delay_next(2, 0.5)
    at_now.advance(ms=MINUTE)

    report = ingestor.run_once(sources=["hyperliquid"], symbols=["BTC"], channels=["ohlcv"])

    [failed] = report.failed
    assert "RequestTimeout" in failed.error
    assert len(fake.requests_of("candleSnapshot")) == 3 + 2
    health = _health(store, at_now)[("hyperliquid", "ohlcv")]
    assert (health.failing, health.stale) == (True, True)
    assert health.last_error_at

    at_now.advance(ms=MINUTE)
    fake.set_candles("BTC", "1m", _rows("BTC", NOW + 2 * MINUTE))
    assert (
        ingestor.run_once(sources=["hyperliquid"], symbols=["BTC"], channels=["ohlcv"]).failed == []
    )
    health = _health(store, at_now)[("hyperliquid", "ohlcv")]
    assert (health.failing, health.stale) == (False, False)


def test_a_failed_market_load_stops_showing_as_failing_once_markets_load_again(
    store, make_ingestor, fake, at_now
) -> None:
    ingestor = make_ingestor(max_retries=0)
    fake.fail_next(1, 500)
    [failed] = ingestor.run_once(sources=["hyperliquid"], symbols=[], channels=["ohlcv"]).failed
    assert failed.channel == "assets"
    assert _health(store, at_now)[("hyperliquid", "assets")].failing
    at_now.advance(ms=MINUTE)

    report = ingestor.run_once(sources=["hyperliquid"], symbols=[], channels=["ohlcv"])

    assert report.failed == []
    health = _health(store, at_now)[("hyperliquid", "assets")]
    assert (health.failing, health.stale) == (False, False)
    assert cursors.cursor(store, "hyperliquid", "assets", "*")["last_success_at"] == NOW + MINUTE


def test_a_long_running_ingestor_reloads_the_markets_daily_not_every_pass(
    store, ingestor, fake, at_now
) -> None:
    def loads() -> int:
        return len(fake.requests_of("spotMeta"))

    ingestor.run_once(sources=["hyperliquid"], symbols=[], channels=["ohlcv"])
    first = loads()
    at_now.advance(ms=HOUR)
    ingestor.run_once(sources=["hyperliquid"], symbols=[], channels=["ohlcv"])
    assert loads() == first > 0

    at_now.advance(ms=DAY)
    ingestor.run_once(sources=["hyperliquid"], symbols=[], channels=["ohlcv"])

    assert loads() == 2 * first
    assert not _health(store, at_now)[("hyperliquid", "assets")].stale


def test_a_failed_funding_fetch_stops_showing_as_failing_once_funding_arrives_again(
    store, ingestor, fake, at_now
) -> None:
    ingestor.run_once(sources=["hyperliquid"], symbols=[], channels=["ohlcv"])  # load markets
    fake.fail_next(3, 500, request_type="metaAndAssetCtxs")
    [failed] = ingestor.run_once(
        sources=["hyperliquid"], symbols=["BTC"], channels=["funding"]
    ).failed
    assert failed.channel == "funding"
    assert _health(store, at_now)[("hyperliquid", "funding")].failing
    at_now.advance(ms=MINUTE)

    report = ingestor.run_once(sources=["hyperliquid"], symbols=["BTC"], channels=["funding"])

    assert report.failed == []
    health = _health(store, at_now)[("hyperliquid", "funding")]
    assert (health.failing, health.stale) == (False, False)


def test_an_unknown_symbol_fails_alone_and_leaves_no_cursor_to_flag_the_channel(
    store, ingestor, at_now
) -> None:
    report = ingestor.run_once(sources=["hyperliquid"], symbols=["NOPE", "BTC"], channels=["ohlcv"])

    [failed] = report.failed
    assert (failed.subject, "unknown symbol 'NOPE'" in failed.error) == ("NOPE", True)
    assert _count(store, "1m") == DAY // MINUTE + 1
    # a typo once must not leave hyperliquid/ohlcv failing in `ingest status` for ever
    assert cursors.cursor(store, "hyperliquid", "ohlcv", "NOPE") is None
    health = _health(store, at_now)[("hyperliquid", "ohlcv")]
    assert (health.failing, health.stale, health.subjects) == (False, False, 1)


# -- bad rows ----------------------------------------------------------------------------------


def _spoil(rows: list[dict[str, Any]], index: int, **fields: str) -> None:
    rows[index] = {**rows[index], **fields}


def test_malformed_candle_rows_are_rejected_and_counted_and_the_rest_is_stored(
    store, ingestor, fake
) -> None:
    rows = _rows("BTC", NOW)
    first = len(rows) - DAY // MINUTE - 1  # index of NOW - 24 h
    _spoil(rows, first + 10, h="1.0")  # high below low
    _spoil(rows, first + 20, o="abc")
    _spoil(rows, first + 30, v="-5")
    _spoil(rows, first + 40, c="NaN")
    _spoil(rows, first + 50, l="0")  # a zero price
    fake.set_candles("BTC", "1m", rows)

    report = ingestor.run_once(sources=["hyperliquid"], symbols=["BTC"], channels=["ohlcv"])

    result = _by_channel(report)[("ohlcv", "BTC")]
    assert result.error is None
    assert dict(result.rejection_reasons) == {
        "high<low": 1,
        "not_a_number": 1,
        "negative_volume": 1,
        "nan": 1,
        "non_positive_price": 1,
    }
    assert (result.written, result.rejected) == (DAY // MINUTE + 1 - 5, 5)
    assert _count(store, "1m") == DAY // MINUTE + 1 - 5
    cursor = cursors.cursor(store, "hyperliquid", "ohlcv", "BTC")
    assert cursor["rows_rejected"] == 5
    assert "high<low×1" in cursor["last_rejection"]
    assert _health(store, ingestor.clock)[("hyperliquid", "ohlcv")].rejected_total == 5


def test_absurd_prices_and_volumes_are_rejected_and_counted_never_a_crash(
    store, ingestor, fake
) -> None:
    rows = _rows("BTC", NOW)
    first = len(rows) - DAY // MINUTE - 1
    _spoil(rows, first + 10, o="1e300", h="1e300", l="1e300", c="1e300")
    _spoil(rows, first + 20, h="inf")
    _spoil(rows, first + 30, v="1e300")
    _spoil(rows, first + 40, o="-5")
    fake.set_candles("BTC", "1m", rows)

    report = ingestor.run_once(sources=["hyperliquid"], symbols=["BTC"], channels=["ohlcv"])

    result = _by_channel(report)[("ohlcv", "BTC")]
    assert result.error is None
    assert dict(result.rejection_reasons) == {
        "price_out_of_range": 1,
        "nan": 1,
        "volume_out_of_range": 1,
        "non_positive_price": 1,
    }
    assert store.scalar("SELECT MAX(high) FROM candles") < 1e6


def test_synthetic_bars_from_the_future_are_rejected_like_any_source(store, at_now) -> None:
    ingestor = Ingestor(store, at_now, wall_clock=at_now)  # real time is NOW

    result = ingestor.store_synthetic(generate("BTC", start_ms=NOW - 2 * MINUTE, count=10))

    # NOW - 2 min .. NOW + 1 min are stored (one bar ahead is tolerated as clock skew)
    assert (result.written, dict(result.rejection_reasons)) == (4, {"future_time": 6})
    assert _series_times(store, "BTC", "1m")[-1] == NOW + MINUTE


def test_a_file_with_a_bar_from_the_future_imports_the_rest(store, at_now, tmp_path) -> None:
    rows = [[NOW - (9 - i) * MINUTE, 10, 11, 9, 10.5, 1] for i in range(10)]
    rows += [[NOW + MINUTE, 10, 11, 9, 10.5, 1], [NOW + 30 * DAY, 10, 11, 9, 10.5, 1]]
    path = tmp_path / "candles.json"
    path.write_text(json.dumps(rows))

    ingestor = Ingestor(store, at_now, wall_clock=at_now)  # real time is NOW
    result, _ = ingestor.import_file(path, symbol="BTC", timeframe="1m")

    # The bar opening one step ahead is clock skew, tolerated; a month ahead is refused.
    assert (result.written, dict(result.rejection_reasons)) == (11, {"future_time": 1})


def test_a_replay_clock_imports_history_past_its_own_time(store, at_now, tmp_path) -> None:
    """Only real time bounds the future: a replay at NOW steps through bars after it."""
    rows = [[NOW + i * MINUTE, 10, 11, 9, 10.5, 1] for i in range(48)]
    path = tmp_path / "ahead-of-the-replay.json"
    path.write_text(json.dumps(rows))

    result, _ = Ingestor(store, at_now).import_file(path, symbol="BTC", timeframe="1m")

    assert (result.written, result.rejected) == (48, 0)


def test_a_conflicting_duplicate_candle_is_rejected_and_counted(store, ingestor, fake) -> None:
    rows = _rows("BTC", NOW)
    rows.append({**rows[-5], "c": rows[-5]["h"]})
    fake.set_candles("BTC", "1m", rows)

    report = ingestor.run_once(sources=["hyperliquid"], symbols=["BTC"], channels=["ohlcv"])

    assert _by_channel(report)[("ohlcv", "BTC")].rejection_reasons["duplicate_time"] == 1


def test_a_duplicate_time_in_an_imported_file_is_counted_on_the_cursor(
    store, at_now, tmp_path
) -> None:
    rows = [[NOW - (4 - i) * MINUTE, 10, 11, 9, 10.5, 1] for i in range(5)]
    rows.insert(3, [NOW - 2 * MINUTE, 10, 12, 9, 11, 1])
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(rows))

    result, _ = Ingestor(store, at_now).import_file(path, symbol="BTC", timeframe="1m")

    assert (result.written, dict(result.rejection_reasons)) == (5, {"duplicate_time": 1})
    cursor = cursors.cursor(store, "file", "ohlcv", "BTC")
    assert (cursor["rows_rejected"], cursor["last_rejection"]) == (1, "duplicate_time×1")


# -- funding -----------------------------------------------------------------------------------


def test_funding_is_stored_for_perps_only(store, ingestor, fake, at_now) -> None:
    report = ingestor.run_once(
        sources=["hyperliquid"], symbols=["BTC", "ETH", "PURR/USDC"], channels=["funding"]
    )

    assert report.failed == []
    assert fake.requests_of("candleSnapshot") == []
    stored = store.query("SELECT symbol, time, rate, mark_price FROM funding_rates ORDER BY symbol")
    assert [(r["symbol"], r["time"], r["rate"]) for r in stored] == [
        ("BTC", NOW, 0.0000125),
        ("ETH", NOW, 0.0000125),
    ]
    assert stored[0]["mark_price"] == 58923.0
    assert cursors.cursor(store, "hyperliquid", "funding", "BTC")["newest_time"] == NOW
    assert cursors.cursor(store, "hyperliquid", "funding", "PURR/USDC") is None


def test_the_predicted_funding_rate_is_stored_beside_the_current_one(
    store, ingestor, fake, at_now
) -> None:
    fake.predict_funding("BTC", "-0.00002")

    report = ingestor.run_once(
        sources=["hyperliquid"], symbols=["BTC", "ETH"], channels=["funding"]
    )

    assert report.failed == []
    stored = store.query("SELECT symbol, predicted_rate FROM funding_rates ORDER BY symbol")
    assert [(r["symbol"], r["predicted_rate"]) for r in stored] == [
        ("BTC", -0.00002),
        ("ETH", None),
    ]


# -- Polymarket and DefiLlama ---------------------------------------------------------------------


def _load(relative: str) -> Any:
    return json.loads((TEST_DATA / relative).read_text(encoding="utf-8"))


def _llama(path: str) -> Any:
    return _load("defillama/openapi_free_schema_examples.json")[path]["schema_example"]


class Routes:
    """An httpx MockTransport handler answering by path; records every request."""

    def __init__(self, routes: dict[str, Any]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path not in self.routes:
            return httpx.Response(404, json={"error": "no route"})
        return httpx.Response(200, json=self.routes[request.url.path])


@pytest.fixture
def gamma_markets() -> list[Any]:
    event = _load("polymarket/nautilus_gamma_event.json")[0]
    return [
        _load("polymarket/nautilus_gamma_market.json"),
        *event["markets"],
        {
            "id": "broken",
            "question": "Prices?",
            "outcomes": '["Yes", "No"]',
            "outcomePrices": '["0.5"]',
        },
    ]


def test_polymarket_markets_are_stored_compactly_and_a_malformed_one_is_counted(
    store, at_now, gamma_markets
) -> None:
    routes = Routes({"/markets": gamma_markets})
    source = PolymarketSource(clock=at_now, transport=httpx.MockTransport(routes), sleep=Sleeps())

    report = Ingestor(store, at_now, polymarket=source).run_once(sources=["polymarket"])

    [result] = report.results
    assert (result.channel, result.written, result.rejected) == ("markets", 3, 1)
    assert dict(result.rejection_reasons) == {"price_count_mismatch": 1}
    markets = {m["market_id"]: m for m in store.query("SELECT * FROM prediction_markets")}
    assert set(markets) == {"1557558", "559657", "559659"}
    assert markets["559657"]["observed_at"] == NOW
    assert json.loads(markets["1557558"]["outcomes"])[0]["name"] == "Up"
    assert observations.latest_prediction_prices(store, "1557558") == {
        "Up": 0.505,
        "Down": 0.495,
    }
    assert store.scalar("SELECT COUNT(*) FROM prediction_prices") == 6
    cursor = cursors.cursor(store, "polymarket", "markets", "*")
    assert (cursor["newest_time"], cursor["rows_written"], cursor["rows_rejected"]) == (NOW, 3, 1)
    assert cursor["last_rejection"] == "price_count_mismatch×1"


def test_polymarket_observations_a_minute_apart_keep_both_prices(
    store, at_now, gamma_markets
) -> None:
    routes = Routes({"/markets": gamma_markets[:1]})
    source = PolymarketSource(clock=at_now, transport=httpx.MockTransport(routes), sleep=Sleeps())
    ingestor = Ingestor(store, at_now, polymarket=source)

    ingestor.run_once(sources=["polymarket"])
    at_now.advance(ms=MINUTE)
    ingestor.run_once(sources=["polymarket"])

    assert store.scalar("SELECT COUNT(*) FROM prediction_markets") == 1
    assert store.scalar("SELECT COUNT(*) FROM prediction_prices") == 4
    market = store.query_one("SELECT first_seen_at, observed_at FROM prediction_markets")
    assert market == {"first_seen_at": NOW, "observed_at": NOW + MINUTE}


def test_defillama_channels_store_macro_observations_and_count_a_bad_protocol(
    store, at_now
) -> None:
    protocols = _llama("/protocols")
    routes = Routes(
        {
            "/v2/chains": _llama("/v2/chains"),
            "/protocols": [*protocols, {"name": "Broken", "tvl": "lots"}],
            "/overview/dexs": _llama("/overview/dexs"),
            "/overview/fees": _llama("/overview/fees"),
            "/overview/open-interest": _llama("/overview/open-interest"),
            "/stablecoins": _llama("/stablecoins"),
        }
    )
    source = DefiLlamaSource(clock=at_now, transport=httpx.MockTransport(routes), sleep=Sleeps())

    report = Ingestor(store, at_now, defillama=source).run_once(sources=["defillama"])

    results = {r.channel: r for r in report.results}
    assert set(results) == {"chains", "protocols", "dex", "fees", "stablecoins", "open_interest"}
    assert report.failed == []
    assert results["protocols"].rejection_reasons == {"tvl_not_a_number": 1}
    scopes = {
        (r["scope"], r["metric"])
        for r in store.query("SELECT DISTINCT scope, metric FROM macro_observations")
    }
    assert {
        ("chain", "tvl"),
        ("global", "tvl"),
        ("protocol", "tvl"),
        ("stablecoin", "supply"),
    } <= scopes
    assert ("global", "dex_volume_24h") in scopes
    assert ("global", "fees_24h") in scopes
    assert observations.latest_macro(store, "protocol", "hyperliquid-perps") == {
        "open_interest": (NOW, 14304709847.0),
        "open_interest_change_1d": (NOW, 0.0362),
    }
    assert observations.latest_macro(store, "chain", "Ethereum")["tvl"] == (
        NOW,
        65998652431.40251,
    )
    for channel in results:
        cursor = cursors.cursor(store, "defillama", channel, "*")
        assert cursor["last_success_at"] == NOW, channel
        assert cursor["rows_written"] == results[channel].written > 0, channel
    assert cursors.cursor(store, "defillama", "protocols", "*")["rows_rejected"] == 1
    health = _health(store, at_now)
    assert not health[("defillama", "chains")].stale


def test_a_failing_defillama_endpoint_does_not_stop_the_others(store, at_now) -> None:
    routes = Routes({"/v2/chains": _llama("/v2/chains"), "/stablecoins": _llama("/stablecoins")})
    source = DefiLlamaSource(
        clock=at_now, transport=httpx.MockTransport(routes), sleep=Sleeps(), max_retries=0
    )

    report = Ingestor(store, at_now, defillama=source).run_once(sources=["defillama"])

    assert {r.channel for r in report.failed} == {"protocols", "dex", "fees", "open_interest"}
    assert {r.channel for r in report.results if r.written} == {"chains", "stablecoins"}
    assert "not found" in cursors.cursor(store, "defillama", "fees", "*")["last_error"]


# -- retention ---------------------------------------------------------------------------------


def _series_times(store, symbol: str, timeframe: str, table: str = "candles") -> list[int]:
    return [
        r[0]
        for r in list(
            store.tuples(
                f"SELECT open_time FROM {table} WHERE symbol = ? AND timeframe = ?"
                " ORDER BY open_time",
                (symbol, timeframe),
            )
        )
    ]


def test_prune_keeps_a_day_of_1m_before_the_clock_in_every_series(store, at_now) -> None:
    ingestor = Ingestor(store, at_now)
    start = NOW - 30 * HOUR
    ingestor.store_synthetic(generate("BTC", start_ms=start, count=30 * 60 + 1, seed=1))
    eth_newest = NOW - 5 * HOUR  # a paused feed keeps what is inside the window, no more
    ingestor.store_synthetic(generate("ETH", start_ms=start, count=25 * 60 + 1, seed=2))
    ingestor.store_synthetic(generate("SOL", start_ms=start, count=1, seed=3))

    counts = ingestor.prune()

    btc = _series_times(store, "BTC", "1m")
    eth = _series_times(store, "ETH", "1m")
    assert (btc[0], btc[-1], len(btc)) == (NOW - DAY, NOW, 24 * 60 + 1)  # the boundary bar stays
    assert (eth[0], eth[-1], len(eth)) == (NOW - DAY, eth_newest, 19 * 60 + 1)
    assert _series_times(store, "SOL", "1m") == []
    assert _series_times(store, "BTC", "1m", "indicators") == btc
    assert _series_times(store, "ETH", "1m", "indicators") == eth
    assert counts["candles_1m"] == 2 * (2 * 6 * 60 + 1)  # candles and their indicator rows
    assert counts["candles_1h"] == 0  # 31 hours are well inside 7 days


def test_a_candle_from_the_future_never_makes_prune_delete_the_history(store, at_now) -> None:
    """Retention is anchored on the clock, never on a row's own time: one bar dated a month
    ahead (stored before future bars were refused) leaves the last day of BTC in place."""
    ingestor = Ingestor(store, at_now)
    ingestor.store_synthetic(generate("BTC", start_ms=NOW - 2 * HOUR, count=2 * 60 + 1, seed=1))
    with store.atomic():
        repo.upsert_candles(store, "synthetic", generate("BTC", start_ms=NOW + 30 * DAY, count=1))

    ingestor.prune()

    times = _series_times(store, "BTC", "1m")
    assert (times[0], times[-2], times[-1]) == (NOW - 2 * HOUR, NOW, NOW + 30 * DAY)
    assert len(times) == 2 * 60 + 2


def test_prune_keeps_7_days_of_1h_and_a_day_of_5m_before_the_clock(store, at_now) -> None:
    ingestor = Ingestor(store, at_now)
    last_hour = NOW - NOW % HOUR
    ingestor.store_synthetic(
        generate("BTC", start_ms=last_hour - 9 * DAY, count=9 * 24 + 1, timeframe="1h")
    )
    five = NOW - NOW % (5 * MINUTE)
    ingestor.store_synthetic(
        generate("ETH", start_ms=five - 2 * DAY, count=2 * 288 + 1, timeframe="5m")
    )

    counts = ingestor.prune()

    hours = _series_times(store, "BTC", "1h")
    assert hours[0] >= NOW - 7 * DAY > hours[0] - HOUR
    assert hours[-1] == last_hour
    fives = _series_times(store, "ETH", "5m")
    assert fives[0] >= NOW - DAY > fives[0] - 5 * MINUTE
    assert fives[-1] == five
    assert counts["candles_5m"] == 2 * (2 * 288 + 1 - len(fives))
    # BTC's oldest hours and their indicators; ETH's two days of rollups all stay
    assert counts["candles_1h"] == 2 * (9 * 24 + 1 - len(hours))


def test_prune_drops_observations_older_than_the_clock_allows(store, at_now) -> None:
    cutoff = NOW - 7 * DAY
    with store.atomic():
        observations.upsert_funding(
            store,
            "hyperliquid",
            [FundingRate("BTC", t, 0.0001) for t in (cutoff - MINUTE, cutoff, NOW)],
        )
        observations.upsert_macro(
            store,
            [MacroObservation("chain", "Ethereum", "tvl", t, 1.0) for t in (cutoff - 1, cutoff)],
        )

    counts = Ingestor(store, at_now).prune()

    assert (counts["funding_rates"], counts["macro_observations"]) == (1, 1)
    assert [r["time"] for r in store.query("SELECT time FROM funding_rates ORDER BY time")] == [
        cutoff,
        NOW,
    ]
    assert store.query("SELECT time FROM macro_observations") == [{"time": cutoff}]


def test_prune_honours_a_configured_retention(store, at_now) -> None:
    ingestor = Ingestor(store, at_now, retention=Retention(fine_ms=HOUR))
    ingestor.store_synthetic(generate("BTC", start_ms=NOW - 3 * HOUR, count=3 * 60 + 1))

    ingestor.prune()

    assert len(_series_times(store, "BTC", "1m")) == 61


def test_status_counts_each_defillama_channels_own_observations(store, clock) -> None:
    from autotrader.market.health import channel_health
    from autotrader.market.models import MacroObservation

    now = clock.now_ms()
    rows = [
        MacroObservation("chain", "Ethereum", "tvl", now, 1.0),
        MacroObservation("global", "all", "tvl", now, 2.0),
        MacroObservation("protocol", "uniswap", "dex_volume_24h", now, 3.0),
        MacroObservation("global", "all", "dex_volume_24h", now, 3.0),
        MacroObservation("global", "all", "dex_volume_24h", now - 2 * 86_400_000, 3.0),
    ]
    with store.atomic():
        observations.upsert_macro(store, rows)
        for channel in ("chains", "dex"):
            cursors.record_success(
                store, "defillama", channel, "*", now_ms=now, newest_time=now, written=1
            )
    health = {
        (h.source, h.channel): h for h in channel_health(store, clock, price_stale_after_s=600)
    }
    assert health[("defillama", "chains")].rows_24h == 2
    assert health[("defillama", "dex")].rows_24h == 2  # the two-day-old one is not counted


def test_a_symbol_nobody_fetches_any_more_does_not_keep_the_channel_stale(store, clock) -> None:
    from autotrader.market import repo
    from autotrader.market.health import channel_health
    from autotrader.market.models import Candle

    day, minute = 86_400_000, 60_000
    now = clock.now_ms() // minute * minute
    fresh = Candle("BTC", "1m", now - minute, 1.0, 1.0, 1.0, 1.0, 1.0)
    dropped = Candle("DOGE", "1m", now - 3 * day, 1.0, 1.0, 1.0, 1.0, 1.0)
    with store.atomic():
        repo.upsert_candles(store, "hyperliquid", [fresh, dropped])
        cursors.record_success(
            store, "hyperliquid", "ohlcv", "BTC", now_ms=now, newest_time=fresh.open_time, written=1
        )
        cursors.record_success(
            store,
            "hyperliquid",
            "ohlcv",
            "DOGE",
            now_ms=now - 3 * day,
            newest_time=dropped.open_time,
            written=1,
        )

    [health] = channel_health(store, clock, price_stale_after_s=600)

    assert health.subjects == 1
    assert not health.stale
    assert health.lag_s < 120
