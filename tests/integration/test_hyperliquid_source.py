"""HyperliquidSource against a loopback fake Hyperliquid, with real ccxt on top."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from autotrader.core.clock import SimulatedClock
from autotrader.core.errors import InvalidInputError, TemporaryError
from autotrader.market.sources.hyperliquid import HyperliquidSource, asset_infos_from_markets
from tests.fakes.hyperliquid_server import FakeHyperliquid, make_candle_rows

MINUTE = 60_000
START = 1_700_000_040_000  # on the 1m grid


class RecordingSleep:
    """Stands in for time.sleep: remembers the backoff delays instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def fake() -> Iterator[FakeHyperliquid]:
    with FakeHyperliquid() as server:
        yield server


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def make_source(fake: FakeHyperliquid, sleep: RecordingSleep) -> Callable[..., HyperliquidSource]:
    def build(**overrides: Any) -> HyperliquidSource:
        options: dict[str, Any] = {
            "base_url": fake.url,
            "timeout_ms": 2_000,
            "sleep": sleep,
            "clock": SimulatedClock(START + 12_345),
            "rate_limit_ms": 1,  # ccxt spaces /info calls 500 ms apart for the real API
        }
        options.update(overrides)
        return HyperliquidSource(**options)

    return build


@pytest.fixture
def source(make_source: Callable[..., HyperliquidSource]) -> HyperliquidSource:
    return make_source()


# -- markets and assets ----------------------------------------------------------------------------


def test_markets_load_from_the_fake_server_through_real_ccxt(
    source: HyperliquidSource, fake: FakeHyperliquid
) -> None:
    markets = source.markets(refresh=True)

    assert "BTC/USDC:USDC" in markets
    assert "PURR/USDC" in markets
    assert {"spotMeta", "metaAndAssetCtxs"} <= {r["type"] for r in fake.requests}


def test_assets_give_perps_a_funding_channel_and_spot_none(source: HyperliquidSource) -> None:
    assets = {a.symbol: a for a in source.assets(refresh=True)}

    btc, purr = assets["BTC"], assets["PURR/USDC"]
    assert (btc.kind, btc.ccxt_symbol, btc.channels) == (
        "perp",
        "BTC/USDC:USDC",
        ("ohlcv", "funding"),
    )
    assert (btc.amount_step, btc.price_tick, btc.min_notional) == ("0.00001", "1", "10")
    assert btc.max_leverage == 50
    assert btc.category == "uncategorized"
    assert (purr.kind, purr.channels, purr.settle) == ("spot", ("ohlcv",), None)
    assert purr.amount_step == "1"
    assert not assets["DUMMY2"].active  # delisted perps stay listed, inactive


def test_offline_snapshot_works_with_no_server_at_all() -> None:
    source = HyperliquidSource(base_url="http://127.0.0.1:9", max_retries=0)

    source.markets()

    assert source.exchange.amount_to_precision("BTC/USDC:USDC", 0.123456789) == "0.12346"
    assert source.exchange.price_to_precision("BTC/USDC:USDC", 58923.456789) == "58923"
    assert source.ccxt_symbol("BTC") == "BTC/USDC:USDC"
    assert source.ccxt_symbol("PURR/USDC") == "PURR/USDC"


def test_asset_infos_from_markets_are_sorted_by_symbol() -> None:
    source = HyperliquidSource(base_url="http://127.0.0.1:9")

    symbols = [a.symbol for a in asset_infos_from_markets(source.markets())]

    assert symbols == ["ADA", "BTC", "ETH", "MEME", "PURR/USDC", "SOL"]


def test_unknown_symbol_is_invalid_input(source: HyperliquidSource) -> None:
    with pytest.raises(InvalidInputError, match="unknown Hyperliquid symbol 'XYZ'"):
        source.ccxt_symbol("XYZ")


# -- candles ---------------------------------------------------------------------------------------


def test_candles_are_fetched_in_windows_and_converted_with_our_symbol(
    make_source: Callable[..., HyperliquidSource], fake: FakeHyperliquid
) -> None:
    fake.set_candles("BTC", "1m", make_candle_rows("BTC", "1m", START, 10))
    source = make_source(window_bars=4)
    source.markets(refresh=True)

    candles, rejections = source.fetch_candles("BTC", since_ms=START, until_ms=START + 9 * MINUTE)

    assert rejections == []
    assert [c.open_time for c in candles] == [START + i * MINUTE for i in range(10)]
    assert {c.symbol for c in candles} == {"BTC"}
    assert candles[0].open == 97.0
    windows = fake.requests_of("candleSnapshot")
    assert len(windows) == 3
    assert windows[0]["req"] == {
        "coin": "BTC",
        "interval": "1m",
        "startTime": START,
        "endTime": START + 4 * MINUTE - 1,
    }


def test_a_server_that_caps_its_answer_is_read_completely_without_duplicates(
    make_source: Callable[..., HyperliquidSource], fake: FakeHyperliquid
) -> None:
    fake.max_candles = 3
    fake.set_candles("BTC", "1m", make_candle_rows("BTC", "1m", START, 10))
    source = make_source(window_bars=5)

    candles, _ = source.fetch_candles("BTC", since_ms=START, until_ms=START + 9 * MINUTE)

    times = [c.open_time for c in candles]
    assert times == sorted(set(times))
    assert len(times) == 10
    assert len(fake.requests_of("candleSnapshot")) >= 4


def test_candle_range_bounds_are_inclusive_and_empty_windows_are_skipped(
    make_source: Callable[..., HyperliquidSource], fake: FakeHyperliquid
) -> None:
    # Bars 0-3 are missing, as when a range reaches past the API's 5,000-bar horizon.
    fake.set_candles("BTC", "1m", make_candle_rows("BTC", "1m", START, 12)[4:])
    source = make_source(window_bars=4)

    candles, _ = source.fetch_candles("BTC", since_ms=START, until_ms=START + 10 * MINUTE)

    assert [c.open_time for c in candles] == [START + i * MINUTE for i in range(4, 11)]


def test_malformed_candle_rows_are_rejected_with_a_reason_and_the_rest_returned(
    source: HyperliquidSource, fake: FakeHyperliquid
) -> None:
    rows = make_candle_rows("BTC", "1m", START, 6)
    rows[1]["h"], rows[1]["l"] = "90.0", "110.0"  # high below low
    rows[2]["o"] = "not-a-price"
    rows[3]["v"] = "-5"
    fake.set_candles("BTC", "1m", rows)

    candles, rejections = source.fetch_candles("BTC", since_ms=START, until_ms=START + 5 * MINUTE)

    assert [c.open_time for c in candles] == [START, START + 4 * MINUTE, START + 5 * MINUTE]
    assert [(r.index, r.reason) for r in rejections] == [
        (1, "high<low"),
        (2, "not_a_number"),
        (3, "negative_volume"),
    ]


def test_spot_candles_ask_for_the_spot_coin(
    source: HyperliquidSource, fake: FakeHyperliquid
) -> None:
    fake.set_candles("PURR/USDC", "1h", make_candle_rows("PURR/USDC", "1h", 1_699_999_200_000, 2))

    candles, _ = source.fetch_candles(
        "PURR/USDC", since_ms=1_699_999_200_000, until_ms=1_700_002_800_000, timeframe="1h"
    )

    assert [c.symbol for c in candles] == ["PURR/USDC", "PURR/USDC"]


def test_candles_for_an_unknown_symbol_are_refused_before_any_request(
    source: HyperliquidSource, fake: FakeHyperliquid
) -> None:
    with pytest.raises(InvalidInputError, match="unknown Hyperliquid symbol 'XYZ'"):
        source.fetch_candles("XYZ", since_ms=START, until_ms=START + MINUTE)

    assert fake.requests == []


# -- retries and error translation -----------------------------------------------------------------


def test_a_500_then_success_is_retried_after_a_backoff(
    source: HyperliquidSource, fake: FakeHyperliquid, sleep: RecordingSleep
) -> None:
    fake.set_candles("BTC", "1m", make_candle_rows("BTC", "1m", START, 3))
    fake.fail_next(1, status=500)

    candles, _ = source.fetch_candles("BTC", since_ms=START, until_ms=START + 2 * MINUTE)

    assert len(candles) == 3
    assert sleep.calls == [0.5]
    assert len(fake.requests_of("candleSnapshot")) == 2


def test_persistent_500s_raise_temporary_error_after_max_retries(
    make_source: Callable[..., HyperliquidSource], fake: FakeHyperliquid, sleep: RecordingSleep
) -> None:
    source = make_source(max_retries=3)
    fake.fail_next(10, status=500)

    with pytest.raises(TemporaryError, match="fetch_candles BTC 1m failed after 4 attempt"):
        source.fetch_candles("BTC", since_ms=START, until_ms=START + MINUTE)

    assert sleep.calls == [0.5, 1.0, 2.0]
    assert len(fake.requests_of("candleSnapshot")) == 4


def test_a_rate_limit_answer_is_retried(
    source: HyperliquidSource, fake: FakeHyperliquid, sleep: RecordingSleep
) -> None:
    fake.fail_next(1, status=429)

    assert source.markets(refresh=True)
    assert sleep.calls == [0.5]


def test_a_response_slower_than_the_timeout_is_a_temporary_error(
    make_source: Callable[..., HyperliquidSource], fake: FakeHyperliquid
) -> None:
    source = make_source(timeout_ms=100, max_retries=1)
    fake.delay_next(2, 0.5)

    with pytest.raises(TemporaryError, match="RequestTimeout"):
        source.fetch_candles("BTC", since_ms=START, until_ms=START + MINUTE)


def test_an_exchange_side_refusal_is_a_temporary_error_without_retry(
    source: HyperliquidSource, fake: FakeHyperliquid, sleep: RecordingSleep
) -> None:
    fake.fail_next(1, status=422)

    with pytest.raises(TemporaryError, match="load_markets failed: ExchangeError"):
        source.markets(refresh=True)

    assert sleep.calls == []


# -- funding ---------------------------------------------------------------------------------------


def test_funding_for_btc_comes_from_meta_and_asset_ctxs(
    source: HyperliquidSource, fake: FakeHyperliquid
) -> None:
    (btc,) = source.fetch_funding(["BTC"])

    assert btc.symbol == "BTC"
    assert btc.rate == pytest.approx(0.0000125)
    assert btc.mark_price == 58923.0
    assert btc.oracle_price == 58941.0
    assert btc.open_interest == pytest.approx(4860.76306)
    assert btc.predicted_rate is None  # the documented answer predicts only AVAX
    assert btc.time == START  # the clock's minute, seconds dropped
    assert [r["type"] for r in fake.requests] == ["metaAndAssetCtxs", "predictedFundings"]


def test_funding_carries_hyperliquids_predicted_rate_not_another_venues(
    source: HyperliquidSource, fake: FakeHyperliquid
) -> None:
    fake.predict_funding("BTC", "0.00003")

    btc, eth = source.fetch_funding(["BTC", "ETH"])

    assert btc.predicted_rate == pytest.approx(0.00003)  # HlPerp, not BinPerp's 0.0001
    assert eth.predicted_rate is None


def test_a_predicted_rate_over_several_hours_is_stored_hourly(
    source: HyperliquidSource, fake: FakeHyperliquid
) -> None:
    fake.predict_funding("ETH", "0.0008", interval_hours=8)

    assert source.fetch_predicted_funding()["ETH"] == pytest.approx(0.0001)


def test_the_documented_predicted_fundings_answer_is_read(source: HyperliquidSource) -> None:
    assert source.fetch_predicted_funding() == {"AVAX": pytest.approx(0.0000125)}


def test_malformed_predictions_are_skipped_and_a_non_list_answer_is_temporary(
    source: HyperliquidSource, fake: FakeHyperliquid
) -> None:
    odd = [
        ["BTC", [["HlPerp", None]]],
        ["ETH", "x"],
        7,
        ["SOL", [["HlPerp", {"fundingRate": "?"}]]],
    ]
    fake.answer_next("predictedFundings", odd)
    assert source.fetch_predicted_funding() == {}

    fake.answer_next("predictedFundings", {"coins": []})
    with pytest.raises(TemporaryError, match="expected a list of coins, got dict"):
        source.fetch_funding(["BTC"])


def test_funding_for_a_spot_market_is_invalid_input(
    source: HyperliquidSource, fake: FakeHyperliquid
) -> None:
    with pytest.raises(InvalidInputError, match="spot market 'PURR/USDC' has no funding"):
        source.fetch_funding(["BTC", "PURR/USDC"])

    assert fake.requests == []


def test_funding_for_an_unknown_symbol_is_invalid_input(source: HyperliquidSource) -> None:
    with pytest.raises(InvalidInputError, match="unknown Hyperliquid symbol 'XYZ'"):
        source.fetch_funding(["XYZ"])


def test_funding_failures_are_retried_then_temporary(
    make_source: Callable[..., HyperliquidSource], fake: FakeHyperliquid, sleep: RecordingSleep
) -> None:
    source = make_source(max_retries=1)
    fake.fail_next(5, status=503, request_type="metaAndAssetCtxs")

    with pytest.raises(TemporaryError, match="fetch_funding failed after 2 attempt"):
        source.fetch_funding(["ETH"])

    assert sleep.calls == [0.5]
