"""``backtest --blind``'s disguise: stable per run, and an answer in disguised terms maps back to
the real symbol, levels, size and times before it reaches the gates."""

from __future__ import annotations

from decimal import Decimal

from autotrader.backtest.blind import Blinding
from autotrader.core.clock import DAY_MS, parse_iso_utc
from autotrader.prop.models import TradeIntent

YEAR_MS = 365 * DAY_MS


def test_the_same_run_gets_the_same_disguise_and_another_run_another():
    first = Blinding.for_run(["ETH", "BTC"], seed="run a")
    assert first == Blinding.for_run(["BTC", "ETH"], seed="run a")
    assert first.aliases == {"BTC": "ASSET_1", "ETH": "ASSET_2"}
    assert first != Blinding.for_run(["BTC", "ETH"], seed="run b")


def test_dates_move_years_ahead_in_whole_weeks_and_prices_move_well_off_their_scale():
    for seed in ("a", "b", "c", "d"):
        blinding = Blinding.for_run(["BTC", "ETH", "SOL"], seed=seed)
        assert 10 * YEAR_MS <= blinding.shift_ms <= 31 * YEAR_MS
        assert blinding.shift_ms % (7 * DAY_MS) == 0
        for factor in blinding.factors.values():
            assert Decimal("0.1") <= factor < 10
            assert abs(factor - 1) >= Decimal("0.1")


def test_an_answer_in_disguised_terms_maps_back_to_real_levels_size_and_times():
    shift = 520 * 7 * DAY_MS
    blinding = Blinding({"BTC": "ASSET_1"}, shift_ms=shift, factors={"BTC": Decimal("0.01")})
    shown_exit = "2036-02-10T12:00:00Z"
    answer = TradeIntent.model_validate(
        {"action": "OPEN", "symbol": "ASSET_1", "side": "LONG", "qty": "150",
         "exit_plan": {"stop": "650", "target": "700", "invalidation_price": "640",
                       "time_exit": shown_exit}}
    )  # fmt: skip
    real = blinding.intent(answer)
    assert real.symbol == "BTC"
    assert Decimal(real.qty) == Decimal("1.5")
    assert Decimal(real.exit_plan.stop) == 65_000
    assert Decimal(real.exit_plan.target) == 70_000
    assert Decimal(real.exit_plan.invalidation_price) == 64_000
    assert parse_iso_utc(real.exit_plan.time_exit) == parse_iso_utc(shown_exit) - blinding.shift_ms


def test_an_answer_for_an_alias_the_run_never_gave_is_left_for_the_engine_to_refuse():
    blinding = Blinding({"BTC": "ASSET_1"}, shift_ms=0, factors={"BTC": Decimal(2)})
    answer = TradeIntent.model_validate({"action": "CLOSE", "symbol": "ASSET_9"})
    assert blinding.intent(answer) == answer
