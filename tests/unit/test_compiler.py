"""Compiling strategy graphs: universes, read plans, override precedence, candidates."""

from __future__ import annotations

import copy
import dataclasses
import json
from functools import lru_cache
from pathlib import Path

import pytest

from autotrader.clones.compiler import compile_pipeline, compiled_to_dict, select_candidates
from autotrader.clones.graph import canonical_json, parse_pipeline
from autotrader.clones.plan import CompiledStrategy, ReadItem
from autotrader.clones.profiles import BUILTIN_PROFILES, DEFAULT_PROFILE
from autotrader.core.errors import InvalidInputError
from autotrader.market.models import AssetInfo
from autotrader.market.sources.hyperliquid import (
    asset_infos_from_markets,
    packaged_markets_snapshot,
)
from autotrader.market.taxonomy import Taxonomy, categorize, load_taxonomy

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "pipelines"


@lru_cache(maxsize=1)
def registry() -> tuple[tuple[AssetInfo, ...], Taxonomy]:
    """The packaged markets (ADA, BTC, ETH, MEME, SOL perps; PURR/USDC spot), categorised."""
    taxonomy = load_taxonomy()
    markets = asset_infos_from_markets(packaged_markets_snapshot())
    return tuple(categorize(a, taxonomy) for a in markets), taxonomy


def compile_doc(data: dict | str, *, assets: tuple[AssetInfo, ...] | None = None):
    known, taxonomy = registry()
    return compile_pipeline(data, clone_id=42, version=1, assets=assets or known, taxonomy=taxonomy)


def graph(stream: dict, *, symbols=("BTC",), prompt: dict | None = None, **selection) -> dict:
    selection = selection or {"explicitlyEnabledSymbols": list(symbols)}
    return {
        "version": 1,
        "nodes": [
            {"type": "data_stream", "id": "ds", **stream},
            {"type": "asset_selection", "id": "sel", **selection},
            {"type": "trading_prompt", "id": "tp", **(prompt or {})},
        ],
        "edges": [{"from": "ds", "to": "sel"}, {"from": "sel", "to": "tp"}],
    }


OHLCV = {"sources": {"hyperliquid": [{"channel": "ohlcv"}]}}


def only_strategy(data: dict) -> CompiledStrategy:
    (strategy,) = compile_doc(data).strategies
    return strategy


def reads(data: dict, symbol: str = "BTC") -> tuple[ReadItem, ...]:
    return only_strategy(data).read_plans[symbol]


# -- universe -------------------------------------------------------------------------------------


def test_the_demo_example_compiles_for_clone_42():
    compiled = compile_doc((EXAMPLES / "btc-eth-rules.json").read_text())
    assert (compiled.clone_id, compiled.version) == (42, 1)
    (strategy,) = compiled.strategies
    assert [(u.symbol, u.selected_by) for u in strategy.universe] == [
        ("BTC", "enabled"),
        ("ETH", "enabled"),
    ]
    assert (strategy.engine, strategy.cadence_s, strategy.enabled) == ("rules", 300, True)
    btc = {(r.channel, r.granularity) for r in strategy.read_plans["BTC"]}
    assert btc == {("ohlcv", "1h"), ("indicators", "1h"), ("funding", None)}
    assert strategy.skipped == ()
    assert strategy.engine_params["rsi_low"] == 30


def test_a_category_selection_minus_a_disabled_symbol_records_its_source():
    data = graph(OHLCV, highLevelCategories=["l1"], explicitlyDisabledSymbols=["ADA"])
    universe = only_strategy(data).universe
    assert [(u.symbol, u.selected_by) for u in universe] == [
        ("BTC", "category:L1"),
        ("ETH", "category:L1"),
        ("SOL", "category:L1"),
    ]


def test_the_universe_is_the_union_of_connected_selections():
    data = graph(OHLCV, symbols=("BTC",))
    data["nodes"].append({"type": "asset_selection", "id": "memes", "subcategories": ["Cat theme"]})
    data["edges"] += [{"from": "ds", "to": "memes"}, {"from": "memes", "to": "tp"}]
    universe = only_strategy(data).universe
    assert [(u.symbol, u.selected_by) for u in universe] == [
        ("BTC", "enabled"),
        ("PURR/USDC", "subcategory:Cat theme"),
    ]


def test_each_trading_prompt_is_its_own_strategy_sorted_by_id():
    data = graph(OHLCV)
    data["nodes"].append({"type": "trading_prompt", "id": "a-second", "engine": "llm"})
    data["edges"].append({"from": "sel", "to": "a-second"})
    compiled = compile_doc(data)
    assert [s.strategy_id for s in compiled.strategies] == ["a-second", "tp"]
    assert compiled.strategy("a-second").engine == "llm"
    assert compiled.strategy("missing") is None


def test_reads_come_only_from_streams_upstream_of_the_selection_that_picked_the_symbol():
    data = graph(OHLCV, symbols=("BTC",))
    data["nodes"] += [
        {
            "type": "data_stream",
            "id": "funding",
            "sources": {"hyperliquid": [{"channel": "funding"}]},
        },
        {"type": "asset_selection", "id": "eth", "explicitlyEnabledSymbols": ["ETH"]},
    ]
    data["edges"] += [{"from": "funding", "to": "eth"}, {"from": "eth", "to": "tp"}]
    plans = only_strategy(data).read_plans
    assert [r.channel for r in plans["BTC"]] == ["ohlcv"]
    assert [r.channel for r in plans["ETH"]] == ["funding"]


def test_unknown_names_raise_a_clear_error():
    with pytest.raises(InvalidInputError, match="unknown symbols: DOGE"):
        compile_doc(graph(OHLCV, symbols=("DOGE",)))


# -- precedence: one test per level ---------------------------------------------------------------


def test_built_in_level_applies_when_the_stream_names_no_profile():
    (read,) = reads(graph(OHLCV))
    default = BUILTIN_PROFILES[DEFAULT_PROFILE]
    assert (read.profile, read.origin) == (DEFAULT_PROFILE, "built-in")
    assert (read.lookback, read.granularity) == (default.ohlcv_lookback, default.ohlcv_granularity)


def test_data_stream_level_default_profile_beats_the_built_in_default():
    (read,) = reads(graph({**OHLCV, "profile": "deep"}))
    deep = BUILTIN_PROFILES["deep"]
    assert (read.profile, read.origin) == ("deep", "data-stream")
    assert (read.lookback, read.granularity) == (deep.ohlcv_lookback, deep.ohlcv_granularity)


def test_profile_definitions_edit_a_built_in_profile_for_this_stream():
    stream = {**OHLCV, "profileDefinitions": {"balanced": {"ohlcvLookback": 7}}}
    (read,) = reads(graph(stream))
    assert read.lookback == 7
    assert read.granularity == BUILTIN_PROFILES["balanced"].ohlcv_granularity
    assert read.origin == "data-stream"  # an edited definition is the stream's doing


def test_group_profile_assignment_beats_the_stream_default():
    stream = {**OHLCV, "profile": "deep", "assetProfiles": {"category:L1": "fast"}}
    (read,) = reads(graph(stream))
    assert (read.profile, read.origin) == ("fast", "asset-profile")
    assert read.lookback == BUILTIN_PROFILES["fast"].ohlcv_lookback


def test_asset_profile_assignment_beats_the_group_assignment():
    profiles = {"category:L1": "fast", "BTC": "deep"}
    (read,) = reads(graph({**OHLCV, "profile": "balanced", "assetProfiles": profiles}))
    assert (read.profile, read.origin) == ("deep", "asset-profile")


def test_per_asset_profile_beats_the_asset_profile_assignment():
    stream = {
        **OHLCV,
        "assetProfiles": {"BTC": "deep"},
        "assetOverrides": {"BTC": {"profile": "fast"}},
    }
    (read,) = reads(graph(stream))
    assert (read.profile, read.origin) == ("fast", "per-asset")


def test_per_asset_blocks_replace_the_node_blocks_for_that_asset_only():
    stream = {
        "sources": {"hyperliquid": [{"channel": "ohlcv"}, {"channel": "indicators"}]},
        "assetOverrides": {"ETH": {"sources": {"hyperliquid": [{"channel": "funding"}]}}},
    }
    plans = only_strategy(graph(stream, symbols=("BTC", "ETH"))).read_plans
    assert [r.channel for r in plans["BTC"]] == ["ohlcv", "indicators"]
    assert [(r.channel, r.origin) for r in plans["ETH"]] == [("funding", "built-in")]


def test_per_asset_block_fields_are_per_asset_level():
    stream = {
        **OHLCV,
        "assetOverrides": {
            "BTC": {"sources": {"hyperliquid": [{"channel": "ohlcv", "lookback": 5}]}}
        },
    }
    (read,) = reads(graph(stream))
    assert (read.lookback, read.origin) == (5, "per-asset")


def test_explicit_block_fields_win_over_the_profile_defaults():
    block = {"channel": "ohlcv", "lookback": 12, "granularity": "5m"}
    stream = {
        "profile": "deep",
        "sources": {"hyperliquid": [block]},
        "assetProfiles": {"BTC": "fast"},
    }
    (read,) = reads(graph(stream))
    assert (read.lookback, read.granularity) == (12, "5m")
    assert read.origin == "data-stream"  # nothing came from the assigned profile


def test_a_partly_explicit_block_takes_the_rest_from_the_profile():
    stream = {"sources": {"hyperliquid": [{"channel": "ohlcv", "lookback": 12}]}, "profile": "fast"}
    (read,) = reads(graph(stream))
    assert (read.lookback, read.granularity) == (12, BUILTIN_PROFILES["fast"].ohlcv_granularity)


def test_polymarket_and_defillama_blocks_take_their_depth_from_the_profile():
    stream = {
        "profile": "deep",
        "sources": {
            "polymarket": [{"scope": "topic", "target": "Fed rates"}],
            "defillama": [{"channel": "flows", "scope": "chain", "subject": "Ethereum"}],
        },
    }
    market, macro = reads(graph(stream))
    assert (market.source, market.channel, market.scope, market.context_symbol) == (
        "polymarket",
        "markets",
        "topic",
        "Fed rates",
    )
    assert market.lookback == BUILTIN_PROFILES["deep"].polymarket_limit
    assert (macro.source, macro.scope, macro.context_symbol) == ("defillama", "chain", "Ethereum")
    assert macro.lookback == BUILTIN_PROFILES["deep"].defillama_lookback
    assert market.granularity is None
    assert macro.granularity is None


# -- cross-asset reads and unsupported channels ---------------------------------------------------


def test_a_named_asset_is_a_cross_asset_read():
    stream = {
        "sources": {"hyperliquid": [{"channel": "ohlcv"}, {"channel": "ohlcv", "asset": "eth"}]}
    }
    plan = reads(graph(stream))
    assert [(r.symbol, r.context_symbol) for r in plan] == [("BTC", "BTC"), ("BTC", "ETH")]


def test_same_asset_reads_the_decided_symbol():
    stream = {"sources": {"hyperliquid": [{"channel": "indicators", "asset": "same"}]}}
    plans = only_strategy(graph(stream, symbols=("BTC", "SOL"))).read_plans
    assert [(r.symbol, r.context_symbol) for rs in plans.values() for r in rs] == [
        ("BTC", "BTC"),
        ("SOL", "SOL"),
    ]


def test_funding_of_a_spot_asset_is_skipped_and_listed():
    stream = {"sources": {"hyperliquid": [{"channel": "ohlcv"}, {"channel": "funding"}]}}
    strategy = only_strategy(graph(stream, symbols=("BTC", "PURR/USDC")))
    assert [r.channel for r in strategy.read_plans["PURR/USDC"]] == ["ohlcv"]
    assert [r.channel for r in strategy.read_plans["BTC"]] == ["ohlcv", "funding"]
    assert strategy.skipped == ("funding:PURR/USDC",)


def test_cross_asset_funding_of_a_spot_asset_is_skipped_too():
    stream = {"sources": {"hyperliquid": [{"channel": "funding", "asset": "PURR/USDC"}]}}
    strategy = only_strategy(graph(stream))
    assert strategy.read_plans["BTC"] == ()
    assert strategy.skipped == ("funding:PURR/USDC",)


def test_a_perp_without_the_funding_channel_in_the_registry_is_skipped():
    known, _ = registry()
    assets = tuple(
        dataclasses.replace(a, channels=("ohlcv",)) if a.symbol == "BTC" else a for a in known
    )
    data = graph({"sources": {"hyperliquid": [{"channel": "funding"}]}})
    (strategy,) = compile_doc(data, assets=assets).strategies
    assert strategy.skipped == ("funding:BTC",)


# -- ordering and merging -------------------------------------------------------------------------


def test_read_plans_follow_the_stable_order():
    stream = {
        "sources": {
            "defillama": [{"channel": "tvl", "scope": "global"}],
            "polymarket": [{"scope": "event", "target": "us-election"}],
            "hyperliquid": [
                {"channel": "funding"},
                {"channel": "ohlcv", "granularity": "1h"},
                {"channel": "ohlcv", "asset": "ETH"},
                {"channel": "ohlcv", "granularity": "1m"},
                {"channel": "indicators"},
            ],
        }
    }
    plan = reads(graph(stream))
    assert [(r.source, r.channel, r.context_symbol, r.granularity) for r in plan] == [
        ("hyperliquid", "ohlcv", "BTC", "1m"),
        ("hyperliquid", "ohlcv", "BTC", "1h"),
        ("hyperliquid", "ohlcv", "ETH", "1h"),
        ("hyperliquid", "indicators", "BTC", "1m"),
        ("hyperliquid", "funding", "BTC", None),
        ("polymarket", "markets", "us-election", None),
        ("defillama", "tvl", "all", None),
    ]


def test_two_streams_asking_for_the_same_read_are_merged_to_the_longer_lookback():
    data = graph(
        {
            "sources": {
                "hyperliquid": [{"channel": "ohlcv", "lookback": 10, "includeInPrompt": False}]
            }
        }
    )
    data["nodes"].append(
        {
            "type": "data_stream",
            "id": "ds2",
            "sources": {
                "hyperliquid": [{"channel": "ohlcv", "lookback": 30, "includeInPrompt": False}]
            },
        }
    )
    data["nodes"].append(
        {
            "type": "data_stream",
            "id": "ds3",
            "sources": {"hyperliquid": [{"channel": "ohlcv", "lookback": 5}]},
        }
    )
    data["edges"] += [{"from": "ds2", "to": "sel"}, {"from": "ds3", "to": "sel"}]
    (read,) = reads(data)
    assert (read.lookback, read.node_id, read.include_in_prompt) == (30, "ds2", True)


# -- coverage modes -------------------------------------------------------------------------------

PROMPTS = {"BTC": {"prompt": "btc only"}}


def test_global_coverage_gives_every_asset_the_global_prompt():
    prompt = {"customBehaviorPrompt": "global", "coverageMode": "global", "assetOverrides": PROMPTS}
    strategy = only_strategy(graph(OHLCV, symbols=("BTC", "ETH"), prompt=prompt))
    assert (strategy.prompt_for("BTC"), strategy.prompt_for("ETH")) == ("global", "global")


def test_global_with_overrides_prefers_the_asset_prompt():
    prompt = {"customBehaviorPrompt": "global", "coverageMode": "global_with_asset_overrides",
              "assetOverrides": PROMPTS}  # fmt: skip
    strategy = only_strategy(graph(OHLCV, symbols=("BTC", "ETH"), prompt=prompt))
    assert (strategy.prompt_for("BTC"), strategy.prompt_for("ETH")) == ("btc only", "global")


def test_asset_specific_only_covers_only_assets_with_their_own_prompt():
    prompt = {"customBehaviorPrompt": "global", "coverageMode": "asset_specific_only",
              "assetOverrides": {"btc": {"prompt": "btc only"}}}  # fmt: skip
    strategy = only_strategy(graph(OHLCV, symbols=("BTC", "ETH"), prompt=prompt))
    assert (strategy.prompt_for("BTC"), strategy.prompt_for("ETH")) == ("btc only", None)
    assert strategy.asset_prompts == {"BTC": "btc only"}


# -- determinism ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["btc-eth-rules", "l1-basket-llm", "committee-macro", "asset-overrides"]
)
def test_compiling_twice_gives_equal_plans(name: str):
    text = (EXAMPLES / f"{name}.json").read_text()
    first, second = compile_doc(text), compile_doc(text)
    assert first == second
    assert json.dumps(compiled_to_dict(first)) == json.dumps(compiled_to_dict(second))


def test_node_and_edge_order_in_the_document_do_not_change_the_plan():
    data = json.loads((EXAMPLES / "committee-macro.json").read_text())
    shuffled = copy.deepcopy(data)
    shuffled["nodes"].reverse()
    shuffled["edges"].reverse()
    assert compile_doc(shuffled) == compile_doc(data)


def test_the_canonical_form_compiles_to_the_same_plan():
    text = (EXAMPLES / "asset-overrides.json").read_text()
    assert compile_doc(canonical_json(parse_pipeline(text))) == compile_doc(text)


# -- candidates -----------------------------------------------------------------------------------


def strategy_of(symbols, *, prefilter="none", cap=10, **prompt) -> CompiledStrategy:
    policy = {"maxCandidates": cap, "prefilter": prefilter}
    return only_strategy(
        graph(OHLCV, symbols=symbols, prompt={"candidatePolicy": policy, **prompt})
    )


ALL = ("ADA", "BTC", "ETH", "MEME", "SOL")


def test_candidates_put_open_positions_first_then_the_universe():
    strategy = strategy_of(ALL)
    assert select_candidates(strategy, open_position_symbols=["SOL"], metrics={}) == [
        "SOL",
        "ADA",
        "BTC",
        "ETH",
        "MEME",
    ]


def test_candidates_are_capped_by_the_policy_and_by_the_caller():
    strategy = strategy_of(ALL, cap=2)
    assert select_candidates(strategy, open_position_symbols=[], metrics={}) == ["ADA", "BTC"]
    assert select_candidates(strategy, open_position_symbols=[], metrics={}, max_candidates=1) == [
        "ADA"
    ]
    assert (
        len(select_candidates(strategy, open_position_symbols=[], metrics={}, max_candidates=99))
        == 5
    )


def test_a_prefilter_ranks_by_the_metric_with_ties_broken_by_symbol():
    strategy = strategy_of(ALL, prefilter="volatility", cap=4)
    metrics = {"ADA": 0.01, "BTC": 0.03, "ETH": 0.05, "MEME": 0.03, "SOL": float("nan")}
    chosen = select_candidates(strategy, open_position_symbols=["ADA"], metrics=metrics)
    assert chosen == ["ADA", "ETH", "BTC", "MEME"]


def test_assets_without_a_metric_rank_last_in_universe_order():
    strategy = strategy_of(ALL, prefilter="volume")
    chosen = select_candidates(strategy, open_position_symbols=[], metrics={"SOL": 5.0})
    assert chosen == ["SOL", "ADA", "BTC", "ETH", "MEME"]


def test_open_positions_outside_the_universe_are_not_candidates():
    strategy = strategy_of(("BTC",))
    assert select_candidates(strategy, open_position_symbols=["ETH"], metrics={}) == ["BTC"]


def test_uncovered_assets_and_disabled_strategies_have_no_candidates():
    covered = strategy_of(("BTC", "ETH"), coverageMode="asset_specific_only",
                          assetOverrides={"ETH": {"prompt": "eth"}})  # fmt: skip
    assert select_candidates(covered, open_position_symbols=["BTC"], metrics={}) == ["ETH"]
    disabled = strategy_of(("BTC",), enabled=False)
    assert select_candidates(disabled, open_position_symbols=["BTC"], metrics={}) == []
