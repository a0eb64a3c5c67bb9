"""The pipeline JSON format: parsing, strictness, layout split and canonical storage form."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from autotrader.clones.graph import (
    DataStreamNode,
    PipelineGraph,
    TradingPromptNode,
    canonical_json,
    dump_graph,
    json_path,
    parse_layout,
    parse_pipeline,
    split_layout,
)
from autotrader.clones.profiles import BUILTIN_PROFILES
from autotrader.core.errors import InvalidInputError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "pipelines"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))


def minimal(**prompt: object) -> dict:
    return {
        "version": 1,
        "nodes": [
            {"type": "data_stream", "id": "ds", "sources": {"hyperliquid": [{"channel": "ohlcv"}]}},
            {"type": "asset_selection", "id": "sel", "explicitlyEnabledSymbols": ["BTC"]},
            {"type": "trading_prompt", "id": "tp", **prompt},
        ],
        "edges": [{"from": "ds", "to": "sel"}, {"from": "sel", "to": "tp"}],
    }


def schema_error(data: dict) -> str:
    with pytest.raises(InvalidInputError) as caught:
        parse_pipeline(data)
    return str(caught.value)


def test_the_examples_folder_has_the_four_documented_files():
    names = {p.name for p in EXAMPLE_FILES}
    assert {
        "btc-eth-rules.json",
        "l1-basket-llm.json",
        "committee-macro.json",
        "asset-overrides.json",
    } <= names


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_every_example_parses_from_text(path: Path):
    graph = parse_pipeline(path.read_text(encoding="utf-8"))
    assert isinstance(graph, PipelineGraph)
    assert any(node.type == "trading_prompt" for node in graph.nodes)


def test_the_demo_example_is_btc_and_eth_with_rules_every_300_seconds():
    graph = parse_pipeline((EXAMPLES / "btc-eth-rules.json").read_text())
    prompt = next(n for n in graph.nodes if isinstance(n, TradingPromptNode))
    stream = next(n for n in graph.nodes if isinstance(n, DataStreamNode))
    assert (prompt.engine, prompt.decision_cadence_sec) == ("rules", 300)
    channels = {(b.channel, b.granularity) for b in stream.sources.hyperliquid}
    assert {("ohlcv", "1h"), ("funding", None)} <= channels
    assert "indicators" in {c for c, _ in channels}


def test_trading_prompt_defaults_are_the_safe_ones():
    prompt = parse_pipeline(minimal()).node("tp")
    assert isinstance(prompt, TradingPromptNode)
    assert prompt.engine == "hold"
    assert prompt.enabled is True
    assert prompt.decision_cadence_sec == 300
    assert (prompt.candidate_policy.max_candidates, prompt.candidate_policy.prefilter) == (
        10,
        "none",
    )
    assert prompt.coverage_mode == "global"


def test_schema_errors_name_their_json_path():
    message = schema_error(minimal(decisionCadenceSec=5))
    assert "nodes[2].decisionCadenceSec" in message


def test_a_string_is_not_accepted_as_a_number():
    assert "nodes[2].decisionCadenceSec" in schema_error(minimal(decisionCadenceSec="300"))


def test_a_boolean_is_not_accepted_as_the_version():
    data = minimal()
    data["version"] = True
    assert "version" in schema_error(data)


def test_unknown_keys_are_rejected_rather_than_ignored():
    assert "nodes[2].decisionCadence" in schema_error(minimal(decisionCadence=300))


def test_snake_case_keys_are_not_a_second_spelling():
    assert "decision_cadence_sec" in schema_error(minimal(decision_cadence_sec=300))


def test_candidate_cap_is_at_most_25():
    assert "maxCandidates" in schema_error(minimal(candidatePolicy={"maxCandidates": 26}))


def test_funding_blocks_take_no_granularity():
    data = minimal()
    data["nodes"][0]["sources"]["hyperliquid"] = [{"channel": "funding", "granularity": "1h"}]
    assert "nodes[0].sources.hyperliquid[0]" in schema_error(data)


def test_a_defillama_chain_scope_needs_a_subject():
    data = minimal()
    data["nodes"][0]["sources"]["defillama"] = [{"channel": "tvl", "scope": "chain"}]
    assert "subject" in schema_error(data)


def test_a_defillama_global_block_reads_subject_all():
    data = minimal()
    data["nodes"][0]["sources"]["defillama"] = [{"channel": "tvl", "scope": "global"}]
    stream = parse_pipeline(data).node("ds")
    assert isinstance(stream, DataStreamNode)
    assert stream.sources.defillama[0].context_subject == "all"


def test_legacy_compatibility_fields_are_accepted():
    prompt = parse_pipeline(minimal(maxAssetsPerRun=3, traderType="swing")).node("tp")
    assert isinstance(prompt, TradingPromptNode)
    assert prompt.max_assets_per_run == 3


def test_an_unknown_node_type_is_located_at_its_type():
    data = minimal()
    data["nodes"].append({"type": "trading_clone", "id": "clone"})
    assert "nodes[3].type" in schema_error(data)


def test_invalid_json_text_is_one_clear_error():
    with pytest.raises(InvalidInputError, match=r"^pipeline: invalid JSON at line 1"):
        parse_pipeline("{nope")


def test_split_layout_separates_canvas_metadata_from_the_graph():
    data = json.loads((EXAMPLES / "btc-eth-rules.json").read_text())
    graph, layout = split_layout(data)
    assert "layout" not in graph
    assert layout["strategyClone"]["connectedPromptNodeIds"] == ["trend-rules"]
    assert "layout" in data  # the caller's document is left alone


def test_split_layout_gives_an_empty_layout_when_there_is_none():
    assert split_layout(minimal())[1] == {}


def test_split_layout_refuses_a_layout_that_is_not_an_object():
    data = minimal()
    data["layout"] = [1, 2]
    with pytest.raises(InvalidInputError, match="layout"):
        split_layout(data)


def test_the_parsed_graph_ignores_the_layout():
    with_layout = minimal()
    with_layout["layout"] = {"strategyClone": {"connectedPromptNodeIds": ["tp"]}}
    assert parse_pipeline(with_layout) == parse_pipeline(minimal())


def test_layout_keeps_unknown_ui_keys_and_reads_the_clone_block():
    layout = parse_layout(
        {
            "zoom": 1.5,
            "strategyClone": {"position": {"x": 1, "y": 2.5}, "connectedPromptNodeIds": ["tp"]},
        }
    )
    assert layout.strategy_clone is not None
    assert layout.strategy_clone.connected_prompt_node_ids == ["tp"]
    assert json.loads(canonical_json(layout))["zoom"] == 1.5


def test_canonical_json_sorts_keys_and_drops_whitespace():
    text = canonical_json({"b": 1, "a": {"d": [1, 2], "c": "é"}})
    assert text == '{"a":{"c":"é","d":[1,2]},"b":1}'


def test_canonical_json_refuses_nan():
    with pytest.raises(ValueError, match="JSON"):
        canonical_json({"x": float("nan")})


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_canonical_form_round_trips_and_is_stable(path: Path):
    graph = parse_pipeline(path.read_text())
    text = canonical_json(graph)
    again = parse_pipeline(text)
    assert again == graph
    assert canonical_json(again) == text


def test_key_order_in_the_source_does_not_change_the_canonical_form():
    data = minimal(engine="rules", decisionCadenceSec=600)
    reordered = json.loads(json.dumps(data, sort_keys=True))
    reordered["nodes"] = [dict(reversed(list(n.items()))) for n in reordered["nodes"]]
    assert canonical_json(parse_pipeline(reordered)) == canonical_json(parse_pipeline(data))


def test_dump_graph_uses_camel_case_and_leaves_unset_options_out():
    dumped = dump_graph(parse_pipeline(minimal()))
    stream = dumped["nodes"][0]
    assert "profile" not in stream  # unset: the built-in default applies
    assert dumped["nodes"][2]["decisionCadenceSec"] == 300
    assert dumped["edges"][0] == {"from": "ds", "to": "sel"}


def test_json_paths_quote_keys_that_are_not_identifiers():
    assert json_path(["nodes", 2, "assetOverrides", "PURR/USDC", "prompt"]) == (
        'nodes[2].assetOverrides["PURR/USDC"].prompt'
    )
    assert json_path([]) == ""


def test_the_readme_profile_table_matches_the_built_in_profiles():
    text = (EXAMPLES / "README.md").read_text()
    for field in (
        "ohlcv_granularity",
        "ohlcv_lookback",
        "indicators_granularity",
        "indicators_lookback",
        "funding_lookback",
        "polymarket_limit",
        "defillama_lookback",
    ):
        camel = re.sub(r"_(\w)", lambda m: m.group(1).upper(), field)
        row = next(line for line in text.splitlines() if line.startswith(f"| `{camel}`"))
        cells = [c.strip() for c in row.strip("|").split("|")][1:]
        expected = [str(getattr(BUILTIN_PROFILES[p], field)) for p in ("fast", "balanced", "deep")]
        assert cells == expected, camel
