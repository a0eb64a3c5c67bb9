import json
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from autotrader.core.errors import InvalidInputError
from autotrader.prop.models import (
    AccountRules,
    Action,
    ExitPlan,
    MarginMode,
    Side,
    TradeIntent,
    parse_intent,
)
from tests.conftest import examples


def _open(**fields):
    return {"action": "OPEN", "symbol": "BTC", "side": "LONG", "qty": "0.01", **fields}


def test_parses_an_open_intent_into_decimals_and_enums():
    intent = parse_intent(_open(leverage=3, exit_plan={"stop": "55000", "target": "70000"}))
    assert intent.action is Action.OPEN
    assert intent.side is Side.LONG
    assert intent.qty_decimal == D("0.01")
    assert intent.notional_decimal is None
    assert intent.leverage == 3
    assert intent.exit_plan is not None
    assert intent.exit_plan.stop_decimal == D(55000)
    assert intent.exit_plan.target_decimal == D(70000)


def test_parses_json_text_too():
    intent = parse_intent(json.dumps({"action": "HOLD", "symbol": "ETH"}))
    assert intent.action is Action.HOLD
    assert intent.leverage == 1


def test_normalises_symbol_action_and_side_case_and_spaces():
    intent = parse_intent({"action": " open ", "symbol": " btc ", "side": "long", "qty": " 1 "})
    assert (intent.action, intent.symbol, intent.side, intent.qty) == (
        Action.OPEN,
        "BTC",
        Side.LONG,
        "1",
    )


def test_side_has_a_sign_and_an_opposite():
    assert (Side.LONG.sign, Side.SHORT.sign) == (1, -1)
    assert Side.LONG.opposite is Side.SHORT


def test_exit_plan_times_are_normalised_to_utc_and_exposed_as_epoch_ms():
    plan = ExitPlan(time_exit="2025-01-31T14:00:00+02:00", cooldown_until="2025-01-31T13:00:00")
    assert plan.time_exit == "2025-01-31T12:00:00Z"
    assert plan.cooldown_until == "2025-01-31T13:00:00Z"  # naive is taken as UTC
    assert plan.time_exit_ms == 1_738_324_800_000
    assert plan.cooldown_until_ms == 1_738_328_400_000


def test_validation_errors_are_pydantic_validation_errors():
    with pytest.raises(ValidationError):
        TradeIntent.model_validate(_open(qty="-1"))


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"action": "OPEN", "symbol": "BTC", "qty": "1"}, "side is required for OPEN"),
        (_open(notional_usd="100"), "exactly one of qty or notional_usd"),
        ({"action": "OPEN", "symbol": "BTC", "side": "LONG"}, "exactly one of qty or"),
        (_open(qty="0"), "qty: must be greater than 0"),
        (_open(qty="1e3"), 'qty: must be a plain decimal string such as "0.5"'),
        (_open(qty="-1"), "qty: must be a plain decimal string"),
        (_open(qty="1000000000001"), "qty: must be at most"),
        (_open(qty=0.5), "qty: give a decimal string"),
        (_open(qty="٣"), "qty: must be a plain decimal string"),  # non-ASCII digit
        (_open(leverage=0), "leverage: Input should be greater than or equal to 1"),
        (_open(leverage=101), "leverage: Input should be less than or equal to 100"),
        (_open(leverage=True), "leverage: must be a whole number"),
        (_open(confidence=1.5), "confidence: Input should be less than or equal to 1"),
        (_open(confidence=float("nan")), "confidence: Input should be a finite number"),
        (_open(hypothesis="x" * 121), "hypothesis: String should have at most 120"),
        (_open(policy_id="p" * 65), "policy_id: String should have at most 64"),
        (_open(symbol="BTC USD"), "symbol: must be 1 to 32 characters"),
        (_open(symbol="B" * 33), "symbol: must be 1 to 32 characters"),
        (_open(surprise=1), "surprise: Extra inputs are not permitted"),
        (_open(exit_plan={"stop": "1", "trail": "2"}), "exit_plan.trail: Extra inputs"),
        (_open(exit_plan={"stop": "0"}), "exit_plan.stop: must be greater than 0"),
        (_open(exit_plan={"time_exit": "soon"}), "exit_plan.time_exit: must be an ISO-8601"),
        (_open(exit_plan={"time_exit": "1990-01-01T00:00:00Z"}), "between 2000 and 2100"),
        (_open(exit_plan={"invalidation": "y" * 201}), "at most 200 characters"),
        (_open(action="CLOSE", side=None, notional_usd="5", qty=None), "CLOSE takes qty"),
        (_open(action="CLOSE", exit_plan={"stop": "1"}), "CLOSE takes no exit_plan"),
        ({"action": "UPDATE_EXIT_PLAN", "symbol": "BTC"}, "UPDATE_EXIT_PLAN needs exit_plan"),
        (_open(action="UPDATE_EXIT_PLAN", exit_plan={}), "takes no qty or notional_usd"),
        ({"action": "HOLD", "symbol": "BTC", "qty": "1"}, "HOLD takes no qty"),
        ({"action": "SELL", "symbol": "BTC"}, "action: Input should be 'OPEN'"),
    ],
)
def test_rejects_a_malformed_intent_with_one_line_naming_the_field(payload, fragment):
    with pytest.raises(InvalidInputError) as caught:
        parse_intent(payload)
    message = str(caught.value)
    assert message.startswith("invalid intent: ")
    assert fragment in message
    assert "\n" not in message


def test_lists_every_problem_at_once():
    with pytest.raises(InvalidInputError) as caught:
        parse_intent({"action": "OPEN", "symbol": "", "qty": "x", "extra": 1})
    message = str(caught.value)
    for field in ("symbol:", "qty:", "extra:"):
        assert field in message


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "expected a JSON object, got an array"),
        ('"OPEN"', "got a string"),
        ("null", "got null"),
        (42, "got int"),
        ("x" * 100_001, "longer than"),
        ("[" * 49_000 + "]" * 49_000, "not JSON"),  # deeper than the parser's recursion
    ],
)
def test_rejects_payloads_that_are_not_an_object(payload, fragment):
    with pytest.raises(InvalidInputError, match=fragment):
        parse_intent(payload)


def test_a_partial_close_may_give_qty_and_a_full_close_nothing():
    assert parse_intent({"action": "CLOSE", "symbol": "BTC", "qty": "0.5"}).qty == "0.5"
    assert parse_intent({"action": "CLOSE", "symbol": "BTC"}).qty is None


def test_accepts_integer_sizes_as_exact_decimals():
    assert parse_intent(_open(qty=2)).qty_decimal == D(2)


# -- parse_intent never raises anything else, whatever it is fed ---------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["OPEN", "CLOSE", "HOLD", "UPDATE_EXIT_PLAN", "LONG", "short", "BTC", "1.5"])
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
_field_names = st.sampled_from(
    [
        "action",
        "symbol",
        "side",
        "qty",
        "notional_usd",
        "leverage",
        "exit_plan",
        "confidence",
        "policy_id",
        "hypothesis",
        "stop",
        "time_exit",
    ]
)
_near_intents = st.dictionaries(_field_names, _json, max_size=8)


@settings(max_examples=examples(300), deadline=None)
@given(st.one_of(_json, _near_intents, _near_intents.map(json.dumps), st.text(max_size=60)))
def test_parse_intent_raises_only_invalid_input_error_on_arbitrary_input(data):
    try:
        intent = parse_intent(data)
    except InvalidInputError as error:
        message = str(error)
    else:
        assert isinstance(intent, TradeIntent)
        return
    assert message.startswith("invalid intent: ")
    assert "\n" not in message


# -- account rules -------------------------------------------------------------------------------


def test_account_rules_default_to_hyperliquid_perp_fees_and_isolated_margin():
    rules = AccountRules()
    assert rules.taker_fee == D("0.00045")
    assert rules.maker_fee == D("0.00015")
    assert rules.margin_mode is MarginMode.ISOLATED
    assert rules.allows("ANYTHING")


def test_account_rules_round_trip_through_json_with_decimals_as_strings():
    rules = AccountRules(max_leverage=3, allowed_symbols=["btc", "eth"], slippage_bps="2.5")
    dumped = rules.model_dump(mode="json")
    assert dumped["slippage_bps"] == "2.5"
    assert AccountRules.model_validate(dumped) == rules
    assert rules.allows("BTC")
    assert not rules.allows("SOL")


@pytest.mark.parametrize(
    "overrides",
    [
        {"taker_fee": "0.02"},
        {"maker_fee": "-0.0001"},
        {"slippage_bps": "501"},
        {"max_leverage": 0},
        {"max_leverage": 101},
        {"max_drawdown": "0"},
        {"max_drawdown": "1.1"},
        {"max_position_notional": "0"},
        {"taker_fee": 0.0004},
        {"taker_fee": "NaN"},
        {"unknown_rule": 1},
    ],
)
def test_account_rules_refuse_out_of_range_values(overrides):
    with pytest.raises(ValidationError):
        AccountRules(**overrides)
