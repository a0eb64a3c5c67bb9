"""The built-in strategy variants: presets every engine can run, and how a trading prompt's own
settings merge over them at compile time."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from autotrader.clones.compiler import compile_pipeline
from autotrader.clones.engine_params import parse_engine_params
from autotrader.clones.validation import validate_pipeline
from autotrader.clones.variants import (
    OWNER_HEADING,
    PRESETS,
    merged_params,
    parse_variant,
)
from autotrader.clones.vocabulary import Variant
from autotrader.core.errors import InvalidInputError
from autotrader.decisions.engines.rules import parse_rules_params
from autotrader.market.sources.hyperliquid import (
    asset_infos_from_markets,
    packaged_markets_snapshot,
)
from autotrader.market.taxonomy import categorize, load_taxonomy

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pipelines" / "btc-eth-rules.json"
PROMPT_NODE = 2  # the trading prompt's index in the example


def registry():
    taxonomy = load_taxonomy()
    markets = asset_infos_from_markets(packaged_markets_snapshot())
    return [categorize(a, taxonomy) for a in markets], taxonomy


def example(**prompt_changes) -> dict:
    graph = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    prompt = graph["nodes"][PROMPT_NODE]
    for key, value in prompt_changes.items():
        if value is None:
            prompt.pop(key, None)
        else:
            prompt[key] = value
    return graph


def strategy(graph: dict, *, clone_variant: Variant | None = None):
    assets, taxonomy = registry()
    compiled = compile_pipeline(
        graph, clone_id=1, version=1, assets=assets, taxonomy=taxonomy, variant=clone_variant
    )
    (only,) = compiled.strategies
    return only


# -- the presets --------------------------------------------------------------------------------


def test_every_variant_has_a_preset():
    assert set(PRESETS) == set(Variant)


@pytest.mark.parametrize("variant", list(Variant))
def test_every_presets_defaults_are_valid_rules_parameters_with_nothing_ignored(variant):
    params, ignored = parse_rules_params(PRESETS[variant].default_engine_params())

    assert ignored == ()
    assert params.stop_pct == PRESETS[variant].exits.stop_pct
    assert params.target_pct == PRESETS[variant].exits.target_pct
    assert params.time_exit_hours == PRESETS[variant].exits.time_exit_hours
    assert params.cooldown_minutes == PRESETS[variant].exits.cooldown_minutes


@pytest.mark.parametrize("variant", list(Variant))
def test_the_behaviour_prompt_states_the_same_size_and_exits_the_rules_engine_uses(variant):
    preset = PRESETS[variant]
    prompt = preset.behavior_prompt()

    assert prompt.startswith(f"Strategy variant: {variant.value}, {preset.title}.")
    assert f"about {preset.notional_usd} USD" in prompt
    assert f"at {preset.leverage}x leverage" in prompt
    for fraction in (preset.exits.stop_pct, preset.exits.target_pct, preset.exits.invalidation_pct):
        assert f"{(fraction * 100).normalize():f} %" in prompt


def test_the_personas_differ_in_what_they_trade_and_how_they_size():
    policies = {v: tuple(PRESETS[v].engine_params["policies"]) for v in Variant}
    notional = {v: Decimal(PRESETS[v].notional_usd) for v in Variant}

    assert len(set(policies.values())) >= 3
    assert notional[Variant.APEX] == max(notional.values())
    assert notional[Variant.SOVEREIGN] == min(notional.values())
    assert PRESETS[Variant.SOVEREIGN].engine_params["allow_short"] is False


def test_variant_names_parse_in_any_letter_case():
    assert parse_variant(" apex ") is Variant.APEX
    assert parse_variant("TRENDSURFER") is Variant.TRENDSURFER


def test_an_unknown_variant_name_is_refused_listing_the_known_ones():
    with pytest.raises(InvalidInputError, match=r"unknown variant 'Yolo'.*Apex, Trendsurfer"):
        parse_variant("Yolo")


# -- merging into a trading prompt ----------------------------------------------------------------


def test_a_prompt_naming_a_variant_runs_its_persona_and_defaults():
    compiled = strategy(example(variant="Contrarian", engineParams={}, customBehaviorPrompt=""))

    assert compiled.variant == "Contrarian"
    assert compiled.engine_params == PRESETS[Variant.CONTRARIAN].default_engine_params()
    assert compiled.behavior_prompt == PRESETS[Variant.CONTRARIAN].behavior_prompt()


def test_the_prompts_own_engine_params_win_over_the_variants():
    own = {"leverage": 1, "policy": "bollinger_breakout", "granularity": "1h"}

    params = strategy(example(variant="Apex", engineParams=own)).engine_params

    assert params["leverage"] == 1
    assert params["policy"] == "bollinger_breakout"
    assert "policies" not in params  # one setting: the prompt's choice replaces the variant's
    assert params["stop_pct"] == 0.015  # the rest still comes from the variant
    assert parse_rules_params(params)[0].families == ("bollinger_breakout",)


@pytest.mark.parametrize("engine", ["llm", "committee", "hold"])
def test_a_model_engine_naming_a_variant_gets_only_the_parameters_it_reads(engine):
    # The persona carries a model engine's sizing and exits in words; the rules defaults
    # would be keys its engine ignores, so what validated would not be what runs.
    compiled = strategy(example(variant="Apex", engine=engine, engineParams={}))

    assert compiled.engine_params == {}
    assert parse_engine_params(engine, compiled.engine_params)[1] == ()
    assert "2000 USD" in compiled.behavior_prompt


def test_merging_never_changes_a_prompt_without_a_variant():
    own = {"policies": ["trend_macd"], "leverage": 2}
    assert merged_params(None, own, "rules") == own
    compiled = strategy(example())
    assert compiled.variant is None
    assert compiled.behavior_prompt == example()["nodes"][PROMPT_NODE]["customBehaviorPrompt"]


def test_the_owners_prompt_follows_the_persona_whole_and_marked_as_taking_precedence():
    own = "Never hold over the weekend."

    prompt = strategy(example(variant="Sovereign", customBehaviorPrompt=own)).behavior_prompt

    persona = PRESETS[Variant.SOVEREIGN].behavior_prompt()
    assert prompt == f"{persona}\n\n{OWNER_HEADING}\n{own}"


def test_per_asset_prompts_carry_the_persona_too():
    graph = example(
        variant="Trendsurfer",
        coverageMode="global_with_asset_overrides",
        assetOverrides={"ETH": {"prompt": "Only trade ETH in US hours."}},
    )

    compiled = strategy(graph)

    eth = compiled.prompt_for("ETH")
    assert eth.startswith("Strategy variant: Trendsurfer")
    assert eth.endswith("Only trade ETH in US hours.")
    assert compiled.prompt_for("BTC").startswith("Strategy variant: Trendsurfer")


def test_the_clones_variant_applies_to_prompts_that_name_none():
    compiled = strategy(example(), clone_variant=Variant.APEX)

    assert compiled.variant == "Apex"
    assert compiled.engine_params["notional_usd"] == "1000"  # the example's own value wins
    assert compiled.engine_params["allow_short"] is True  # the variant's default


def test_a_prompts_own_variant_wins_over_the_clones():
    compiled = strategy(example(variant="Contrarian"), clone_variant=Variant.APEX)
    assert compiled.variant == "Contrarian"


# -- validation -----------------------------------------------------------------------------------


def test_an_unknown_variant_is_a_located_save_error():
    assets, taxonomy = registry()

    problems = validate_pipeline(example(variant="apex"), assets=assets, taxonomy=taxonomy)

    [problem] = [p for p in problems if p.severity == "error"]
    assert (problem.node_id, problem.path, problem.code) == (
        "trend-rules",
        f"nodes[{PROMPT_NODE}].variant",
        "invalid_value",
    )
    assert "'Apex'" in problem.reason
    assert "'Sovereign'" in problem.reason
