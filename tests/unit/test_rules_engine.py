"""The hold and rules engines on hand-built snapshots: entries, exits, exit plans, bad input."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from autotrader.clones.plan import CandidatePolicy, CompiledStrategy
from autotrader.core.clock import iso_utc
from autotrader.decisions.engines.base import (
    DecisionRequest,
    EngineResult,
    IndicatorBar,
    MarketSnapshot,
)
from autotrader.decisions.engines.hold import HoldEngine
from autotrader.decisions.engines.rules import RulesEngine
from autotrader.market.models import AssetInfo
from autotrader.prop.gates import (
    AccountView,
    GateContext,
    PositionView,
    StepPrecision,
    evaluate_intent,
)
from autotrader.prop.models import (
    AccountRules,
    AccountStatus,
    Action,
    ExitPlan,
    Side,
    TradeIntent,
    parse_intent,
)

NOW = 1_750_000_000_000
HOUR = 3_600_000
PRICE = D("100")


def bar(close: float = 100.0, **indicators: float | None) -> IndicatorBar:
    fields = dict.fromkeys(
        (
            "rsi14",
            "bb_upper",
            "bb_middle",
            "bb_lower",
            "sma20",
            "ema20",
            "macd",
            "macd_signal",
            "macd_hist",
        )
    )
    fields.update(indicators)
    return IndicatorBar(open_time=0, close=close, high=close + 1, low=close - 1, **fields)


def bars(*items: IndicatorBar) -> tuple[IndicatorBar, ...]:
    """Stamp hand-built bars onto consecutive hours ending at the hour before NOW."""
    start = NOW - len(items) * HOUR
    return tuple(replace(b, open_time=start + i * HOUR) for i, b in enumerate(items))


def request(
    history: tuple[IndicatorBar, ...],
    *,
    params: dict | None = None,
    position: PositionView | None = None,
    price: D | None = PRICE,
    symbol: str = "BTC",
) -> DecisionRequest:
    strategy = CompiledStrategy(
        strategy_id="trader",
        enabled=True,
        engine="rules",
        cadence_s=300,
        behavior_prompt="",
        coverage_mode="global",
        candidate_policy=CandidatePolicy(),
        universe=(),
        read_plans={},
        engine_params=params if params is not None else {},
    )
    market = MarketSnapshot(symbol, price, NOW if price else None, "1h", history)
    return DecisionRequest(
        run_id=1,
        trace_id="t",
        clone_id=42,
        account_id=1,
        model="",
        strategy=strategy,
        symbol=symbol,
        now_ms=NOW,
        market=market,
        position=position,
    )


def position(side: Side, policy_id: str | None = None, *, closing: bool = False) -> PositionView:
    plan = ExitPlan(invalidation=f"[{policy_id}] opened by the rules engine") if policy_id else None
    return PositionView("BTC", side, D("5"), PRICE, D("250"), 2, closing=closing, exit_plan=plan)


def only(result: EngineResult) -> TradeIntent:
    assert len(result.intents) == 1, result
    return result.intents[0]


# Hand-built signal bars: (prev, last) pairs.
RSI_UP = bars(bar(rsi14=27.0), bar(rsi14=33.0))
RSI_DOWN = bars(bar(rsi14=75.0), bar(rsi14=66.0))
RSI_MID_HIGH = bars(bar(rsi14=48.0), bar(rsi14=55.0))
RSI_MID_LOW = bars(bar(rsi14=52.0), bar(rsi14=45.0))
MACD_UP = bars(
    bar(100.0, macd_hist=-0.2, ema20=99.0, sma20=98.5),
    bar(101.0, macd_hist=0.3, ema20=99.5, sma20=99.0),
)
MACD_UP_BELOW_EMA = bars(
    bar(100.0, macd_hist=-0.2, ema20=102.0, sma20=101.0),
    bar(101.0, macd_hist=0.3, ema20=102.0, sma20=101.0),
)
MACD_DOWN = bars(
    bar(100.0, macd_hist=0.2, ema20=101.0, sma20=101.5),
    bar(99.0, macd_hist=-0.3, ema20=100.5, sma20=101.0),
)
MACD_UNDER = bars(
    bar(100.0, macd_hist=-0.1, ema20=99.0, sma20=99.0),
    bar(100.5, macd_hist=-0.2, ema20=99.0, sma20=99.0),
)
BANDS = {"bb_upper": 104.0, "bb_middle": 100.0, "bb_lower": 96.0}
BB_UP = bars(bar(103.0, **BANDS), bar(105.0, **BANDS))
BB_ALREADY_ABOVE = bars(bar(104.5, **BANDS), bar(105.0, **BANDS))
BB_DOWN = bars(bar(97.0, **BANDS), bar(95.0, **BANDS))
BB_BACK_TO_MIDDLE = bars(bar(102.0, **BANDS), bar(99.5, **BANDS))

RSI = {"policy": "rsi_mean_reversion"}
TREND = {"policy": "trend_macd"}
BB = {"policy": "bollinger_breakout"}


# -- hold -------------------------------------------------------------------------------------


def test_hold_engine_always_returns_one_hold_with_a_note():
    result = HoldEngine().decide(request(RSI_UP))
    intent = only(result)
    assert intent.action is Action.HOLD
    assert intent.symbol == "BTC"
    assert result.notes
    assert result.error is None


# -- rsi mean reversion -----------------------------------------------------------------------


def test_rsi_crossing_up_through_the_low_opens_a_long_with_an_exit_plan():
    intent = only(RulesEngine().decide(request(RSI_UP, params=RSI)))
    assert (intent.action, intent.side, intent.policy_id) == (Action.OPEN, Side.LONG, "rsi_mr")
    assert (intent.notional_usd, intent.leverage) == ("500", 2)
    assert intent.hypothesis == "RSI 27.0→33.0 crossed up 30: oversold bounce"
    plan = intent.exit_plan
    assert plan is not None
    assert (plan.stop, plan.target) == ("98", "104")
    assert plan.time_exit == iso_utc(NOW + 24 * HOUR)
    assert plan.cooldown_until == iso_utc(NOW + 60 * 60_000)
    assert plan.invalidation is not None
    assert plan.invalidation.startswith("[rsi_mr] ")
    assert intent.confidence is not None
    assert 0.5 <= intent.confidence <= 1


def test_rsi_crossing_down_through_the_high_opens_a_short():
    intent = only(RulesEngine().decide(request(RSI_DOWN, params=RSI)))
    assert (intent.action, intent.side) == (Action.OPEN, Side.SHORT)
    assert "crossed down 70" in (intent.hypothesis or "")


def test_rsi_short_signal_holds_when_shorts_are_not_allowed():
    result = RulesEngine().decide(request(RSI_DOWN, params={**RSI, "allow_short": False}))
    assert only(result).action is Action.HOLD
    assert "allow_short" in result.notes


def test_rsi_thresholds_come_from_the_parameters():
    params = {**RSI, "rsi_low": 32, "rsi_high": 80}
    assert only(RulesEngine().decide(request(RSI_UP, params=params))).action is Action.OPEN
    assert only(RulesEngine().decide(request(RSI_DOWN, params=params))).action is Action.HOLD


def test_rsi_closes_its_own_long_once_rsi_is_back_over_50():
    held = position(Side.LONG, "rsi_mr")
    intent = only(RulesEngine().decide(request(RSI_MID_HIGH, params=RSI, position=held)))
    assert (intent.action, intent.side, intent.policy_id) == (Action.CLOSE, Side.LONG, "rsi_mr")


def test_rsi_closes_its_own_short_once_rsi_is_back_under_50():
    held = position(Side.SHORT, "rsi_mr")
    intent = only(RulesEngine().decide(request(RSI_MID_LOW, params=RSI, position=held)))
    assert (intent.action, intent.side) == (Action.CLOSE, Side.SHORT)


def test_rsi_leaves_a_long_it_did_not_open_alone_when_rsi_is_over_50():
    for held in (position(Side.LONG), position(Side.LONG, "ema_macd")):
        intent = only(RulesEngine().decide(request(RSI_MID_HIGH, params=RSI, position=held)))
        assert intent.action is Action.HOLD


# -- trend with MACD confirmation -------------------------------------------------------------


def test_macd_crossing_up_above_both_averages_opens_a_long():
    intent = only(RulesEngine().decide(request(MACD_UP, params=TREND)))
    assert (intent.action, intent.side, intent.policy_id) == (Action.OPEN, Side.LONG, "ema_macd")


def test_macd_cross_without_the_close_above_the_averages_holds():
    result = RulesEngine().decide(request(MACD_UP_BELOW_EMA, params=TREND))
    assert only(result).action is Action.HOLD


def test_macd_crossing_down_below_both_averages_opens_a_short():
    intent = only(RulesEngine().decide(request(MACD_DOWN, params=TREND)))
    assert (intent.action, intent.side) == (Action.OPEN, Side.SHORT)


def test_macd_under_its_signal_closes_a_trend_long():
    held = position(Side.LONG, "ema_macd")
    intent = only(RulesEngine().decide(request(MACD_UNDER, params=TREND, position=held)))
    assert (intent.action, intent.side, intent.policy_id) == (Action.CLOSE, Side.LONG, "ema_macd")


# -- bollinger breakout -----------------------------------------------------------------------


def test_close_breaking_above_the_upper_band_from_inside_opens_a_long():
    intent = only(RulesEngine().decide(request(BB_UP, params=BB)))
    assert (intent.action, intent.side, intent.policy_id) == (
        Action.OPEN,
        Side.LONG,
        "bb_breakout",
    )


def test_a_close_already_above_the_band_is_not_a_new_breakout():
    assert only(RulesEngine().decide(request(BB_ALREADY_ABOVE, params=BB))).action is Action.HOLD


def test_close_breaking_below_the_lower_band_opens_a_short():
    intent = only(RulesEngine().decide(request(BB_DOWN, params=BB)))
    assert (intent.action, intent.side) == (Action.OPEN, Side.SHORT)


def test_breakout_long_closes_back_at_the_middle_band():
    held = position(Side.LONG, "bb_breakout")
    intent = only(RulesEngine().decide(request(BB_BACK_TO_MIDDLE, params=BB, position=held)))
    assert (intent.action, intent.side) == (Action.CLOSE, Side.LONG)


# -- positions --------------------------------------------------------------------------------


def test_never_opens_a_second_position_on_the_same_side():
    result = RulesEngine().decide(request(RSI_UP, params=RSI, position=position(Side.LONG)))
    assert only(result).action is Action.HOLD
    assert "already open" in result.notes


def test_an_opposite_signal_closes_the_position_first_and_never_flips():
    for params, history in ((RSI, RSI_DOWN), (TREND, MACD_DOWN), (BB, BB_DOWN)):
        result = RulesEngine().decide(request(history, params=params, position=position(Side.LONG)))
        intent = only(result)
        assert (intent.action, intent.side) == (Action.CLOSE, Side.LONG)


def test_holds_while_a_close_is_in_flight():
    held = position(Side.LONG, "rsi_mr", closing=True)
    assert only(RulesEngine().decide(request(RSI_DOWN, params=RSI, position=held))).action is (
        Action.HOLD
    )


def test_policies_are_evaluated_in_order_and_the_first_signal_wins():
    both = bars(bar(103.0, rsi14=27.0, **BANDS), bar(105.0, rsi14=33.0, **BANDS))
    engine = RulesEngine()
    first = only(engine.decide(request(both, params={"policies": ["bb_breakout", "rsi_mr"]})))
    second = only(engine.decide(request(both, params={"policies": ["rsi_mr", "bb_breakout"]})))
    assert (first.policy_id, second.policy_id) == ("bb_breakout", "rsi_mr")


def test_default_policies_are_trend_then_rsi():
    assert only(RulesEngine().decide(request(RSI_UP))).policy_id == "rsi_mr"
    assert only(RulesEngine().decide(request(MACD_UP))).policy_id == "ema_macd"


# -- exit plans -------------------------------------------------------------------------------

OPENS = [(RSI_UP, RSI), (RSI_DOWN, RSI), (MACD_UP, TREND), (MACD_DOWN, TREND), (BB_UP, BB)]


@pytest.mark.parametrize(("history", "params"), OPENS)
@pytest.mark.parametrize("price", [D("100"), D("0.000123456"), D("98765.4321"), D("3.3")])
def test_exit_plan_levels_sit_on_the_correct_side_and_intents_validate(history, params, price):
    intent = only(RulesEngine().decide(request(history, params=params, price=price)))
    plan = intent.exit_plan
    assert plan is not None
    assert plan.stop_decimal is not None
    assert plan.target_decimal is not None
    sign = intent.side.sign
    assert sign * (price - plan.stop_decimal) >= price * D("0.0199")
    assert sign * (plan.target_decimal - price) >= price * D("0.0399")
    assert len(plan.stop_decimal.normalize().as_tuple().digits) <= 5
    assert parse_intent(intent.model_dump_json()) == intent


@pytest.mark.parametrize(("history", "params"), OPENS)
def test_every_open_passes_the_real_gates_with_slippage(history, params):
    asset = AssetInfo(
        "BTC", "BTC/USDC:USDC", "perp", "BTC", "USDC", "USDC", "0.0001", "0.1", "10", 40
    )
    rules = AccountRules(slippage_bps=D(50), require_stop=True)
    account = AccountView(1, AccountStatus.ACTIVE, rules, D(10_000), D(0), D(10_000))
    intent = only(RulesEngine().decide(request(history, params=params)))
    decision = evaluate_intent(
        GateContext(intent, account, asset, PRICE, NOW, StepPrecision([asset]), NOW)
    )
    assert decision.accepted, decision.first_failure


def test_stop_and_target_are_rounded_away_from_the_price():
    long_ = only(RulesEngine().decide(request(RSI_UP, params=RSI, price=D("123.456789"))))
    short = only(RulesEngine().decide(request(RSI_DOWN, params=RSI, price=D("123.456789"))))
    assert (long_.exit_plan.stop, long_.exit_plan.target) == ("120.98", "128.4")
    assert (short.exit_plan.stop, short.exit_plan.target) == ("125.93", "118.51")


def test_sizing_and_exit_parameters_are_honoured():
    params = {
        **RSI,
        "notional_usd": "1250.5",
        "leverage": 5,
        "stop_pct": "0.01",
        "target_pct": 0.03,
        "time_exit_hours": None,
        "cooldown_minutes": 0,
    }
    intent = only(RulesEngine().decide(request(RSI_UP, params=params)))
    assert (intent.notional_usd, intent.leverage) == ("1250.5", 5)
    assert (intent.exit_plan.stop, intent.exit_plan.target) == ("99", "103")
    assert (intent.exit_plan.time_exit, intent.exit_plan.cooldown_until) == (None, None)


# -- bad parameters and missing data ----------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"leverage": 0},
        {"leverage": True},
        {"leverage": 2.5},
        {"notional_usd": 500.0},
        {"notional_usd": "-5"},
        {"notional_usd": "1e3"},
        {"stop_pct": 0.001},
        {"target_pct": "lots"},
        {"target_pct": float("nan")},
        {"policy": "martingale"},
        {"policies": []},
        {"policies": "rsi_mr"},
        {"policy": "rsi_mr", "policies": ["bb_breakout"]},
        {"rsi_low": 60},
        {"allow_short": "yes"},
        {"time_exit_hours": 0},
        {"cooldown_minutes": -1},
        {"granularity": "4h"},
    ],
)
def test_bad_parameters_are_a_recorded_error_and_a_hold(params):
    result = RulesEngine().decide(request(RSI_UP, params=params))
    assert only(result).action is Action.HOLD
    assert result.error is not None
    assert result.error.startswith("bad rules parameters: ")
    assert "\n" not in result.error


def test_unknown_parameters_are_ignored_and_named_in_the_notes():
    result = RulesEngine().decide(request(RSI_UP, params={**RSI, "stop_pc": 0.03}))
    assert only(result).action is Action.OPEN
    assert result.error is None
    assert "ignored parameters: stop_pc" in result.notes


def test_no_price_holds_and_says_so():
    result = RulesEngine().decide(request(RSI_UP, params=RSI, price=None))
    assert only(result).action is Action.HOLD
    assert "no execution price" in result.notes


def test_too_few_bars_hold_and_say_so():
    for history in ((), RSI_UP[-1:]):
        result = RulesEngine().decide(request(history, params=RSI))
        assert only(result).action is Action.HOLD
        assert "need 2 1h bars" in result.notes


def test_missing_indicators_hold_and_name_what_is_missing():
    history = bars(bar(), bar(rsi14=40.0))
    result = RulesEngine().decide(request(history))
    assert only(result).action is Action.HOLD
    assert result.notes.startswith("missing data: ")
    assert "macd_hist" in result.notes
    assert "rsi14" in result.notes
    assert result.error is None


def test_a_policy_with_missing_indicators_does_not_block_another_with_a_signal():
    assert only(RulesEngine().decide(request(RSI_UP))).action is Action.OPEN  # no MACD at all


def test_an_unusable_symbol_is_an_error_not_an_exception():
    result = RulesEngine().decide(request(RSI_UP, params={"leverage": 0}, symbol="bad symbol!"))
    assert result.intents == []
    assert result.error


def test_the_same_snapshot_always_gives_the_same_result():
    for history, params in [*OPENS, (RSI_MID_HIGH, RSI)]:
        runs = [RulesEngine().decide(request(history, params=params)) for _ in range(3)]
        assert runs[0] == runs[1] == runs[2]


def test_a_position_the_engine_opened_is_later_closed_by_the_policy_that_opened_it():
    opened = only(RulesEngine().decide(request(RSI_UP, params=RSI)))
    held = PositionView("BTC", opened.side, D("5"), PRICE, exit_plan=opened.exit_plan)
    closed = only(RulesEngine().decide(request(RSI_MID_HIGH, params=RSI, position=held)))
    assert (closed.action, closed.side, closed.policy_id) == (Action.CLOSE, Side.LONG, "rsi_mr")


@pytest.mark.parametrize("price", [D("0"), D("1E-20")])
def test_an_exit_plan_that_cannot_be_expressed_is_a_recorded_error_and_a_hold(price):
    result = RulesEngine().decide(request(RSI_UP, params=RSI, price=price))
    assert only(result).action is Action.HOLD
    assert result.error is not None
    assert result.error.startswith("rsi_mr: cannot build the OPEN")


def test_every_intent_round_trips_through_the_intent_contract():
    cases = [
        *((h, p, None) for h, p in OPENS),
        (RSI_DOWN, RSI, position(Side.LONG)),
        (RSI_MID_HIGH, RSI, position(Side.LONG, "rsi_mr")),
        (RSI_UP, RSI, position(Side.LONG)),
    ]
    for history, params, held in cases:
        for intent in RulesEngine().decide(request(history, params=params, position=held)).intents:
            assert parse_intent(intent.model_dump(mode="json")) == intent
