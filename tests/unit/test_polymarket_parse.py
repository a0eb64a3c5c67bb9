"""Polymarket parsers against the real Gamma/CLOB samples in tests/data, and hostile payloads."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from autotrader.core.clock import parse_iso_utc
from autotrader.core.errors import InvalidInputError
from autotrader.market.models import PredictionMarket, PredictionOutcome
from autotrader.market.sources.polymarket import (
    parse_book,
    parse_event,
    parse_market,
    parse_markets,
    parse_search,
)
from autotrader.market.topics import markets_for_topic
from tests.conftest import TEST_DATA

DATA = TEST_DATA / "polymarket"

OBSERVED = 1_773_300_000_000


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@pytest.fixture
def gamma_market() -> dict[str, Any]:
    return load("nautilus_gamma_market.json")


# -- real samples ------------------------------------------------------------------------------


def test_parses_the_real_gamma_market(gamma_market: dict[str, Any]) -> None:
    market = parse_market(gamma_market, observed_at=OBSERVED)

    assert market.market_id == "1557558"
    assert market.question == "Bitcoin Up or Down - March 12, 5:20AM-5:25AM ET"
    assert market.slug == "btc-updown-5m-1773307200"
    assert market.event_slug == "btc-updown-5m-1773307200"
    assert market.outcomes == (
        PredictionOutcome(
            "Up",
            0.505,
            "104239898038807136052399800151408521467737075933964991162589336683346093173875",
        ),
        PredictionOutcome(
            "Down",
            0.495,
            "71183960810705820955071415844881728181970340514894896943812046065452395013351",
        ),
    )
    assert market.volume == 9.999997
    assert market.liquidity == 20328.3747
    assert market.end_time == parse_iso_utc("2026-03-12T09:25:00Z") == 1_773_307_500_000
    assert market.active is True
    assert market.closed is False
    assert market.observed_at == OBSERVED


def test_parses_the_btc_15m_market_sample() -> None:
    market = parse_market(load("sebislaw_gamma_market_btc_15m.json")["gamma_market"], observed_at=1)
    assert market.question == "Bitcoin Up or Down - December 31, 12:00PM-12:15PM ET"
    assert [(o.name, o.price) for o in market.outcomes] == [("Up", 0.585), ("Down", 0.415)]
    assert market.volume == 92509.470055
    assert market.end_time == parse_iso_utc("2025-12-31T17:15:00Z")


def test_event_markets_inherit_the_event_slug_and_tags() -> None:
    markets, rejections = parse_event(load("nautilus_gamma_event.json")[0], OBSERVED)

    assert rejections == []
    assert [m.market_id for m in markets] == ["559657", "559659"]
    first = markets[0]
    assert (
        first.question == "Will Stephen A. Smith win the 2028 Democratic presidential nomination?"
    )
    assert first.event_slug == "democratic-presidential-nominee-2028"
    assert [(o.name, o.price) for o in first.outcomes] == [("Yes", 0.0105), ("No", 0.9895)]
    assert first.volume == 12232699.615479222
    assert first.liquidity == 400500.66675
    assert first.end_time == parse_iso_utc("2028-11-07T00:00:00Z")
    assert "politics" in first.tags
    assert first.tags[0] == "world-elections"


def test_search_result_yields_the_markets_of_each_event() -> None:
    markets, rejections = parse_search(load("nautilus_search_response.json"), OBSERVED)

    assert rejections == []
    assert len(markets) == 1
    market = markets[0]
    assert market.question == "Will the price of Bitcoin be above $64,000 on March 11?"
    assert market.slug == "bitcoin-above-64k-on-march-11"
    assert market.event_slug == "bitcoin-above-on-march-11"
    assert [(o.name, o.price) for o in market.outcomes] == [("Yes", 0.9995), ("No", 0.0005)]
    assert {"bitcoin", "crypto"} <= set(market.tags)


@pytest.mark.parametrize(
    ("sample", "bid", "ask", "mid"),
    [
        ("nautilus_clob_book_response.json", 0.50, 0.51, 0.505),
        # bids ascend, asks descend: the best of each side is the last level
        ("nautilus_it_book.json", 0.1, 0.14, 0.12),
    ],
)
def test_book_best_prices_from_real_samples(
    sample: str, bid: float, ask: float, mid: float
) -> None:
    book = parse_book(load(sample))
    assert book["best_bid"] == bid
    assert book["best_ask"] == ask
    assert book["mid"] == pytest.approx(mid)
    assert book["spread"] == pytest.approx(ask - bid)


def test_book_from_the_ccxt_capture() -> None:
    payload = load("ccxt_static_polymarket_clob_data_api.json")[
        "clob_GET_book?token_id=<YES token>"
    ]
    book = parse_book(payload)
    assert (book["best_bid"], book["bid_size"]) == (0.005, 1000.0)
    assert (book["best_ask"], book["ask_size"]) == (0.995, 222222.0)
    assert book["mid"] == pytest.approx(0.5)
    assert book["time"] == 1781289337944
    assert book["token_id"].startswith("1604001544019627990")


# -- hostile markets ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"question": None}, "missing_question"),
        ({"question": "   "}, "missing_question"),
        ({"id": None, "conditionId": None}, "missing_id"),
        ({"outcomes": "Up, Down"}, "outcomes_not_json"),
        ({"outcomes": '{"Up": 1}'}, "outcomes_not_list"),
        ({"outcomes": "[]"}, "no_outcomes"),
        ({"outcomes": None}, "no_outcomes"),
        ({"outcomes": "[1, 2]"}, "bad_outcome_name"),
        ({"outcomePrices": "[0.5"}, "outcomePrices_not_json"),
        ({"outcomePrices": '["0.5"]'}, "price_count_mismatch"),
        ({"outcomePrices": '["0.5", "0.4", "0.1"]'}, "price_count_mismatch"),
        ({"outcomePrices": '["abc", "0.5"]'}, "price_not_a_number"),
        ({"outcomePrices": '["NaN", "0.5"]'}, "price_not_a_number"),
        ({"outcomePrices": '["Infinity", "0.5"]'}, "price_not_a_number"),
        ({"outcomePrices": '[true, "0.5"]'}, "price_not_a_number"),
        ({"outcomePrices": '["1.5", "-0.5"]'}, "price_out_of_range"),
        ({"outcomePrices": '["-0.01", "0.5"]'}, "price_out_of_range"),
        ({"clobTokenIds": '["only-one"]'}, "token_count_mismatch"),
        ({"clobTokenIds": "not json"}, "clobTokenIds_not_json"),
    ],
)
def test_malformed_market_is_rejected_with_a_reason(
    gamma_market: dict[str, Any], change: dict[str, Any], reason: str
) -> None:
    bad = {**gamma_market, **change}
    good = load("sebislaw_gamma_market_btc_15m.json")["gamma_market"]

    markets, rejections = parse_markets([good, bad, good], OBSERVED)

    assert [m.market_id for m in markets] == ["1066851", "1066851"]
    assert [(r.index, r.reason) for r in rejections] == [(1, reason)]


def test_parse_market_raises_one_line_invalid_input(gamma_market: dict[str, Any]) -> None:
    with pytest.raises(
        InvalidInputError, match="market '1557558' is malformed: price_out_of_range"
    ):
        parse_market({**gamma_market, "outcomePrices": '["2", "0"]'}, observed_at=1)


@pytest.mark.parametrize("payload", [None, 42, "[]", {"error": "rate limited"}])
def test_a_payload_that_is_not_a_list_is_one_rejection(payload: Any) -> None:
    markets, rejections = parse_markets(payload, OBSERVED)
    assert markets == []
    assert [(r.index, r.reason) for r in rejections] == [(-1, "not_a_list")]


@pytest.mark.parametrize("row", [None, 7, "market", ["a"]])
def test_a_row_that_is_not_an_object_is_rejected(row: Any) -> None:
    _, rejections = parse_markets([row], OBSERVED)
    assert [r.reason for r in rejections] == ["not_an_object"]


def test_unreadable_optional_fields_become_none(gamma_market: dict[str, Any]) -> None:
    hostile = {
        **gamma_market,
        "volumeNum": "lots",
        "volume": float("nan"),
        "liquidityNum": -5,
        "liquidity": None,
        "endDate": "soon",
        "endDateIso": None,
        "clobTokenIds": None,
        "outcomePrices": None,
        "events": "nope",
        "active": "yes?",
    }
    market = parse_market(hostile, observed_at=1)
    assert market.volume is None
    assert market.liquidity is None
    assert market.end_time is None
    assert market.event_slug is None
    assert market.active is False
    assert [(o.name, o.price, o.token_id) for o in market.outcomes] == [
        ("Up", None, None),
        ("Down", None, None),
    ]


def test_real_json_lists_are_accepted_as_well_as_encoded_strings(
    gamma_market: dict[str, Any],
) -> None:
    market = parse_market(
        {**gamma_market, "outcomes": ["Yes", "No"], "outcomePrices": [0.25, "0.75"]},
        observed_at=1,
    )
    assert [(o.name, o.price) for o in market.outcomes] == [("Yes", 0.25), ("No", 0.75)]


def test_falls_back_to_end_date_iso(gamma_market: dict[str, Any]) -> None:
    market = parse_market({**gamma_market, "endDate": None}, observed_at=1)
    assert market.end_time == parse_iso_utc("2026-03-12T00:00:00Z")


def test_hostile_event_and_search_payloads_never_raise() -> None:
    assert parse_event([], 1)[1][0].reason == "not_an_object"
    assert parse_event({"slug": "x", "markets": "nope"}, 1)[1][0].reason == "no_markets"
    assert parse_search("nope", 1)[1][0].reason == "not_a_search_result"
    assert parse_search({"events": {"a": 1}}, 1)[1][0].reason == "not_a_search_result"
    markets, rejections = parse_search(
        {"events": [None, {"slug": "e", "markets": [{"question": "q?"}, 5]}]}, 1
    )
    assert markets == []
    assert [(r.index, r.reason) for r in rejections] == [(0, "missing_id"), (1, "not_an_object")]


def test_book_skips_unreadable_levels_and_handles_empty_sides() -> None:
    book = parse_book(
        {
            "bids": [{"price": "x", "size": "1"}, {"price": "0.4", "size": "0"}, None, "0.3"],
            "asks": "nope",
            "timestamp": "soon",
        }
    )
    assert book["best_bid"] is None
    assert book["best_ask"] is None
    assert book["mid"] is None
    assert book["time"] is None


def test_book_that_is_not_an_object_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError, match="order book"):
        parse_book(["bids"])


# -- topic view --------------------------------------------------------------------------------

NOW = 1_000_000_000_000
HOUR = 3_600_000


def market(market_id: str, end: int | None, **changes: Any) -> PredictionMarket:
    base = PredictionMarket(
        market_id=market_id,
        slug=market_id,
        question=f"{market_id}?",
        event_slug=None,
        outcomes=(PredictionOutcome("Yes", 0.5), PredictionOutcome("No", 0.5)),
        volume=None,
        liquidity=None,
        end_time=end,
        active=True,
        closed=False,
        observed_at=NOW,
    )
    return replace(base, **changes)


def test_immediate_is_the_open_market_ending_soonest_after_now() -> None:
    view = markets_for_topic(
        [
            market("week", NOW + 168 * HOUR),
            market("ended", NOW - HOUR),
            market("closed", NOW + HOUR // 2, closed=True),
            market("inactive", NOW + HOUR // 4, active=False),
            market("hour", NOW + HOUR),
            market("day", NOW + 24 * HOUR),
            market("open-ended", None),
        ],
        now_ms=NOW,
    )
    assert view.immediate is not None
    assert view.immediate.market_id == "hour"
    assert [m.market_id for m in view.later] == ["day", "week", "open-ended"]


def test_market_ending_exactly_now_is_no_longer_immediate() -> None:
    view = markets_for_topic([market("now", NOW), market("next", NOW + 1)], now_ms=NOW)
    assert view.immediate is not None
    assert view.immediate.market_id == "next"
    assert view.later == ()


def test_duplicates_count_once_with_the_latest_observation() -> None:
    old = market("a", NOW + HOUR, observed_at=NOW - 60_000)
    new = market("a", NOW + HOUR, observed_at=NOW, volume=10.0)
    view = markets_for_topic([new, old], now_ms=NOW)
    assert view.immediate == new
    assert view.later == ()


def test_no_open_market_gives_no_immediate() -> None:
    view = markets_for_topic([market("closed", NOW + HOUR, closed=True)], now_ms=NOW)
    assert view.immediate is None
    assert view.later == ()
    assert markets_for_topic([], now_ms=NOW).immediate is None


def test_ties_on_end_time_are_broken_by_market_id() -> None:
    view = markets_for_topic([market("b", NOW + HOUR), market("a", NOW + HOUR)], now_ms=NOW)
    assert view.immediate is not None
    assert view.immediate.market_id == "a"
    assert [m.market_id for m in view.later] == ["b"]
