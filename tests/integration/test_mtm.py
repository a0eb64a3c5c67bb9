"""Mark-to-market on a real store: exits from bar lows/highs, gaps, time exits, liquidation,
hourly funding, drawdown freeze, snapshots, and idempotence (twice in a minute = once).

Positions are opened through the desk at a flat bar (ADA at 2.0), then the test seeds the bars
that follow and moves the simulated clock past them.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from autotrader.bootstrap import precision
from autotrader.core.clock import iso_utc
from autotrader.prop import pnl
from autotrader.prop import repo as prop_repo
from autotrader.prop.accounts import account_state, open_account
from autotrader.prop.admin import admin_action
from autotrader.prop.execution import PropDesk
from autotrader.prop.models import AccountRules, Side, parse_intent
from autotrader.prop.mtm import MarkToMarket
from tests.fakes.market import (
    HOUR,
    MINUTE,
    bar,
    dump_prop_tables,
    ensure_registry,
    seed_candles,
    seed_funding,
    seed_prices,
)

pytestmark = pytest.mark.both_backends  # the trading path, on SQLite and PostgreSQL

T0 = 1_700_000_040_000  # on the 1m grid
H0 = 1_700_002_800_000  # on the hour grid
START = D(10_000)
SLIP = D("0.001")  # 10 bps
RULES = AccountRules(slippage_bps=D(10), taker_fee=D("0.0025"))


@pytest.fixture
def prec(store, clock):
    clock.set(T0)
    ensure_registry(store, clock)
    return precision(store, clock)


@pytest.fixture
def desk(store, clock, prec) -> PropDesk:
    return PropDesk(store, clock, prec)


@pytest.fixture
def mtm(store, clock, prec) -> MarkToMarket:
    return MarkToMarket(store, clock, prec)


def new_account(store, clock, rules: AccountRules = RULES, balance: D = START) -> int:
    return open_account(
        store, clock, clone_id=7, kind="sandbox", starting_balance=balance, rules=rules
    )


def open_ada(desk, store, clock, account: int, side: str = "LONG", **fields) -> dict:
    """Open 30 ADA at 2.0 (a flat bar that has just closed); returns the position row."""
    seed_prices(store, clock, "ADA", [2.0], clock.now_ms() // MINUTE * MINUTE - MINUTE)
    payload = {"action": "OPEN", "symbol": "ADA", "side": side, "qty": "30", **fields}
    sub = desk.submit(account, parse_intent(payload))
    assert sub.accepted, sub.reason
    return prop_repo.get_position(store, sub.booked.position_id)


def reload(store, position: dict) -> dict:
    return prop_repo.get_position(store, position["id"])


def last_fill(store) -> dict:
    row = store.query_one("SELECT * FROM prop_fills ORDER BY id DESC LIMIT 1")
    return {k: D(v) if k in ("price", "qty", "fee") else v for k, v in row.items()}


def kinds(store, account: int) -> list[str]:
    rows = store.query(
        "SELECT kind FROM ledger_entries WHERE account_id = ? ORDER BY id", (account,)
    )
    return [r["kind"] for r in rows]


def after_bars(store, clock, *bars) -> None:
    """Store ``bars`` and move the clock to the end of the last one."""
    seed_candles(store, clock, bars)
    clock.set(max(b.open_time for b in bars) + MINUTE)


# -- stops, targets, gaps, time ------------------------------------------------------------------


def test_a_bar_low_through_the_stop_closes_a_long_at_the_stop_less_slippage(
    desk, mtm, store, clock
):
    account = new_account(store, clock)
    pos = open_ada(desk, store, clock, account, exit_plan={"stop": "1.9", "target": "2.3"})
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 2.0, 2.01, 1.85, 1.95))
    report = mtm.run()
    assert report.exits == {"STOP": 1}
    row = reload(store, pos)
    assert (row["status"], row["close_trigger"]) == ("CLOSED", "STOP")
    assert last_fill(store)["price"] == D("1.9") * (1 - SLIP)
    intent = store.query_one("SELECT * FROM prop_intents ORDER BY id DESC LIMIT 1")
    assert (intent["origin"], intent["status"]) == ("trigger", "accepted")


def test_a_bar_high_through_the_target_closes_a_long_at_the_target_less_slippage(
    desk, mtm, store, clock
):
    account = new_account(store, clock)
    pos = open_ada(desk, store, clock, account, exit_plan={"stop": "1.9", "target": "2.3"})
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 2.0, 2.35, 1.95, 2.2))
    assert mtm.run().exits == {"TARGET": 1}
    assert reload(store, pos)["close_trigger"] == "TARGET"
    assert last_fill(store)["price"] == D("2.3") * (1 - SLIP)


def test_a_bar_touching_stop_and_target_fires_the_stop(desk, mtm, store, clock):
    account = new_account(store, clock)
    pos = open_ada(desk, store, clock, account, exit_plan={"stop": "1.9", "target": "2.3"})
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 2.0, 2.35, 1.85, 2.2))
    mtm.run()
    assert reload(store, pos)["close_trigger"] == "STOP"


def test_a_gap_through_the_stop_fills_at_the_bars_open(desk, mtm, store, clock):
    account = new_account(store, clock)
    open_ada(desk, store, clock, account, exit_plan={"stop": "1.9"})
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 1.8, 1.85, 1.75, 1.8))
    mtm.run()
    assert last_fill(store)["price"] == D("1.8") * (1 - SLIP)


def test_a_short_stop_fires_on_a_bar_high_and_buys_above_it(desk, mtm, store, clock):
    account = new_account(store, clock)
    pos = open_ada(desk, store, clock, account, side="SHORT", exit_plan={"stop": "2.1"})
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 2.0, 2.15, 1.99, 2.05))
    mtm.run()
    assert reload(store, pos)["close_trigger"] == "STOP"
    assert last_fill(store)["price"] == D("2.1") * (1 + SLIP)
    assert last_fill(store)["side"] == "BUY"


def test_bars_that_stay_inside_the_plan_only_mark_the_position(desk, mtm, store, clock):
    account = new_account(store, clock)
    pos = open_ada(desk, store, clock, account, exit_plan={"stop": "1.9", "target": "2.3"})
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 2.0, 2.2, 1.95, 2.1))
    report = mtm.run()
    assert (report.exits, report.marked) == ({}, 1)
    row = reload(store, pos)
    assert (row["status"], row["last_mark_price"], row["last_mark_at"]) == (
        "OPEN",
        D("2.1"),
        clock.now_ms(),
    )


def test_a_time_exit_closes_at_the_close_of_the_bar_that_reaches_it(desk, mtm, store, clock):
    account = new_account(store, clock)
    pos = open_ada(desk, store, clock, account, exit_plan={"time_exit": iso_utc(T0 + 3 * MINUTE)})
    seed_prices(store, clock, "ADA", [2.0, 2.01, 2.02, 2.03, 2.04], T0)
    clock.set(T0 + 5 * MINUTE)
    assert mtm.run().exits == {"TIME": 1}
    assert reload(store, pos)["close_trigger"] == "TIME"
    # The bar opening at T0+2m closes at T0+3m, the time exit.
    assert last_fill(store)["price"] == D("2.018")  # 2.02 less 10 bps, to 5 significant digits


def test_a_time_exit_fires_without_new_bars_once_its_time_has_come(desk, mtm, store, clock):
    account = new_account(store, clock)
    pos = open_ada(desk, store, clock, account, exit_plan={"time_exit": iso_utc(T0 + MINUTE)})
    mtm.run()
    assert reload(store, pos)["status"] == "OPEN"
    clock.set(T0 + 10 * MINUTE)
    mtm.run()
    assert reload(store, pos)["close_trigger"] == "TIME"


def test_a_bar_still_forming_at_the_last_mark_is_checked_again_once_complete(
    desk, mtm, store, clock
):
    # Live: at T0+1m30s the T0+1m bar is half formed (low 1.95). Its final low (1.85) lands
    # after that mark; the next pass must still see it.
    account = new_account(store, clock)
    pos = open_ada(desk, store, clock, account, exit_plan={"stop": "1.9"})
    seed_candles(store, clock, [bar("ADA", T0 + MINUTE, 2.0, 2.0, 1.95, 1.96)])
    clock.set(T0 + MINUTE + 30_000)
    mtm.run()
    assert reload(store, pos)["status"] == "OPEN"
    seed_candles(store, clock, [bar("ADA", T0 + MINUTE, 2.0, 2.0, 1.85, 1.95)])  # completed
    seed_candles(store, clock, [bar("ADA", T0 + 2 * MINUTE, 1.95, 1.97, 1.94, 1.96)])
    clock.set(T0 + 3 * MINUTE)
    mtm.run()
    assert reload(store, pos)["close_trigger"] == "STOP"


def test_a_frozen_accounts_stops_still_fire(desk, mtm, store, clock, prec):
    account = new_account(store, clock)
    pos = open_ada(desk, store, clock, account, exit_plan={"stop": "1.9"})
    admin_action(store, clock, prec, account_id=account, action="freeze", reason="review")
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 2.0, 2.01, 1.85, 1.95))
    mtm.run()
    assert reload(store, pos)["close_trigger"] == "STOP"
    assert prop_repo.get_account(store, account)["status"] == "frozen"


# -- invalidation: judged on a bar's close --------------------------------------------------------


def test_a_bar_closing_below_a_longs_invalidation_price_closes_it_at_that_close(
    desk, mtm, store, clock
):
    account = new_account(store, clock)
    pos = open_ada(desk, store, clock, account, exit_plan={"invalidation_price": "1.95"})
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 2.0, 2.01, 1.88, 1.9))

    report = mtm.run()

    assert report.exits == {"INVALIDATION": 1}
    row = reload(store, pos)
    assert (row["status"], row["close_trigger"]) == ("CLOSED", "INVALIDATION")
    assert row["closed_at"] == clock.now_ms()
    assert last_fill(store)["price"] == D("1.9") * (1 - SLIP)
    intent = store.query_one("SELECT * FROM prop_intents ORDER BY id DESC LIMIT 1")
    assert (intent["origin"], intent["status"]) == ("trigger", "accepted")
    order = store.query_one("SELECT * FROM prop_orders ORDER BY id DESC LIMIT 1")
    assert order["trigger"] == "INVALIDATION"


def test_a_wick_through_the_invalidation_price_that_closes_back_above_keeps_the_position(
    desk, mtm, store, clock
):
    account = new_account(store, clock)
    plan = {"stop": "1.8", "invalidation_price": "1.95"}
    pos = open_ada(desk, store, clock, account, exit_plan=plan)
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 2.0, 2.01, 1.85, 1.96))

    assert mtm.run().exits == {}
    assert reload(store, pos)["status"] == "OPEN"


def test_a_bar_touching_the_stop_and_closing_past_the_invalidation_fires_the_stop(
    desk, mtm, store, clock
):
    account = new_account(store, clock)
    plan = {"stop": "1.9", "invalidation_price": "1.95"}
    pos = open_ada(desk, store, clock, account, exit_plan=plan)
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 2.0, 2.0, 1.85, 1.92))

    assert mtm.run().exits == {"STOP": 1}
    assert reload(store, pos)["close_trigger"] == "STOP"
    assert last_fill(store)["price"] == D("1.9") * (1 - SLIP)


def test_a_bar_touching_the_target_and_closing_past_the_invalidation_fires_the_target(
    desk, mtm, store, clock
):
    # The target is touched during the bar, the close comes at its end: the target came first.
    account = new_account(store, clock)
    plan = {"target": "2.1", "invalidation_price": "1.95"}
    pos = open_ada(desk, store, clock, account, exit_plan=plan)
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 2.0, 2.12, 1.9, 1.92))

    mtm.run()

    assert reload(store, pos)["close_trigger"] == "TARGET"


def test_a_shorts_invalidation_fires_on_a_close_above_it_and_buys_there(desk, mtm, store, clock):
    account = new_account(store, clock)
    pos = open_ada(
        desk, store, clock, account, side="SHORT", exit_plan={"invalidation_price": "2.05"}
    )
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 2.0, 2.12, 1.99, 2.1))

    mtm.run()

    assert reload(store, pos)["close_trigger"] == "INVALIDATION"
    fill = last_fill(store)
    assert (fill["side"], fill["price"]) == ("BUY", D("2.1") * (1 + SLIP))


def test_an_invalidation_price_on_the_wrong_side_is_refused_at_open(desk, store, clock):
    account = new_account(store, clock)
    seed_prices(store, clock, "ADA", [2.0], clock.now_ms() // MINUTE * MINUTE - MINUTE)
    payload = {"action": "OPEN", "symbol": "ADA", "side": "LONG", "qty": "30",
               "exit_plan": {"invalidation_price": "2.05"}}  # fmt: skip

    sub = desk.submit(account, parse_intent(payload))

    assert (sub.accepted, sub.reject_code) == (False, "invalidation_wrong_side")
    assert prop_repo.open_positions(store, account) == []


# -- liquidation ---------------------------------------------------------------------------------


def test_a_close_through_the_liquidation_price_forfeits_the_isolated_margin(
    desk, mtm, store, clock
):
    # 30 ADA long at 2.0, 5x: margin 12, liq = 64/39 ≈ 1.64103 (see test_prop_engine), which
    # ADA's price precision (5 significant digits) books at 1.641, without slippage.
    rules = AccountRules(slippage_bps=D(0), taker_fee=D("0.0025"))
    account = new_account(store, clock, rules)
    pos = open_ada(desk, store, clock, account, leverage=5)
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 2.0, 2.0, 1.6, 1.6))
    assert mtm.run().exits == {"LIQUIDATION": 1}
    row = reload(store, pos)
    assert (row["close_trigger"], row["exit_price"]) == ("LIQUIDATION", D("1.641"))
    assert kinds(store, account) == [
        "DEPOSIT",
        "FEE",
        "REALIZED_PNL",
        "FEE",
        "LIQUIDATION",
    ]
    liq_entry = store.query_one("SELECT amount FROM ledger_entries WHERE kind = 'LIQUIDATION'")
    assert D(liq_entry["amount"]) == -(D(12) + D(30) * (D("1.641") - D(2)))
    open_fee, close_fee = D("0.15"), D(30) * D("1.641") * D("0.0025")
    # The whole margin and both fees are lost, nothing more.
    assert prop_repo.balance(store, account) == START - D(12) - open_fee - close_fee


def test_a_wick_through_the_liquidation_price_does_not_liquidate(desk, mtm, store, clock):
    account = new_account(store, clock, AccountRules(slippage_bps=D(0)))
    pos = open_ada(desk, store, clock, account, leverage=5)
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 2.0, 2.0, 1.6, 1.7))
    mtm.run()
    assert reload(store, pos)["status"] == "OPEN"


def test_a_short_is_liquidated_when_the_close_rises_through_its_price(desk, mtm, store, clock):
    account = new_account(store, clock, AccountRules(slippage_bps=D(0)))
    pos = open_ada(desk, store, clock, account, side="SHORT", leverage=10)
    liq = reload(store, pos)["liquidation_price"]
    assert liq is not None
    assert liq > D(2)
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 2.0, 2.4, 2.0, 2.4))
    mtm.run()
    row = reload(store, pos)
    assert row["close_trigger"] == "LIQUIDATION"
    assert prop_repo.balance(store, account) >= START - D(6) - D(1)  # margin 6, fees < 1


# -- funding -------------------------------------------------------------------------------------


def _funding_setup(desk, store, clock, side: str) -> tuple[int, dict]:
    clock.set(H0 + 30 * MINUTE)
    account = new_account(store, clock)
    return account, open_ada(desk, store, clock, account, side=side)


def _funding_entries(store, account: int) -> list[D]:
    rows = store.query(
        "SELECT amount FROM ledger_entries WHERE account_id = ? AND kind = 'FUNDING' ORDER BY id",
        (account,),
    )
    return [D(r["amount"]) for r in rows]


@pytest.mark.parametrize("side", ["LONG", "SHORT"])
def test_hourly_funding_is_qty_times_oracle_times_rate_longs_pay_a_positive_rate(
    desk, mtm, store, clock, side
):
    account, _ = _funding_setup(desk, store, clock, side)
    seed_funding(
        store,
        "ADA",
        [(H0 + 50 * MINUTE, 0.0001, 2.0), (H0 + HOUR + 40 * MINUTE, -0.00005, 2.2)],
    )
    clock.set(H0 + 2 * HOUR + 5 * MINUTE)
    mtm.run()
    sign = 1 if side == "LONG" else -1
    assert _funding_entries(store, account) == [
        -sign * D(30) * D("2.0") * D("0.0001"),
        -sign * D(30) * D("2.2") * D("-0.00005"),
    ]
    assert pnl.funding_payment(Side(side), D(30), D(2), D("0.0001")) == -sign * D("0.006")


def test_a_pass_older_than_an_accounts_newest_entry_leaves_it_to_a_newer_pass(
    desk, mtm, store, clock
):
    from autotrader.ledger.verify import verify_ledger

    account, _ = _funding_setup(desk, store, clock, "LONG")
    seed_funding(store, "ADA", [(H0 + 50 * MINUTE, 0.0001, 2.0)])
    clock.set(H0 + 2 * HOUR)
    seed_prices(store, clock, "SOL", [100.0], clock.now_ms() - MINUTE)
    sol = {"action": "OPEN", "symbol": "SOL", "side": "LONG", "qty": "1"}
    assert desk.submit(account, parse_intent(sol)).accepted  # a trade booked at 02:00 ...
    clock.set(H0 + HOUR + 30 * MINUTE)  # ... seen by a pass that read the clock at 01:30

    mtm.run()

    assert _funding_entries(store, account) == []
    assert verify_ledger(store).ok
    clock.set(H0 + 2 * HOUR + MINUTE)
    mtm.run()
    assert _funding_entries(store, account) == [-D(30) * D("2.0") * D("0.0001")]
    assert verify_ledger(store).ok


def test_funding_is_booked_once_per_hour_however_often_mtm_runs(desk, mtm, store, clock):
    account, pos = _funding_setup(desk, store, clock, "LONG")
    seed_funding(store, "ADA", [(H0 + 50 * MINUTE, 0.0001, 2.0)])
    for minute in (61, 62, 75, 90, 119):
        clock.set(H0 + minute * MINUTE)
        mtm.run()
    assert _funding_entries(store, account) == [D("-0.006")]
    assert reload(store, pos)["funding_paid"] == D("-0.006")
    assert reload(store, pos)["funded_until"] == H0 + HOUR


def test_one_funding_observation_pays_for_one_hour_only(desk, mtm, store, clock):
    # An observation taken exactly on the hour mark belongs to one hour, not to two.
    account, _ = _funding_setup(desk, store, clock, "LONG")
    seed_funding(store, "ADA", [(H0 + HOUR, 0.0001, 2.0)])
    clock.set(H0 + 3 * HOUR + MINUTE)
    mtm.run()
    assert len(_funding_entries(store, account)) == 1


def test_funding_due_before_an_exit_in_the_same_pass_is_still_booked(desk, mtm, store, clock):
    # Opened at H0+30m with a stop at 1.8; nobody marks it for two hours, then one pass sees the
    # stop hit at H0+2h30m. The position was held at the H0+1h and H0+2h marks: both are paid.
    clock.set(H0 + 30 * MINUTE)
    account = new_account(store, clock)
    pos = open_ada(desk, store, clock, account, exit_plan={"stop": "1.8"})
    seed_funding(store, "ADA", [(H0 + 50 * MINUTE, 0.0001, 2.0), (H0 + 110 * MINUTE, 0.0001, 2.0)])
    after_bars(store, clock, bar("ADA", H0 + 150 * MINUTE, 2.0, 2.0, 1.7, 1.75))
    mtm.run()
    assert reload(store, pos)["close_trigger"] == "STOP"
    assert _funding_entries(store, account) == [D("-0.006"), D("-0.006")]


def test_an_hour_without_a_funding_observation_pays_nothing(desk, mtm, store, clock):
    account, pos = _funding_setup(desk, store, clock, "LONG")
    clock.set(H0 + 3 * HOUR)
    mtm.run()
    assert _funding_entries(store, account) == []
    assert reload(store, pos)["funded_until"] == H0 + 3 * HOUR


# -- drawdown, snapshots, idempotence ------------------------------------------------------------


def test_a_drawdown_beyond_the_limit_freezes_the_account(desk, mtm, store, clock):
    rules = AccountRules(slippage_bps=D(0), taker_fee=D("0.0025"), max_drawdown=D("0.1"))
    account = new_account(store, clock, rules, balance=D(100))
    open_ada(desk, store, clock, account)
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 2.0, 2.0, 1.6, 1.6))
    report = mtm.run()
    row = prop_repo.get_account(store, account)
    assert report.frozen == [account]
    assert row["status"] == "frozen"
    assert "max drawdown" in row["status_reason"]
    seed_prices(store, clock, "ADA", [1.6], clock.now_ms() - MINUTE)
    sub = desk.submit(
        account, parse_intent({"action": "OPEN", "symbol": "ADA", "side": "LONG", "qty": "10"})
    )
    assert sub.reject_code == "account_not_active"


def test_a_drawdown_within_the_limit_keeps_the_account_active(desk, mtm, store, clock):
    rules = AccountRules(slippage_bps=D(0), taker_fee=D("0.0025"), max_drawdown=D("0.2"))
    account = new_account(store, clock, rules, balance=D(100))
    open_ada(desk, store, clock, account)
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 2.0, 2.0, 1.6, 1.6))
    assert mtm.run().frozen == []
    assert prop_repo.get_account(store, account)["status"] == "active"


def test_the_snapshot_agrees_with_account_state(desk, mtm, store, clock):
    account = new_account(store, clock)
    open_ada(desk, store, clock, account, exit_plan={"stop": "1.5"})
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 2.0, 2.1, 1.9, 2.05))
    mtm.run()
    snap = prop_repo.latest_snapshot(store, account)
    state = account_state(store, account, clock.now_ms())
    assert snap["time"] == clock.now_ms() // MINUTE * MINUTE
    for key in ("balance", "cash", "margin_used", "unrealized_pnl", "equity", "peak_equity"):
        assert snap[key] == getattr(state, key), key
    assert snap["drawdown"] == state.drawdown
    assert snap["open_positions"] == len(state.positions) == 1
    assert state.equity == state.cash + state.margin_used + state.unrealized_pnl
    assert state.unrealized_pnl == D(30) * (D("2.05") - D("2.002"))


def test_running_twice_in_the_same_minute_changes_nothing(desk, mtm, store, clock):
    a = new_account(store, clock)
    b = new_account(store, clock)
    open_ada(desk, store, clock, a, exit_plan={"stop": "1.9"})
    open_ada(desk, store, clock, b, side="SHORT", leverage=10)
    seed_funding(store, "ADA", [(T0 - 10 * MINUTE, 0.0001, 2.0)])
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 2.0, 2.05, 1.85, 2.02))
    clock.advance(ms=HOUR)
    mtm.run()
    first = dump_prop_tables(store)
    assert first["prop_fills"] != []  # a's stop fired: there was something to repeat
    mtm.run()
    assert dump_prop_tables(store) == first


def test_an_account_without_positions_gets_a_snapshot_of_its_cash(mtm, store, clock):
    account = new_account(store, clock)
    assert mtm.run().snapshots == 1
    snap = prop_repo.latest_snapshot(store, account)
    assert (snap["equity"], snap["margin_used"], snap["open_positions"]) == (START, D(0), 0)


def test_an_open_with_its_stop_beyond_the_liquidation_price_is_refused(desk, store, clock):
    account = new_account(store, clock, AccountRules(slippage_bps=D(0), taker_fee=D(0)))
    seed_prices(store, clock, "ADA", [2.0], clock.now_ms() // MINUTE * MINUTE - MINUTE)
    payload = {"action": "OPEN", "symbol": "ADA", "side": "LONG", "qty": "30", "leverage": 5}
    sub = desk.submit(account, parse_intent({**payload, "exit_plan": {"stop": "1.5"}}))
    assert sub.reject_code == "stop_beyond_liquidation"


def test_a_stop_moved_beyond_the_liquidation_price_is_a_liquidation(desk, mtm, store, clock):
    # 5x long at 2.0 liquidates at ≈1.641; a stop later moved to 1.5 (exit-plan updates are
    # not bound by the liquidation price) would lose more than the margin: liquidation wins.
    rules = AccountRules(slippage_bps=D(0), taker_fee=D(0))
    account = new_account(store, clock, rules)
    pos = open_ada(desk, store, clock, account, leverage=5)
    update = {"action": "UPDATE_EXIT_PLAN", "symbol": "ADA", "exit_plan": {"stop": "1.5"}}
    assert desk.submit(account, parse_intent(update)).accepted
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 2.0, 2.0, 1.45, 1.7))
    mtm.run()
    assert reload(store, pos)["close_trigger"] == "LIQUIDATION"
    assert prop_repo.balance(store, account) == START - D(12)


def test_a_gap_through_the_stop_and_the_liquidation_price_loses_only_the_margin(
    desk, mtm, store, clock
):
    rules = AccountRules(slippage_bps=D(0), taker_fee=D(0))
    account = new_account(store, clock, rules)
    pos = open_ada(desk, store, clock, account, leverage=5, exit_plan={"stop": "1.8"})
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 1.5, 1.75, 1.5, 1.7))
    mtm.run()
    assert reload(store, pos)["close_trigger"] == "LIQUIDATION"
    assert prop_repo.balance(store, account) == START - D(12)


def test_a_bar_ingested_after_a_pass_is_still_examined_by_the_next(desk, mtm, store, clock):
    # Live, the T0+1m bar closes at T0+2m but lands in the store a little later; a pass that
    # ran in between must not make the next one skip it.
    account = new_account(store, clock)
    pos = open_ada(desk, store, clock, account, exit_plan={"stop": "1.9"})
    clock.set(T0 + 2 * MINUTE + 5_000)
    mtm.run()
    seed_candles(store, clock, [bar("ADA", T0 + MINUTE, 2.0, 2.0, 1.85, 1.95)])
    seed_candles(store, clock, [bar("ADA", T0 + 2 * MINUTE, 1.95, 1.97, 1.94, 1.96)])
    clock.set(T0 + 3 * MINUTE + 5_000)
    mtm.run()
    assert reload(store, pos)["close_trigger"] == "STOP"


def test_a_second_pass_later_in_the_same_minute_changes_nothing(desk, mtm, store, clock):
    account = new_account(store, clock)
    open_ada(desk, store, clock, account, exit_plan={"stop": "1.5"})
    after_bars(store, clock, bar("ADA", T0 + MINUTE, 2.0, 2.1, 1.9, 2.05))
    mtm.run()
    first = dump_prop_tables(store)
    clock.advance(seconds=40)
    mtm.run()
    assert dump_prop_tables(store) == first
