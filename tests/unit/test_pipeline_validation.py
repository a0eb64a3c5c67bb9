"""Save-time validation: every problem at once, located, and never a crash (fuzzed)."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autotrader.clones.compiler import compile_pipeline
from autotrader.clones.engine_params import parse_engine_params
from autotrader.clones.graph import parse_pipeline
from autotrader.clones.validation import Problem, errors, raise_for_errors, validate_pipeline
from autotrader.core.errors import InvalidInputError
from autotrader.market.models import AssetInfo
from autotrader.market.sources.hyperliquid import (
    asset_infos_from_markets,
    packaged_markets_snapshot,
)
from autotrader.market.taxonomy import Taxonomy, categorize, load_taxonomy
from tests.conftest import examples

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "pipelines"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))
FUZZ = settings(
    max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@lru_cache(maxsize=1)
def registry() -> tuple[tuple[AssetInfo, ...], Taxonomy]:
    """The packaged markets (ADA, BTC, ETH, MEME, SOL perps; PURR/USDC spot), categorised."""
    taxonomy = load_taxonomy()
    markets = asset_infos_from_markets(packaged_markets_snapshot())
    return tuple(categorize(a, taxonomy) for a in markets), taxonomy


def check(data, **limits) -> list[Problem]:
    assets, taxonomy = registry()
    return validate_pipeline(data, assets=assets, taxonomy=taxonomy, **limits)


def codes(problems: list[Problem]) -> set[str]:
    return {p.code for p in problems}


def valid() -> dict:
    return json.loads((EXAMPLES / "btc-eth-rules.json").read_text())


def with_problem(code: str, problems: list[Problem]) -> Problem:
    found = [p for p in problems if p.code == code]
    assert found, f"no {code} in {[str(p) for p in problems]}"
    return found[0]


# -- the examples --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_every_example_validates_with_zero_errors(path: Path):
    assert errors(check(path.read_text())) == []


def test_funding_on_a_spot_asset_is_a_warning_that_does_not_block_saving():
    problems = check((EXAMPLES / "asset-overrides.json").read_text())
    warning = with_problem("unsupported_channel", problems)
    assert warning.severity == "warning"
    assert warning.node_id == "stream"
    assert warning.path == "nodes[0].sources.hyperliquid[2]"
    assert "funding:PURR/USDC" in warning.reason
    raise_for_errors(problems)  # warnings alone never refuse a save


# -- graph rules ---------------------------------------------------------------------------------


def test_every_problem_is_reported_at_once():
    data = valid()
    data["nodes"][2]["decisionCadenceSec"] = 5
    data["nodes"][1]["explicitlyEnabledSymbols"].append("XYZ")
    data["edges"].append({"from": "ghost", "to": "majors"})
    found = codes(errors(check(data)))
    assert {"out_of_range", "unknown_symbol", "unknown_node"} <= found


def test_schema_errors_carry_the_node_id_and_json_path():
    data = valid()
    data["nodes"][2]["decisionCadenceSec"] = "often"
    problem = with_problem("wrong_type", check(data))
    assert (problem.node_id, problem.path) == ("trend-rules", "nodes[2].decisionCadenceSec")


def test_only_forward_edges_between_adjacent_node_types_are_allowed():
    data = valid()
    data["edges"].append({"from": "market", "to": "trend-rules"})
    problem = with_problem("invalid_edge", check(data))
    assert (problem.node_id, problem.path) == ("market", "edges[2]")


def test_edges_naming_unknown_nodes_are_located_at_their_end():
    data = valid()
    data["edges"].append({"from": "majors", "to": "nowhere"})
    assert with_problem("unknown_node", check(data)).path == "edges[2].to"


def test_duplicate_node_ids_are_errors():
    data = valid()
    data["nodes"].append(copy.deepcopy(data["nodes"][1]))
    problem = with_problem("duplicate_node_id", check(data))
    assert (problem.node_id, problem.path) == ("majors", "nodes[3].id")


def test_cycles_are_errors():
    data = valid()
    data["edges"].append({"from": "trend-rules", "to": "market"})
    problem = with_problem("cycle", check(data))
    assert problem.severity == "error"
    assert "majors → trend-rules → market → majors" in problem.reason


def test_orphan_nodes_are_errors():
    data = valid()
    data["nodes"].append({"type": "asset_selection", "id": "spare"})
    problem = with_problem("orphan_node", check(data))
    assert (problem.node_id, problem.path) == ("spare", "nodes[3]")


def test_a_trading_prompt_must_be_reachable_from_a_data_stream():
    data = valid()
    data["edges"] = [{"from": "majors", "to": "trend-rules"}]
    found = check(data)
    assert with_problem("unreachable_prompt", found).node_id == "trend-rules"
    assert with_problem("orphan_node", found).node_id == "market"


def test_a_graph_needs_a_trading_prompt():
    data = valid()
    data["nodes"].pop()
    data["edges"].pop()
    assert "no_trading_prompt" in codes(check(data))


def test_unknown_categories_and_subcategories_are_located():
    data = valid()
    data["nodes"][1]["highLevelCategories"] = ["L1", "Dinosaurs"]
    data["nodes"][1]["subcategories"] = ["Cat theme", "Lizard theme"]
    found = check(data)
    assert with_problem("unknown_category", found).path == "nodes[1].highLevelCategories[1]"
    assert with_problem("unknown_subcategory", found).path == "nodes[1].subcategories[1]"


def test_unknown_symbols_in_data_stream_blocks_and_keys_are_located():
    data = valid()
    stream = data["nodes"][0]
    stream["sources"]["hyperliquid"].append({"channel": "ohlcv", "asset": "NOPE"})
    stream["assetProfiles"] = {"ZZZ": "fast", "category:Nowhere": "deep"}
    stream["assetOverrides"] = {"PURR/USDC": {"profile": "fast"}, "QQQ": {}}
    paths = {p.path for p in errors(check(data))}
    assert paths == {
        "nodes[0].sources.hyperliquid[3].asset",
        "nodes[0].assetProfiles.ZZZ",
        'nodes[0].assetProfiles["category:Nowhere"]',
        "nodes[0].assetOverrides.QQQ",
    }


def test_unknown_symbols_in_prompt_overrides_are_errors():
    data = valid()
    data["nodes"][2]["coverageMode"] = "asset_specific_only"
    data["nodes"][2]["assetOverrides"] = {"DOGE": {"prompt": "wow"}}
    assert with_problem("unknown_symbol", check(data)).path == "nodes[2].assetOverrides.DOGE"


def test_a_layout_that_is_not_an_object_is_an_error_but_its_content_only_warns():
    data = valid()
    data["layout"] = ["not", "an", "object"]
    assert with_problem("invalid_layout", check(data)).severity == "error"
    data["layout"] = {
        "nodes": {"market": {"x": "left"}},
        "strategyClone": {"connectedPromptNodeIds": ["majors"]},
    }
    problems = check(data)
    assert errors(problems) == []
    assert {"layout_invalid"} <= codes(problems)


def test_layout_prompt_links_to_unknown_prompts_warn():
    data = valid()
    data["layout"]["strategyClone"]["connectedPromptNodeIds"] = ["majors"]
    warning = with_problem("unknown_layout_node", check(data))
    assert warning.path == "layout.strategyClone.connectedPromptNodeIds[0]"


# -- entitlements --------------------------------------------------------------------------------


def test_active_asset_capacity_counts_the_union_over_enabled_prompts():
    data = valid()
    data["nodes"].append({"type": "trading_prompt", "id": "second", "engine": "hold"})
    data["edges"].append({"from": "majors", "to": "second"})
    assert errors(check(data, max_active_assets=2)) == []  # BTC and ETH, shared
    problem = with_problem("capacity_exceeded", check(data, max_active_assets=1))
    assert "2 active assets" in problem.reason
    assert "capacity is 1" in problem.reason


def test_disabled_prompts_use_no_capacity():
    data = valid()
    data["nodes"][2]["enabled"] = False
    assert errors(check(data, max_active_assets=0)) == []


def test_a_model_above_the_clones_strength_is_refused():
    problems = check(valid(), model_strength=3, max_model_strength=2)
    assert "strength 3" in with_problem("model_too_strong", problems).reason
    assert errors(check(valid(), model_strength=2, max_model_strength=2)) == []


def test_raise_for_errors_lists_every_error():
    data = valid()
    data["nodes"][2]["engine"] = "oracle"
    data["nodes"][1]["explicitlyEnabledSymbols"] = ["XYZ"]
    with pytest.raises(InvalidInputError, match="2 error") as caught:
        raise_for_errors(check(data))
    assert "nodes[2].engine" in str(caught.value)


# -- warnings ------------------------------------------------------------------------------------


def test_inactive_markets_in_a_selection_warn():
    assets, taxonomy = registry()
    stale = tuple(dataclasses.replace(a, active=False) if a.symbol == "ETH" else a for a in assets)
    problems = validate_pipeline(valid(), assets=stale, taxonomy=taxonomy)
    assert errors(problems) == []
    assert "ETH" in with_problem("inactive_asset", problems).reason


def test_overrides_the_coverage_mode_ignores_warn():
    data = valid()
    data["nodes"][2]["assetOverrides"] = {"BTC": {"prompt": "x"}}
    assert with_problem("override_ignored", check(data)).severity == "warning"


def test_asset_specific_only_without_overrides_warns():
    data = valid()
    data["nodes"][2]["coverageMode"] = "asset_specific_only"
    assert "no_coverage" in codes(check(data))


def test_an_unproduced_defillama_pair_warns():
    data = valid()
    data["nodes"][0]["sources"]["defillama"] = [
        {"channel": "dex", "scope": "chain", "subject": "Base"}
    ]
    assert with_problem("unsupported_scope", check(data)).path == "nodes[0].sources.defillama[0]"


# -- engine parameters: what validates is what runs ----------------------------------------------


def with_engine_params(params: dict, engine: str = "rules") -> dict:
    data = valid()
    prompt = _node(data, "trading_prompt")
    prompt["engine"], prompt["engineParams"] = engine, params
    return data


@pytest.mark.parametrize(
    ("params", "path", "code", "reason"),
    [
        ({"leverage": 1000}, "leverage", "out_of_range", "less than or equal to 100"),
        ({"leverage": True}, "leverage", "wrong_type", "valid integer"),
        ({"notional_usd": 1e309}, "notional_usd", "invalid_value", "positive decimal string"),
        ({"notional_usd": "0"}, "notional_usd", "invalid_value", "more than 0"),
        ({"policy": "martingale"}, "policy", "invalid_value", "unknown policy 'martingale'"),
        ({"policies": ["rsi_mr", "nope"]}, "policies[1]", "invalid_value", "unknown policy"),
        ({"policies": "rsi_mr"}, "policies", "wrong_type", "valid list"),
        ({"rsi_low": 80, "rsi_high": 70}, "", "invalid_value", "rsi_low < rsi_exit < rsi_high"),
        ({"stop_pct": -0.02}, "stop_pct", "out_of_range", "at least 0.005"),
        ({"target_pct": "lots"}, "target_pct", "wrong_type", "decimal"),
        ({"cooldown_minutes": 1e300}, "cooldown_minutes", "out_of_range", "at most 10080"),
        ({"granularity": "4h"}, "granularity", "invalid_value", "'1m', '5m' or '1h'"),
        ({"levrage": 3}, "levrage", "unknown_field", "not permitted"),
    ],
)
def test_rules_parameters_are_checked_by_the_engines_schema(params, path, code, reason):
    problems = check(with_engine_params(params))
    problem = with_problem(code, problems)
    assert problem.node_id == "trend-rules"
    assert problem.path == "nodes[2].engineParams" + (f".{path}" if path else "")
    assert reason in problem.reason


def test_every_bad_engine_parameter_is_reported_at_once():
    params = {"leverage": 1000, "policy": "martingale", "stop_pct": -1, "notional_usd": 1e309}
    found = {p.path for p in errors(check(with_engine_params(params)))}
    assert sorted(found) == [
        "nodes[2].engineParams.leverage",
        "nodes[2].engineParams.notional_usd",
        "nodes[2].engineParams.policy",
        "nodes[2].engineParams.stop_pct",
    ]


@pytest.mark.parametrize("engine", ["hold", "llm", "committee"])
def test_model_engines_read_only_the_bar_size(engine):
    assert errors(check(with_engine_params({"granularity": "5m"}, engine))) == []
    problem = with_problem("unknown_field", check(with_engine_params({"leverage": 2}, engine)))
    assert problem.path == "nodes[2].engineParams.leverage"


def test_the_parameters_that_validate_are_the_parameters_the_engine_runs_with():
    from autotrader.decisions.engines.rules import parse_rules_params

    params = {"policy": "rsi_mr", "leverage": 3, "stop_pct": 0.015, "notional_usd": 1000}
    data = with_engine_params(params)
    assert errors(check(data)) == []
    assets, taxonomy = registry()
    (strategy,) = compile_pipeline(
        data, clone_id=1, version=1, assets=assets, taxonomy=taxonomy
    ).strategies
    parsed, ignored = parse_rules_params(strategy.engine_params)
    assert (parsed.families, parsed.leverage, str(parsed.stop_pct)) == (
        ("rsi_mean_reversion",),
        3,
        "0.015",
    )
    assert ignored == ()


def test_a_defillama_open_interest_block_validates_for_a_perp_dex():
    data = valid()
    data["nodes"][0]["sources"]["defillama"] = [
        {"channel": "open_interest", "scope": "protocol", "subject": "hyperliquid-perps"}
    ]
    assert codes(check(data)) == codes(check(valid()))


# -- fuzzing -------------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)
KEYS = [
    "type",
    "id",
    "profile",
    "sources",
    "hyperliquid",
    "channel",
    "asset",
    "lookback",
    "granularity",
    "assetOverrides",
    "assetProfiles",
    "highLevelCategories",
    "explicitlyEnabledSymbols",
    "engine",
    "decisionCadenceSec",
    "candidatePolicy",
    "maxCandidates",
    "coverageMode",
    "profileDefinitions",
]
NODE_ISH = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["data_stream", "asset_selection", "trading_prompt", "x"]),
        "id": st.sampled_from(["a", "b", "c", ""]),
    },
    optional={key: JSON for key in KEYS[2:]},
)
DOCUMENT_ISH = st.fixed_dictionaries(
    {},
    optional={
        "version": st.sampled_from([1, 2, True, "1"]),
        "nodes": st.lists(NODE_ISH | JSON, max_size=5),
        "edges": st.lists(st.fixed_dictionaries({"from": JSON, "to": JSON}) | JSON, max_size=5),
        "layout": JSON,
    },
)


def never_crashes(problems: list[Problem]) -> None:
    assert isinstance(problems, list)
    assert "internal_error" not in codes(problems), [str(p) for p in problems]
    assert all(isinstance(p, Problem) for p in problems)


@FUZZ
@given(JSON | DOCUMENT_ISH)
def test_random_json_never_crashes_the_validator(data):
    never_crashes(check(data))


@FUZZ
@given(st.text(max_size=60) | st.binary(max_size=30))
def test_random_text_never_crashes_the_validator(text):
    never_crashes(check(text))


IDS = st.sampled_from(["ds", "ds2", "sel", "sel2", "tp", "tp2", "ghost"])
SYMBOLS = st.sampled_from(["BTC", "eth", "PURR/USDC", "SOL", "NOPE", "same"])
BLOCK = st.fixed_dictionaries(
    {"channel": st.sampled_from(["ohlcv", "indicators", "funding"])},
    optional={
        "asset": SYMBOLS,
        "lookback": st.integers(0, 6000),
        "granularity": st.sampled_from(["1m", "1h", "2h"]),
    },
)
NODES_BY_TYPE = {
    "data_stream": st.fixed_dictionaries(
        {
            "type": st.just("data_stream"),
            "id": IDS,
            "sources": st.fixed_dictionaries({"hyperliquid": st.lists(BLOCK, max_size=3)}),
        },
        optional={
            "profile": st.sampled_from(["fast", "balanced", "deep", "turbo"]),
            "assetProfiles": st.dictionaries(
                st.sampled_from(["BTC", "category:L1", "category:Meme", "category:Nope", "NOPE"]),
                st.sampled_from(["fast", "deep"]),
                max_size=2,
            ),
            "assetOverrides": st.dictionaries(
                SYMBOLS,
                st.fixed_dictionaries(
                    {},
                    optional={
                        "profile": st.just("fast"),
                        "sources": st.fixed_dictionaries(
                            {"hyperliquid": st.lists(BLOCK, max_size=2)}
                        ),
                    },
                ),
                max_size=2,
            ),
        },
    ),
    "asset_selection": st.fixed_dictionaries(
        {"type": st.just("asset_selection"), "id": IDS},
        optional={
            "highLevelCategories": st.lists(st.sampled_from(["L1", "meme", "Nope"]), max_size=2),
            "subcategories": st.lists(st.sampled_from(["PoS", "Cat theme", "Nope"]), max_size=2),
            "explicitlyEnabledSymbols": st.lists(SYMBOLS, max_size=3),
            "explicitlyDisabledSymbols": st.lists(SYMBOLS, max_size=2),
        },
    ),
    "trading_prompt": st.fixed_dictionaries(
        {"type": st.just("trading_prompt"), "id": IDS},
        optional={
            "enabled": st.booleans(),
            "decisionCadenceSec": st.integers(0, 100_000),
            "engine": st.sampled_from(["hold", "rules", "llm", "committee", "magic"]),
            "engineParams": st.fixed_dictionaries(
                {},
                optional={
                    "granularity": st.sampled_from(["1h", "5m", "4h"]),
                    "leverage": st.integers(-1, 200) | st.booleans(),
                    "policy": st.sampled_from(["rsi_mr", "trend_macd", "martingale"]),
                    "stop_pct": st.floats(allow_nan=True) | st.text(max_size=4),
                    "rsi_low": st.integers(0, 100),
                },
            ),
            "variant": st.sampled_from(["Apex", "Contrarian", "apex", "Nope"]),
            "coverageMode": st.sampled_from(
                ["global", "global_with_asset_overrides", "asset_specific_only"]
            ),
            "assetOverrides": st.dictionaries(
                SYMBOLS, st.fixed_dictionaries({"prompt": st.text(max_size=5)}), max_size=2
            ),
        },
    ),
}
NODE = st.one_of(*NODES_BY_TYPE.values())
GRAPH = st.fixed_dictionaries(
    {
        "version": st.just(1),
        "nodes": st.lists(NODE, max_size=6),
        "edges": st.lists(st.fixed_dictionaries({"from": IDS, "to": IDS}), max_size=7),
    }
)


@st.composite
def wired_graphs(draw: st.DrawFn) -> dict:
    """Graphs whose nodes are wired data_stream → asset_selection → trading_prompt (so many
    are valid), with random node content and, sometimes, one random extra edge."""
    layers = []
    for node_type, prefix in (
        ("data_stream", "ds"),
        ("asset_selection", "sel"),
        ("trading_prompt", "tp"),
    ):
        count = draw(st.integers(1, 2))
        content = NODES_BY_TYPE[node_type]
        layers.append([{**draw(content), "id": f"{prefix}{i}"} for i in range(count)])
    edges = []
    for upper, lower in ((layers[0], layers[1]), (layers[1], layers[2])):
        for i, node in enumerate(lower):  # every lower node gets a parent...
            edges.append({"from": upper[i % len(upper)]["id"], "to": node["id"]})
        for node in upper[len(lower) :]:  # ...and every upper node a child
            edges.append({"from": node["id"], "to": lower[0]["id"]})
    nodes = [node for layer in layers for node in layer]
    if draw(st.booleans()):
        ids = st.sampled_from([n["id"] for n in nodes])
        edges.append({"from": draw(ids), "to": draw(ids)})
    return {"version": 1, "nodes": nodes, "edges": edges}


@FUZZ
@given(GRAPH | wired_graphs(), st.integers(0, 6))
def test_random_graphs_never_crash_and_error_free_ones_compile(data, capacity):
    problems = check(data, max_active_assets=capacity)
    never_crashes(problems)
    assert all(p.node_id or p.path for p in errors(problems))
    if not errors(problems):
        assets, taxonomy = registry()
        compiled = compile_pipeline(data, clone_id=1, version=1, assets=assets, taxonomy=taxonomy)
        enabled = {u.symbol for s in compiled.strategies if s.enabled for u in s.universe}
        assert len(enabled) <= capacity
        assert parse_pipeline(data) is not None
        for strategy in compiled.strategies:  # what validated is what the engine will run
            assert parse_engine_params(strategy.engine, strategy.engine_params)[1] == ()


def _node(data: dict, node_type: str) -> dict:
    return next(n for n in data["nodes"] if isinstance(n, dict) and n.get("type") == node_type)


MUTATIONS: dict[str, Callable[[dict], None]] = {
    "drop the first edge": lambda d: d["edges"].pop(0),
    # By content, not position: "drop the last edge" after "add a backward edge" would just
    # undo the addition and leave a valid graph.
    "drop the selection-to-prompt edge": lambda d: d.__setitem__(
        "edges",
        [e for e in d["edges"] if (e.get("from"), e.get("to")) != ("majors", "trend-rules")],
    ),
    "add a backward edge": lambda d: d["edges"].append({"from": "trend-rules", "to": "market"}),
    "add a self loop": lambda d: d["edges"].append({"from": "majors", "to": "majors"}),
    "add an edge to nowhere": lambda d: d["edges"].append({"from": "majors", "to": "nowhere"}),
    "skip a level": lambda d: d["edges"].append({"from": "market", "to": "trend-rules"}),
    "remove the selection": lambda d: d["nodes"].remove(_node(d, "asset_selection")),
    "duplicate a node": lambda d: d["nodes"].append(copy.deepcopy(_node(d, "data_stream"))),
    "add an orphan": lambda d: d["nodes"].append({"type": "trading_prompt", "id": "lonely"}),
    "cadence as text": lambda d: _node(d, "trading_prompt").update(decisionCadenceSec="300"),
    "cadence too fast": lambda d: _node(d, "trading_prompt").update(decisionCadenceSec=1),
    "unknown engine": lambda d: _node(d, "trading_prompt").update(engine="oracle"),
    "too many candidates": lambda d: _node(d, "trading_prompt").update(
        candidatePolicy={"maxCandidates": 99}
    ),
    "unknown key": lambda d: _node(d, "asset_selection").update(colour="red"),
    "unknown symbol": lambda d: _node(d, "asset_selection").update(
        explicitlyEnabledSymbols=["XYZ"]
    ),
    "unknown category": lambda d: _node(d, "asset_selection").update(highLevelCategories=["Nope"]),
    "unknown block asset": lambda d: _node(d, "data_stream")["sources"]["hyperliquid"].append(
        {"channel": "ohlcv", "asset": "XYZ"}
    ),
    "unknown node type": lambda d: d["nodes"].append({"type": "trading_clone", "id": "clone"}),
    "missing id": lambda d: _node(d, "trading_prompt").pop("id"),
    "bad version": lambda d: d.update(version=2),
    "nodes not a list": lambda d: d.update(nodes={"a": 1}),
    "layout not an object": lambda d: d.update(layout="left"),
    "edge without to": lambda d: d["edges"][0].pop("to"),
}


@FUZZ
@given(st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=3, unique=True))
def test_every_mutated_invalid_graph_yields_a_located_error(names):
    data = valid()
    MUTATIONS[names[0]](data)
    for name in names[1:]:
        # An earlier mutation may have removed what this one edits.
        with contextlib.suppress(StopIteration, IndexError, KeyError, AttributeError, ValueError):
            MUTATIONS[name](data)
    problems = check(data)
    never_crashes(problems)
    found = errors(problems)
    assert found, f"{names} produced no error"
    assert all(p.node_id or p.path for p in found)
