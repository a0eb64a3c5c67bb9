from dataclasses import replace
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autotrader.core.money import to_text
from autotrader.market.models import AssetInfo
from autotrader.prop import pnl
from autotrader.prop.gates import (
    GATE_ORDER,
    AccountView,
    GateContext,
    GateDecision,
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
from tests.conftest import examples

NOW = 1_750_000_000_000
BTC = AssetInfo(
    symbol="BTC",
    ccxt_symbol="BTC/USDC:USDC",
    kind="perp",
    base="BTC",
    quote="USDC",
    settle="USDC",
    amount_step="0.00001",
    price_tick="1",
    min_notional="10",
    max_leverage=40,
)
ETH = replace(
    BTC,
    symbol="ETH",
    ccxt_symbol="ETH/USDC:USDC",
    base="ETH",
    amount_step="0.0001",
    price_tick="0.1",
    max_leverage=25,
)
SOL = replace(
    BTC,
    symbol="SOL",
    ccxt_symbol="SOL/USDC:USDC",
    base="SOL",
    amount_step="0.01",
    price_tick="0.001",
    max_leverage=20,
)
PURR = replace(
    BTC,
    symbol="PURR/USDC",
    ccxt_symbol="PURR/USDC",
    kind="spot",
    base="PURR",
    settle=None,
    amount_step="1",
    price_tick="0.00001",
    max_leverage=None,
)
ASSETS = {a.symbol: a for a in (BTC, ETH, SOL, PURR)}
PRECISION = StepPrecision(ASSETS.values())


def account(**overrides) -> AccountView:
    fields = {
        "id": 1,
        "status": AccountStatus.ACTIVE,
        "rules": AccountRules(),
        "balance": D(10_000),
        "margin_used": D(0),
        "equity": D(10_000),
    }
    return AccountView(**{**fields, **overrides})


def long_btc(qty="0.05", **overrides) -> PositionView:
    fields = {
        "symbol": "BTC",
        "side": Side.LONG,
        "qty": D(qty),
        "entry_price": D(58_000),
        "margin": D(qty) * D(58_000) / 2,
        "leverage": 2,
    }
    return PositionView(**{**fields, **overrides})


def decide(
    intent: dict | TradeIntent,
    *,
    acct: AccountView | None = None,
    asset: AssetInfo | str | None = "auto",
    price: D | None = D(60_000),
    price_age_s: int | None = 10,
    acted: frozenset[str] = frozenset(),
) -> GateDecision:
    parsed = intent if isinstance(intent, TradeIntent) else parse_intent(intent)
    ctx = GateContext(
        intent=parsed,
        account=acct or account(),
        asset=ASSETS.get(parsed.symbol) if asset == "auto" else asset,
        reference_price=price,
        price_time_ms=None if price_age_s is None else NOW - price_age_s * 1000,
        precision=PRECISION,
        now_ms=NOW,
        symbols_already_acted=acted,
    )
    return evaluate_intent(ctx)


def open_btc(**fields) -> dict:
    return {"action": "OPEN", "symbol": "BTC", "side": "LONG", "qty": "0.01", **fields}


def close_btc(**fields) -> dict:
    return {"action": "CLOSE", "symbol": "BTC", **fields}


def update_btc(**plan) -> dict:
    return {"action": "UPDATE_EXIT_PLAN", "symbol": "BTC", "exit_plan": plan}


def assert_rejected(decision: GateDecision, code: str) -> None:
    failure = decision.first_failure
    assert not decision.accepted
    assert failure is not None, "expected a rejection"
    assert failure.code == code, failure
    assert decision.fill is None
    assert decision.results[-1] is failure  # later gates are not evaluated


with_btc = account(positions={"BTC": long_btc()}, margin_used=D(1450))

# -- accepted paths ------------------------------------------------------------------------------


def test_accepts_an_open_by_qty_with_slippage_fee_and_margin_computed_once():
    decision = decide(open_btc(leverage=3, exit_plan={"stop": "55000", "target": "70000"}))
    assert decision.accepted
    assert [r.gate for r in decision.results] == list(GATE_ORDER[Action.OPEN])
    fill = decision.fill
    assert fill is not None
    assert (fill.side, fill.is_open, fill.qty) == (Side.LONG, True, D("0.01"))
    assert fill.fill_price == D(60_030)  # 60,000 + 5 bps, on the 1-dollar tick
    assert fill.notional == D("600.30")
    assert fill.fee == D("600.30") * D("0.00045")
    assert fill.margin == D("200.10")
    assert fill.leverage == 3
    assert not fill.adds_to_position


def test_accepts_an_open_by_notional_and_truncates_the_qty_to_the_step():
    fill = decide(open_btc(qty=None, notional_usd="500")).fill
    assert fill is not None
    # 500 / 60,030 = 0.0083291… → 0.00832 (down, never up); value stays below 500.
    assert fill.qty == D("0.00832")
    assert fill.notional == D("499.44960")


def test_a_short_open_sells_below_the_reference():
    fill = decide(open_btc(side="SHORT")).fill
    assert fill is not None
    assert fill.fill_price == D(59_970)


def test_adding_to_a_position_does_not_count_as_a_new_position():
    rules = AccountRules(max_open_positions=1)
    decision = decide(open_btc(), acct=replace(with_btc, rules=rules))
    assert decision.accepted
    assert decision.fill is not None
    assert decision.fill.adds_to_position


def test_accepts_a_full_close_with_gross_pnl_and_all_margin_released():
    decision = decide(close_btc(), acct=with_btc)
    fill = decision.fill
    assert decision.accepted
    assert fill is not None
    assert (fill.side, fill.is_open, fill.closes_position) == (Side.LONG, False, True)
    assert fill.qty == D("0.05")
    assert fill.fill_price == D(59_970)  # selling: 5 bps below
    assert fill.gross_pnl == D("0.05") * (D(59_970) - D(58_000))
    assert fill.margin == D(1450)


def test_accepts_a_partial_close_quantized_down_with_pro_rata_margin():
    fill = decide(close_btc(qty="0.020009"), acct=with_btc).fill
    assert fill is not None
    assert fill.qty == D("0.02000")
    assert not fill.closes_position
    assert fill.margin == D(1450) * D("0.4")


def test_a_short_close_buys_above_the_reference():
    short = long_btc(side=Side.SHORT)
    fill = decide(close_btc(side="SHORT"), acct=account(positions={"BTC": short})).fill
    assert fill is not None
    assert fill.fill_price == D(60_030)
    assert fill.gross_pnl == D("0.05") * (D(58_000) - D(60_030))


def test_accepts_an_exit_plan_update_without_a_fill():
    decision = decide(update_btc(stop="57000", target="65000"), acct=with_btc)
    assert decision.accepted
    assert decision.fill is None
    assert [r.gate for r in decision.results] == list(GATE_ORDER[Action.UPDATE_EXIT_PLAN])


def test_hold_is_always_accepted_with_no_fill_even_on_a_frozen_account():
    decision = decide({"action": "HOLD", "symbol": "NOPE"}, acct=account(status="frozen"))
    assert decision.accepted
    assert decision.fill is None
    assert [r.code for r in decision.results] == ["hold"]


def test_every_gate_is_in_the_documented_code_table():
    import autotrader.prop.gates as gates

    for names in GATE_ORDER.values():
        for name in names:
            assert f"\n{name} " in gates.__doc__, name


def test_views_built_from_database_strings_compare_as_enums():
    held = PositionView("BTC", "LONG", D("0.05"), D(58_000))  # type: ignore[arg-type]
    acct = account(status="active", positions={"BTC": held})
    assert held.side is Side.LONG
    assert decide(open_btc(), acct=acct).accepted


# -- every action: account, symbol, one action, price --------------------------------------------


def test_rejects_any_action_on_an_account_that_is_not_active():
    assert_rejected(
        decide(open_btc(), acct=account(status=AccountStatus.FROZEN)), "account_not_active"
    )
    assert_rejected(
        decide(close_btc(), acct=replace(with_btc, status=AccountStatus.FINALIZED)),
        "account_not_active",
    )


def test_rejects_an_unknown_symbol():
    assert_rejected(decide(open_btc(symbol="DOGE")), "unknown_symbol")


def test_rejects_an_inactive_market():
    assert_rejected(decide(open_btc(), asset=replace(BTC, active=False)), "symbol_inactive")


def test_rejects_an_open_on_a_symbol_outside_the_allowed_list_but_still_lets_it_close():
    acct = replace(with_btc, rules=AccountRules(allowed_symbols=["ETH"]))
    assert_rejected(decide(open_btc(), acct=acct), "symbol_not_allowed")
    assert decide(close_btc(), acct=acct).accepted


def test_rejects_a_second_action_on_the_same_symbol_in_one_decision():
    assert_rejected(decide(open_btc(), acted=frozenset({"BTC"})), "duplicate_symbol_action")


def test_rejects_when_there_is_no_price():
    assert_rejected(decide(open_btc(), price=None), "no_price")
    assert_rejected(decide(open_btc(), price_age_s=None), "no_price")
    assert_rejected(decide(open_btc(), price=D(0)), "no_price")


def test_rejects_a_stale_price_and_never_fills_on_it():
    assert_rejected(decide(open_btc(), price_age_s=301), "stale_price")
    assert_rejected(decide(close_btc(), acct=with_btc, price_age_s=301), "stale_price")
    assert decide(open_btc(), price_age_s=300).accepted


def test_rejects_a_price_from_the_future():
    assert_rejected(decide(open_btc(), price_age_s=-1), "future_price")


# -- OPEN ----------------------------------------------------------------------------------------


def test_rejects_an_open_without_side():
    # The contract already refuses this; the gate stands behind it for constructed intents.
    intent = TradeIntent.model_construct(
        action=Action.OPEN,
        symbol="BTC",
        side=None,
        qty="0.01",
        notional_usd=None,
        leverage=1,
        exit_plan=None,
    )
    assert_rejected(decide(intent), "missing_side")


def test_rejects_a_size_below_one_amount_step_rather_than_rounding_up():
    assert_rejected(decide(open_btc(qty="0.000009")), "qty_below_step")


def test_rejects_a_size_below_the_minimum_notional_rather_than_rounding_up():
    # 0.00016 BTC at 60,030 is 9.60 < 10.
    assert_rejected(decide(open_btc(qty="0.00016")), "below_min_notional")
    # 10 USD asked: truncation to 0.00016 leaves 9.60, so it is refused, not bumped to 0.00017.
    assert_rejected(decide(open_btc(qty=None, notional_usd="10")), "below_min_notional")
    assert decide(open_btc(qty="0.00017")).accepted


def test_rejects_a_fill_price_that_rounds_to_zero():
    assert_rejected(decide(open_btc(), price=D("0.4")), "no_price")


def test_rejects_open_above_the_accounts_max_leverage():
    assert_rejected(decide(open_btc(leverage=11)), "leverage_above_account_max")


def test_rejects_open_above_the_markets_max_leverage():
    acct = account(rules=AccountRules(max_leverage=100))
    assert_rejected(decide(open_btc(leverage=41), acct=acct), "leverage_above_market_max")


def test_spot_markets_trade_unlevered():
    spot = {"action": "OPEN", "symbol": "PURR/USDC", "side": "LONG", "qty": "100", "leverage": 2}
    assert_rejected(decide(spot, price=D("0.2")), "leverage_above_market_max")
    assert decide({**spot, "leverage": 1}, price=D("0.2")).accepted


def test_rejects_open_above_max_position_notional_counting_the_existing_position():
    # 0.05 held + 0.034 new at 60,030 = 5,042.52 > 5,000.
    assert_rejected(decide(open_btc(qty="0.034"), acct=with_btc), "position_notional_above_max")
    assert_rejected(decide(open_btc(qty="0.09")), "position_notional_above_max")


def test_rejects_opening_the_opposite_side_and_says_to_close_first():
    decision = decide(open_btc(side="SHORT"), acct=with_btc)
    assert_rejected(decision, "opposite_position_open")
    assert "CLOSE it first" in decision.results[-1].reason


def test_rejects_a_new_position_beyond_max_open_positions():
    acct = replace(with_btc, rules=AccountRules(max_open_positions=1))
    assert_rejected(decide(open_btc(symbol="ETH"), acct=acct), "max_open_positions")


def test_rejects_an_open_beyond_max_daily_trades():
    acct = account(rules=AccountRules(max_daily_trades=3), trades_today=3)
    assert_rejected(decide(open_btc(), acct=acct), "max_daily_trades")


def test_rejects_an_open_without_enough_free_margin():
    # 0.05 BTC at 60,030 at 1x needs 3,001.50 + 2 × 1.35 in fees; 3,000 is free.
    acct = account(balance=D(3000), equity=D(3000))
    assert_rejected(decide(open_btc(qty="0.05"), acct=acct), "insufficient_margin")
    assert decide(open_btc(qty="0.05", leverage=2), acct=acct).accepted


def test_unrealized_losses_reduce_free_margin():
    acct = account(balance=D(3100), equity=D(2900))
    assert_rejected(decide(open_btc(qty="0.05"), acct=acct), "insufficient_margin")


def test_rejects_an_open_without_stop_when_the_account_requires_one():
    acct = account(rules=AccountRules(require_stop=True))
    assert_rejected(decide(open_btc(), acct=acct), "missing_stop")
    assert decide(open_btc(exit_plan={"stop": "55000"}), acct=acct).accepted


def test_adding_to_a_position_keeps_its_stop_for_the_stop_rule():
    held = long_btc(exit_plan=ExitPlan(stop="55000"))
    acct = account(rules=AccountRules(require_stop=True), positions={"BTC": held})
    assert decide(open_btc(), acct=acct).accepted


@pytest.mark.parametrize(
    ("side", "plan", "code"),
    [
        ("LONG", {"stop": "60030"}, "stop_wrong_side"),  # at the fill price is not below it
        ("LONG", {"stop": "61000"}, "stop_wrong_side"),
        ("LONG", {"target": "59000"}, "target_wrong_side"),
        ("SHORT", {"stop": "59000"}, "stop_wrong_side"),
        ("SHORT", {"target": "61000"}, "target_wrong_side"),
        ("LONG", {"invalidation_price": "60030"}, "invalidation_wrong_side"),
        ("LONG", {"invalidation_price": "60500"}, "invalidation_wrong_side"),
        ("SHORT", {"invalidation_price": "59500"}, "invalidation_wrong_side"),
        ("LONG", {"time_exit": "2020-01-01T00:00:00Z"}, "time_exit_past"),
    ],
)
def test_rejects_exit_levels_on_the_wrong_side_of_the_fill_price(side, plan, code):
    assert_rejected(decide(open_btc(side=side, exit_plan=plan)), code)


def test_rejects_a_stop_the_liquidation_would_reach_first():
    # 10x long filled at 60,030 (5 bps over 60,000) on a 40x market: Hyperliquid's formula puts
    # liquidation at ≈ 54,710.89, so a stop at 54,000 would never fire.
    decision = decide(open_btc(leverage=10, exit_plan={"stop": "54000"}))
    assert_rejected(decision, "stop_beyond_liquidation")
    expected = pnl.liquidation_price(Side.LONG, D("60030"), D("0.01"), D("60.03"), 40)
    assert D("54710") < expected < D("54711")
    assert to_text(expected) in decision.first_failure.reason


def test_accepts_a_stop_above_the_liquidation_price():
    assert decide(open_btc(leverage=10, exit_plan={"stop": "56000"})).accepted


def test_rejects_an_open_before_the_symbols_cooldown_ends():
    acct = account(cooldowns={"BTC": NOW + 60_000})
    assert_rejected(decide(open_btc(), acct=acct), "cooldown_active")
    assert decide(open_btc(), acct=account(cooldowns={"BTC": NOW})).accepted


# -- CLOSE ---------------------------------------------------------------------------------------


def test_rejects_a_close_without_an_open_position():
    assert_rejected(decide(close_btc()), "no_open_position")


def test_rejects_a_close_of_a_position_already_closing():
    acct = account(positions={"BTC": long_btc(closing=True)})
    assert_rejected(decide(close_btc(), acct=acct), "position_closing")


def test_rejects_a_close_that_names_the_wrong_side():
    assert_rejected(decide(close_btc(side="SHORT"), acct=with_btc), "side_mismatch")


def test_rejects_a_close_larger_than_the_position():
    assert_rejected(decide(close_btc(qty="0.0500001"), acct=with_btc), "close_qty_above_position")


def test_rejects_a_partial_close_below_one_step():
    assert_rejected(decide(close_btc(qty="0.000001"), acct=with_btc), "qty_below_step")


# -- UPDATE_EXIT_PLAN ----------------------------------------------------------------------------


def test_rejects_an_exit_plan_update_without_a_position():
    assert_rejected(decide(update_btc(stop="57000")), "no_open_position")


def test_rejects_an_exit_plan_update_that_drops_a_required_stop():
    acct = replace(with_btc, rules=AccountRules(require_stop=True))
    assert_rejected(decide(update_btc(target="65000"), acct=acct), "missing_stop")


def test_rejects_an_exit_plan_update_with_levels_on_the_wrong_side_of_the_price():
    assert_rejected(decide(update_btc(stop="60500"), acct=with_btc), "stop_wrong_side")
    short = account(positions={"BTC": long_btc(side=Side.SHORT)})
    assert_rejected(decide(update_btc(target="60500"), acct=short), "target_wrong_side")
    invalidation = update_btc(stop="59000", invalidation_price="60500")
    assert_rejected(decide(invalidation, acct=with_btc), "invalidation_wrong_side")


def test_accepts_an_invalidation_price_on_the_losing_side():
    assert decide(open_btc(exit_plan={"stop": "58000", "invalidation_price": "59000"})).accepted
    short = open_btc(side="SHORT", exit_plan={"invalidation_price": "61000"})
    assert decide(short).accepted


# -- the property: an accepted OPEN never breaks a limit -----------------------------------------


def _magnitude(*bases: int) -> st.SearchStrategy[D]:
    jitter = st.integers(100, 199).map(lambda n: D(n) / 100)
    return st.tuples(st.sampled_from(bases), jitter).map(lambda t: D(t[0]) * t[1])


@st.composite
def _open_cases(draw):
    rules = AccountRules(
        max_leverage=draw(st.integers(1, 50)),
        max_position_notional=draw(_magnitude(5000, 1000, 20_000, 50)),
        max_open_positions=draw(st.integers(1, 3)),
        max_daily_trades=draw(st.integers(1, 5)),
        taker_fee=draw(st.decimals(min_value=D(0), max_value=D("0.001"), places=5)),
        slippage_bps=draw(st.decimals(min_value=D(0), max_value=D(50), places=1)),
    )
    positions = {}
    for symbol in draw(st.sets(st.sampled_from(["BTC", "ETH", "SOL"]), max_size=3)):
        qty = draw(st.decimals(min_value=D("0.01"), max_value=D(2), places=2))
        positions[symbol] = PositionView(
            symbol, draw(st.sampled_from(Side)), qty, D(1000), margin=qty * D(100)
        )
    balance = draw(_magnitude(5000, 500, 20_000, 50))
    margin_used = min(balance, sum((p.margin for p in positions.values()), D(0)))
    pnl_now = draw(st.decimals(min_value=D(-500), max_value=D(500), places=2))
    acct = account(
        rules=rules,
        balance=balance,
        margin_used=margin_used,
        equity=balance + pnl_now,
        positions=positions,
        trades_today=draw(st.integers(0, 4)),
    )
    symbol = draw(st.sampled_from(["BTC", "ETH", "SOL"]))
    low, high = {"BTC": (10_000, 100_000), "ETH": (500, 5000), "SOL": (10, 300)}[symbol]
    price = draw(st.decimals(min_value=D(low), max_value=D(high), places=2))
    # Magnitudes times a jitter: plain ranges pile up on their bounds and rarely pass.
    value = draw(_magnitude(500, 50, 2000, 5000, 9))
    size = {"qty": str((value / price).quantize(D("0.000001")))}
    max_leverage = min(rules.max_leverage, ASSETS[symbol].max_leverage or 1)
    intent = {
        "action": "OPEN",
        "symbol": symbol,
        "side": draw(st.sampled_from(["LONG", "SHORT"])),
        "leverage": draw(st.integers(1, max_leverage + 2)),
        **(size if draw(st.booleans()) else {"notional_usd": str(value)}),
    }
    return intent, acct, price


@settings(max_examples=examples(300), deadline=None)
@given(_open_cases())
def test_an_accepted_open_never_breaks_a_limit(case):
    intent, acct, price = case
    decision = decide(intent, acct=acct, price=price)
    if not decision.accepted:
        return
    fill, rules, asset = decision.fill, acct.rules, ASSETS[intent["symbol"]]
    assert fill is not None
    assert fill.qty > 0
    assert fill.qty % D(asset.amount_step) == 0
    assert fill.notional >= D(asset.min_notional)
    assert fill.leverage <= rules.max_leverage
    assert fill.leverage <= asset.max_leverage
    held = acct.positions.get(intent["symbol"])
    assert held is None or held.side is fill.side
    held_qty = held.qty if held is not None else D(0)
    assert (held_qty + fill.qty) * fill.fill_price <= rules.max_position_notional
    free = pnl.free_margin(acct.balance, acct.equity, acct.margin_used)
    assert fill.margin + 2 * fill.fee <= free
    # Adding to a held position is always allowed; a new one must fit under the cap.
    assert held is not None or len(acct.positions) + 1 <= rules.max_open_positions
    assert acct.trades_today < rules.max_daily_trades


# -- the seeds' trade limits and risk controls ------------------------------------------------


def rules(**fields) -> AccountView:
    return account(rules=AccountRules(**fields))


def test_rejects_an_open_below_the_minimum_confidence_or_without_one():
    strict = rules(min_confidence="0.6")
    assert_rejected(decide(open_btc(confidence=0.59), acct=strict), "below_min_confidence")
    assert_rejected(decide(open_btc(), acct=strict), "below_min_confidence")
    assert decide(open_btc(confidence=0.6), acct=strict).accepted


def test_a_close_needs_no_confidence():
    strict = account(rules=AccountRules(min_confidence="0.9"), positions={"BTC": long_btc()})
    assert decide(close_btc(), acct=strict).accepted


def test_rejects_an_open_that_would_lose_more_than_the_single_position_risk_at_its_stop():
    # 0.05 BTC from ~60,030 to a 56,000 stop loses ~201.5 USD: above 2% of 10,000 equity.
    capped = rules(max_position_risk="0.02")
    wide = open_btc(qty="0.05", exit_plan={"stop": "56000"})
    assert_rejected(decide(wide, acct=capped), "position_risk_above_max")
    tight = open_btc(qty="0.05", exit_plan={"stop": "59000"})  # ~51.5 USD at risk
    assert decide(tight, acct=capped).accepted


def test_an_open_without_a_stop_risks_its_whole_margin():
    capped = rules(max_position_risk="0.02")  # 200 USD of 10,000
    # 0.01 BTC at 2x locks ~300 USD of margin; with a stop it would risk ~10 USD.
    assert_rejected(decide(open_btc(leverage=2), acct=capped), "position_risk_above_max")
    assert decide(open_btc(leverage=2, exit_plan={"stop": "59000"}), acct=capped).accepted


def test_rejects_an_open_that_would_take_the_portfolio_past_its_risk_at_the_stops():
    held = long_btc(exit_plan=ExitPlan(stop="52000"))  # 0.05 × 6,000 = 300 USD at risk
    acct = account(
        rules=AccountRules(max_portfolio_risk="0.05"),  # 500 USD of 10,000
        positions={"BTC": held},
        margin_used=held.margin,
    )
    # 0.05 ETH from ~60,030 to 56,000 adds ~201.5 USD: ~501.5 in all; 0.04 adds ~161.2.
    eth = {"action": "OPEN", "symbol": "ETH", "side": "LONG", "qty": "0.05",
           "exit_plan": {"stop": "56000"}}  # fmt: skip
    assert_rejected(decide(eth, acct=acct), "portfolio_risk_above_max")
    assert decide({**eth, "qty": "0.04"}, acct=acct).accepted


def test_a_default_stop_is_applied_and_said_so_when_the_intent_has_none():
    decision = decide(open_btc(), acct=rules(default_stop_pct="0.3"))

    assert decision.accepted
    assert decision.fill is not None
    assert decision.fill.default_stop == D(42_021)  # 30% under the 60,030 fill, on the tick
    [stop] = [r for r in decision.results if r.gate == "stop_required"]
    assert stop.reason.startswith("default stop 42021 applied")


def test_no_default_stop_when_the_intent_names_one_or_the_account_requires_one():
    own = decide(open_btc(exit_plan={"stop": "59000"}), acct=rules(default_stop_pct="0.3"))
    required = decide(open_btc(), acct=rules(default_stop_pct="0.3", require_stop=True))
    assert own.fill is not None
    assert own.fill.default_stop is None
    assert_rejected(required, "missing_stop")


def test_a_default_stop_beyond_liquidation_is_refused():
    lev = open_btc(leverage=10)
    assert_rejected(decide(lev, acct=rules(default_stop_pct="0.3")), "stop_beyond_liquidation")


def test_a_close_without_a_position_says_so_before_anything_about_the_price():
    assert_rejected(decide(close_btc(), price=None), "no_open_position")
    assert_rejected(decide(update_btc(stop="50000"), price=None), "no_open_position")
