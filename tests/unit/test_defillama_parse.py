"""DefiLlama parsers against the spec's example responses in tests/data, and hostile payloads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from autotrader.market.models import MacroObservation
from autotrader.market.sources.defillama import (
    parse_chains,
    parse_dex_overview,
    parse_fees_overview,
    parse_open_interest,
    parse_protocol,
    parse_protocols,
    parse_stablecoins,
    parse_tvl_history,
)
from tests.conftest import TEST_DATA

DATA = TEST_DATA / "defillama"

NOW = 1_700_000_012_345  # 2023-11-14T22:13:32.345Z
AT = NOW - NOW % 60_000  # now floored to the minute: 1_699_999_980_000
DAY_S = 86_400


@pytest.fixture(scope="module")
def examples() -> dict[str, Any]:
    raw = json.loads((DATA / "openapi_free_schema_examples.json").read_text(encoding="utf-8"))
    return {path: entry["schema_example"] for path, entry in raw.items()}


def values(observations: list[MacroObservation]) -> dict[tuple[str, str, str], float]:
    return {(o.scope, o.subject, o.metric): o.value for o in observations}


# -- the spec's examples -----------------------------------------------------------------------


def test_chains_give_each_chain_tvl_and_the_global_sum(examples: dict[str, Any]) -> None:
    observations, rejections = parse_chains(examples["/v2/chains"], now_ms=NOW)
    assert rejections == []
    assert values(observations) == {
        ("chain", "Ethereum", "tvl"): 65998652431.40251,
        ("global", "all", "tvl"): 65998652431.40251,
    }
    assert {o.time for o in observations} == {AT} == {1_699_999_980_000}


def test_chain_history_uses_the_payload_dates(examples: dict[str, Any]) -> None:
    observations, rejections = parse_tvl_history(
        examples["/v2/historicalChainTvl/{chain}"], subject="Ethereum"
    )
    assert rejections == []
    assert observations == [MacroObservation("chain", "Ethereum", "tvl", 1609459200000, 45e9)]


def test_protocols_give_tvl_and_changes_as_fractions(examples: dict[str, Any]) -> None:
    observations, rejections = parse_protocols(examples["/protocols"], now_ms=NOW)
    assert rejections == []
    got = values(observations)
    assert got[("protocol", "aave", "tvl")] == 5_200_000_000
    assert got[("protocol", "aave", "tvl_change_1d")] == pytest.approx(0.021)
    assert got[("protocol", "aave", "tvl_change_7d")] == pytest.approx(-0.053)
    assert {o.time for o in observations} == {AT}


def test_dex_overview(examples: dict[str, Any]) -> None:
    observations, rejections = parse_dex_overview(examples["/overview/dexs"], now_ms=NOW)
    assert rejections == []
    got = values(observations)
    assert got[("protocol", "uniswap", "dex_volume_24h")] == 1_500_000_000
    assert got[("protocol", "uniswap", "dex_volume_7d")] == 10_000_000_000
    assert got[("protocol", "uniswap", "dex_volume_change_1d")] == pytest.approx(0.052)
    # the example has no top-level totals, so the global value is the sum over protocols
    assert got[("global", "all", "dex_volume_24h")] == 1_500_000_000


def test_fees_overview_includes_revenue_when_present(examples: dict[str, Any]) -> None:
    observations, rejections = parse_fees_overview(examples["/overview/fees"], now_ms=NOW)
    assert rejections == []
    got = values(observations)
    assert got[("protocol", "uniswap", "fees_24h")] == 5_000_000
    assert got[("protocol", "uniswap", "revenue_24h")] == 2_000_000
    assert got[("protocol", "uniswap", "fees_change_1d")] == pytest.approx(0.125)
    assert got[("global", "all", "fees_24h")] == 5_000_000
    assert got[("global", "all", "revenue_24h")] == 2_000_000


def test_open_interest_per_perp_dex_and_in_total(examples: dict[str, Any]) -> None:
    observations, rejections = parse_open_interest(examples["/overview/open-interest"], now_ms=NOW)
    assert rejections == []
    assert values(observations) == {
        ("protocol", "hyperliquid-perps", "open_interest"): 14_304_709_847,
        ("protocol", "hyperliquid-perps", "open_interest_change_1d"): pytest.approx(0.0362),
        ("global", "all", "open_interest"): 14_304_709_847,
    }


def test_stablecoin_supply_per_coin_and_total(examples: dict[str, Any]) -> None:
    observations, rejections = parse_stablecoins(examples["/stablecoins"], now_ms=NOW)
    assert rejections == []
    assert values(observations) == {
        ("stablecoin", "USDT", "supply"): 159510682147.76874,
        ("stablecoin", "all", "supply"): 159510682147.76874,
    }


def test_protocol_detail_without_a_series_sums_current_chain_tvls() -> None:
    payload = {
        "currentChainTvls": {
            "Ethereum": 3_200_000_000,
            "Polygon": 1_500_000_000,
            "borrowed": 9e9,
            "Ethereum-staking": 1e9,
            "Avalanche": "nan",
        }
    }
    observations, rejections = parse_protocol(payload, slug="aave", now_ms=NOW)
    assert observations == [MacroObservation("protocol", "aave", "tvl", AT, 4_700_000_000)]
    assert [r.reason for r in rejections] == ["tvl_not_a_number"]


def test_protocol_detail_with_a_series_uses_it() -> None:
    payload = {
        "tvl": [
            {"date": 1_000 * DAY_S, "totalLiquidityUSD": 100.0},
            {"date": 1_001 * DAY_S, "totalLiquidityUSD": 110.0},
        ]
    }
    got = values(parse_protocol(payload, slug="aave", now_ms=NOW)[0])
    assert got[("protocol", "aave", "tvl")] == 110.0
    assert got[("protocol", "aave", "tvl_change_1d")] == pytest.approx(0.1)


# -- flows from a series -----------------------------------------------------------------------


def series(values_by_day: dict[int, float]) -> list[dict[str, Any]]:
    return [{"date": day * DAY_S, "tvl": value} for day, value in values_by_day.items()]


def test_flows_compare_the_latest_point_with_one_and_seven_days_earlier() -> None:
    payload = series({day: 100.0 + day for day in range(10)})  # days 0..9, latest 109
    observations, rejections = parse_tvl_history(payload, subject="Ethereum")
    assert rejections == []
    changes = {o.metric: o for o in observations if o.metric != "tvl"}
    assert changes["tvl_change_1d"].value == pytest.approx(109 / 108 - 1)
    assert changes["tvl_change_7d"].value == pytest.approx(109 / 102 - 1)
    assert changes["tvl_change_1d"].time == 9 * DAY_S * 1000
    assert sum(o.metric == "tvl" for o in observations) == 10


def test_flows_use_the_last_point_at_least_that_old_and_sort_input() -> None:
    # unsorted, with a gap: 7 days before day 10 is day 3, missing → the last earlier is day 2
    payload = series({10: 120.0, 2: 80.0, 9: 100.0, 0: 50.0})
    got = values(parse_tvl_history(payload, scope="global", subject="all")[0])
    assert got[("global", "all", "tvl_change_1d")] == pytest.approx(0.2)
    assert got[("global", "all", "tvl_change_7d")] == pytest.approx(0.5)
    assert got[("global", "all", "tvl")] == 120.0  # dict keeps the last = latest point


def test_short_series_and_zero_base_give_no_flows() -> None:
    one = values(parse_tvl_history(series({5: 10.0}), subject="X")[0])
    assert set(one) == {("chain", "X", "tvl")}
    zero = values(parse_tvl_history(series({4: 0.0, 5: 10.0}), subject="X")[0])
    assert ("chain", "X", "tvl_change_1d") not in zero


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({"date": 86_400, "tvl": float("nan")}, "tvl_not_a_number"),
        ({"date": 86_400, "tvl": "NaN"}, "tvl_not_a_number"),
        ({"date": 86_400, "tvl": float("inf")}, "tvl_not_a_number"),
        ({"date": 86_400, "tvl": -1}, "tvl_negative"),
        ({"date": 86_400, "tvl": True}, "tvl_not_a_number"),
        ({"date": 86_400}, "tvl_not_a_number"),
        ({"date": "yesterday", "tvl": 1}, "bad_date"),
        ({"date": -5, "tvl": 1}, "bad_date"),
        ({"tvl": 1}, "bad_date"),
        ({"date": 0, "tvl": 2}, "duplicate_time"),
        ("point", "not_an_object"),
    ],
)
def test_bad_history_points_are_rejected_and_the_rest_kept(entry: Any, reason: str) -> None:
    observations, rejections = parse_tvl_history([{"date": 0, "tvl": 1.0}, entry], subject="X")
    assert [(r.index, r.reason) for r in rejections] == [(1, reason)]
    assert [o.value for o in observations if o.metric == "tvl"] == [1.0]


# -- hostile snapshots -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({"name": "Ethereum", "tvl": float("nan")}, "tvl_not_a_number"),
        ({"name": "Ethereum", "tvl": -3.0}, "tvl_negative"),
        ({"name": "Ethereum", "tvl": "lots"}, "tvl_not_a_number"),
        ({"name": "Ethereum"}, "tvl_not_a_number"),
        ({"tvl": 5.0}, "missing_name"),
        ({"name": "", "tvl": 5.0}, "missing_name"),
        ({"name": "Solana", "tvl": 2.0}, "duplicate_subject"),
        (None, "missing_name"),
    ],
)
def test_bad_chain_rows_are_rejected_and_excluded_from_the_total(entry: Any, reason: str) -> None:
    payload = [{"name": "Solana", "tvl": 10.0}, entry, {"name": "Base", "tvl": "5"}]
    observations, rejections = parse_chains(payload, now_ms=NOW)
    assert [(r.index, r.reason) for r in rejections] == [(1, reason)]
    got = values(observations)
    assert got[("global", "all", "tvl")] == 15.0
    assert got[("chain", "Base", "tvl")] == 5.0


def test_protocol_with_bad_tvl_is_rejected_whole_and_bad_change_alone() -> None:
    payload = [
        {"name": "Broken", "tvl": float("nan"), "change_1d": 1.0},
        {"name": "Lido", "slug": "lido", "tvl": 10.0, "change_1d": "x", "change_7d": None},
    ]
    observations, rejections = parse_protocols(payload, now_ms=NOW)
    assert [(r.index, r.reason) for r in rejections] == [
        (0, "tvl_not_a_number"),
        (1, "tvl_change_1d_not_a_number"),
    ]
    assert values(observations) == {("protocol", "lido", "tvl"): 10.0}


def test_overview_prefers_top_level_totals_and_rejects_negative_volume() -> None:
    payload = {
        "total24h": 9_000.0,
        "change_1d": -10.0,
        "protocols": [
            {"name": "Uniswap V3", "total24h": 5_000.0},
            {"name": "Bad Dex", "total24h": -1.0},
            {"name": "No Volume"},
        ],
    }
    observations, rejections = parse_dex_overview(payload, now_ms=NOW)
    assert [(r.index, r.reason) for r in rejections] == [(1, "dex_volume_24h_negative")]
    got = values(observations)
    assert got[("protocol", "uniswap-v3", "dex_volume_24h")] == 5_000.0
    assert got[("global", "all", "dex_volume_24h")] == 9_000.0
    assert got[("global", "all", "dex_volume_change_1d")] == pytest.approx(-0.1)
    assert ("global", "all", "dex_volume_7d") not in got


def test_stablecoins_skip_other_pegs_and_reject_bad_supply() -> None:
    payload = {
        "peggedAssets": [
            {"symbol": "USDT", "pegType": "peggedUSD", "circulating": {"peggedUSD": 100.0}},
            {"symbol": "EURC", "pegType": "peggedEUR", "circulating": {"peggedEUR": 50.0}},
            {"symbol": "BAD", "pegType": "peggedUSD", "circulating": {"peggedUSD": -1}},
            {"symbol": "NONE", "pegType": "peggedUSD", "circulating": "n/a"},
            {"symbol": "USDT", "pegType": "peggedUSD", "circulating": {"peggedUSD": 5.0}},
            {"pegType": "peggedUSD", "circulating": {"peggedUSD": 5.0}},
        ]
    }
    observations, rejections = parse_stablecoins(payload, now_ms=NOW)
    assert [(r.index, r.reason) for r in rejections] == [
        (2, "supply_negative"),
        (3, "supply_not_a_number"),
        (4, "duplicate_subject"),
        (5, "missing_symbol"),
    ]
    assert values(observations) == {
        ("stablecoin", "USDT", "supply"): 100.0,
        ("stablecoin", "all", "supply"): 105.0,
    }


@pytest.mark.parametrize(
    ("parse", "payload", "reason"),
    [
        (parse_chains, {"error": "x"}, "not_a_list"),
        (parse_protocols, None, "not_a_list"),
        (parse_dex_overview, [], "not_an_overview"),
        (parse_fees_overview, {"protocols": "x"}, "not_an_overview"),
        (parse_stablecoins, {"peggedAssets": None}, "not_a_stablecoin_list"),
    ],
)
def test_payload_of_the_wrong_shape_is_one_rejection(parse: Any, payload: Any, reason: str) -> None:
    observations, rejections = parse(payload, now_ms=NOW)
    assert observations == []
    assert [(r.index, r.reason) for r in rejections] == [(-1, reason)]


def test_history_and_protocol_of_the_wrong_shape_are_one_rejection() -> None:
    assert parse_tvl_history("x", subject="X")[1][0].reason == "not_a_list"
    assert parse_protocol([], slug="a", now_ms=NOW)[1][0].reason == "not_an_object"
    assert parse_protocol({"name": "a"}, slug="a", now_ms=NOW)[1][0].reason == "no_tvl"
