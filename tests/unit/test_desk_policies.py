"""The seven policies: the seed's defaults, validated by pydantic; a bad value changes nothing
and every invalid field is named at once."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from autotrader.core.errors import InvalidInputError
from autotrader.desk.models import POLICY_MODELS, AutoApprove, RiskControls, TradeLimits
from autotrader.desk.policies import load_policies, policy_values, set_policy
from autotrader.desk.vocabulary import PolicyKey, StepKind

SEED = {
    "trade_limits": {"max_daily_trades": 8, "max_open_positions": 3,
                     "max_position_size_usd": "60", "min_confidence": 0.6},
    "risk_controls": {"max_portfolio_risk": "0.05", "max_single_position_risk": "0.02",
                      "stop_loss_required": True, "default_stop_loss_pct": "-0.3"},
    "roundtable_policy": {"enabled": True, "max_daily_conversations": 8,
                          "require_for_large_trades": True, "large_trade_threshold_usd": "40"},
    "memory_influence_policy": {"enabled": True, "probability": 0.3, "min_confidence": 0.6,
                                "types_used": ["strategy", "lesson", "pattern"]},
    "relationship_drift_policy": {"enabled": True, "max_drift_per_conversation": 0.03,
                                  "min_affinity": 0.1, "max_affinity": 0.95},
    "initiative_policy": {"enabled": False, "min_memories_required": 5,
                          "max_proposals_per_day": 3, "cooldown_hours": 4.0},
}  # fmt: skip


def test_there_are_exactly_the_seven_policy_keys():
    assert [key.value for key in POLICY_MODELS] == [key.value for key in PolicyKey]
    assert len(PolicyKey) == 7


@pytest.mark.parametrize("key", sorted(SEED))
def test_every_policy_defaults_to_the_seed(key):
    dumped = POLICY_MODELS[PolicyKey(key)]().model_dump(mode="json")
    assert {k: dumped[k] for k in SEED[key]} == SEED[key]


def test_auto_approve_defaults_to_the_seed_plus_the_two_analyses_it_does_not_name():
    policy = AutoApprove()
    assert policy.enabled is True
    assert set(policy.requires_roundtable) == {"execute_trade", "close_position", "scale_position"}
    assert set(policy.allowed_step_kinds) == {
        "analyze_signal", "monitor_position", "calculate_risk", "review_performance",
        "check_health",
    }  # fmt: skip


def test_a_step_kind_cannot_both_pass_alone_and_need_a_roundtable():
    with pytest.raises(ValueError, match="execute_trade: listed both"):
        AutoApprove(
            allowed_step_kinds=(StepKind.EXECUTE_TRADE,),
            requires_roundtable=(StepKind.EXECUTE_TRADE,),
        )


def test_money_in_a_policy_refuses_floats_and_keeps_json_numbers_exact(store, clock):
    with pytest.raises(ValueError, match="not a float"):
        TradeLimits(max_position_size_usd=60.5)
    set_policy(store, clock, "trade_limits", '{"max_position_size_usd": 60.10}')
    assert load_policies(store).trade_limits.max_position_size_usd == Decimal("60.10")


def test_setting_a_policy_merges_the_fields_given(store, clock):
    set_policy(store, clock, "trade_limits", '{"max_daily_trades": 4}')
    stored = policy_values(store)["trade_limits"]
    assert stored["max_daily_trades"] == 4
    assert stored["max_open_positions"] == 3


def test_an_invalid_policy_names_every_bad_field_and_changes_nothing(store, clock):
    set_policy(store, clock, "risk_controls", '{"max_portfolio_risk": 0.04}')
    before = policy_values(store)
    bad = (
        '{"max_portfolio_risk": 2, "stop_loss_required": "yes", "default_stop_loss_pct": 0.3,'
        ' "bogus": 1}'
    )
    with pytest.raises(InvalidInputError) as caught:
        set_policy(store, clock, "risk_controls", bad)
    message = str(caught.value)
    assert message.startswith("invalid risk_controls: ")
    for field in ("max_portfolio_risk", "stop_loss_required", "default_stop_loss_pct", "bogus"):
        assert f"{field}: " in message
    assert "\n" not in message
    assert policy_values(store) == before


@pytest.mark.parametrize(
    ("key", "text", "problem"),
    [
        ("trade_limits", "{nope", "invalid JSON at line 1"),
        ("trade_limits", "[1, 2]", "give a JSON object"),
        ("yolo", "{}", "unknown policy 'yolo'"),
        ("risk_controls", '{"max_single_position_risk": 0.2}', "must not exceed"),
        ("relationship_drift_policy", '{"min_affinity": 0.9, "max_affinity": 0.5}', "below"),
    ],
)
def test_refuses_malformed_policy_input(store, clock, key, text, problem):
    with pytest.raises(InvalidInputError, match=problem):
        set_policy(store, clock, key, text)


def test_risk_fractions_are_decimal(store):
    controls = load_policies(store).risk_controls
    assert controls == RiskControls()
    assert isinstance(controls.max_portfolio_risk, Decimal)
    assert json.loads(json.dumps(policy_values(store)))["risk_controls"]["max_portfolio_risk"] == (
        "0.05"
    )
