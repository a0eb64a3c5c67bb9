"""The prop desk end to end on a real SQLite file: gates → intent → order → fill → position →
ledger, at prices the test seeds as candles (the desk reads nothing else).

Reference cases use ADA (amount step 1, price tick 0.00001 in the packaged registry), no slippage
and a 0.25 % taker fee, so freqtrade's worked example comes out to the last digit.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from autotrader.bootstrap import precision
from autotrader.core.clock import iso_utc
from autotrader.core.errors import NotFoundError
from autotrader.prop import pnl
from autotrader.prop import repo as prop_repo
from autotrader.prop.accounts import account_state, open_account
from autotrader.prop.execution import PropDesk
from autotrader.prop.models import AccountRules, MarginMode, Side, parse_intent
from tests.fakes.market import (
    MINUTE,
    dump_prop_tables,
    ensure_registry,
    prop_counts,
    seed_prices,
)

pytestmark = pytest.mark.both_backends  # the trading path, on SQLite and PostgreSQL

T0 = 1_700_000_040_000  # on the 1m grid
START = D(10_000)
REFERENCE_RULES = AccountRules(slippage_bps=D(0), taker_fee=D("0.0025"))


@pytest.fixture
def desk(store, clock) -> PropDesk:
    clock.set(T0)
    ensure_registry(store, clock)
    return PropDesk(store, clock, precision(store, clock))


def new_account(store, clock, rules: AccountRules = REFERENCE_RULES, balance: D = START) -> int:
    return open_account(
        store, clock, clone_id=42, kind="sandbox", starting_balance=balance, rules=rules
    )


def price_now(store, clock, symbol: str, close: float) -> None:
    """One flat bar that has just closed at ``close``: the next fill's reference price."""
    seed_prices(store, clock, symbol, [close], clock.now_ms() // MINUTE * MINUTE - MINUTE)


def intent(**fields):
    return parse_intent(fields)


def ledger(store, account_id: int) -> list[tuple[str, D, D]]:
    return [
        (r["kind"], D(r["amount"]), D(r["balance_after"]))
        for r in store.query(
            "SELECT kind, amount, balance_after FROM ledger_entries WHERE account_id = ?"
            " ORDER BY id",
            (account_id,),
        )
    ]


def position(store, position_id: int) -> dict:
    row = prop_repo.get_position(store, position_id)
    assert row is not None
    return row


# -- reference cases -----------------------------------------------------------------------------


def test_long_round_trip_reproduces_the_freqtrade_reference_to_the_last_digit(desk, store, clock):
    account = new_account(store, clock)
    price_now(store, clock, "ADA", 2.0)
    opened = desk.submit(
        account, intent(action="OPEN", symbol="ADA", side="LONG", qty="30", leverage=5)
    )
    assert opened.accepted, opened.reason
    fill = opened.fill
    assert fill is not None
    assert (fill["price"], fill["qty"], fill["fee"]) == (D(2), D(30), D("0.15"))
    assert fill["notional"] + fill["fee"] == D("60.15")  # freqtrade's open value
    assert pnl.open_value(Side.LONG, D(30), fill["price"], D("0.0025")) == D("60.15")

    clock.advance(ms=MINUTE)
    price_now(store, clock, "ADA", 2.1)
    closed = desk.submit(account, intent(action="CLOSE", symbol="ADA"))
    assert closed.accepted, closed.reason
    out = closed.fill
    assert out is not None
    assert out["notional"] - out["fee"] == D("62.8425")  # freqtrade's close value

    assert ledger(store, account) == [
        ("DEPOSIT", START, START),
        ("FEE", D("-0.15"), D("9999.85")),
        ("REALIZED_PNL", D(3), D("10002.85")),
        ("FEE", D("-0.1575"), D("10002.6925")),
    ]
    assert prop_repo.balance(store, account) == START + D("2.6925")
    row = position(store, opened.booked.position_id)
    assert (row["status"], row["qty"], row["close_trigger"]) == ("CLOSED", D(0), "MANUAL")
    assert row["realized_pnl"] - row["fees_paid"] == D("2.6925")


def test_short_round_trip_mirrors_the_reference(desk, store, clock):
    account = new_account(store, clock)
    price_now(store, clock, "ADA", 2.1)
    opened = desk.submit(
        account, intent(action="OPEN", symbol="ADA", side="SHORT", qty="30", leverage=5)
    )
    assert opened.accepted, opened.reason
    assert opened.fill["notional"] - opened.fill["fee"] == D("62.8425")  # short open value

    clock.advance(ms=MINUTE)
    price_now(store, clock, "ADA", 2.0)
    closed = desk.submit(account, intent(action="CLOSE", symbol="ADA", side="SHORT"))
    assert closed.accepted, closed.reason
    assert closed.fill["notional"] + closed.fill["fee"] == D("60.15")  # short close value
    assert [kind for kind, _, _ in ledger(store, account)] == [
        "DEPOSIT",
        "FEE",
        "REALIZED_PNL",
        "FEE",
    ]
    assert prop_repo.balance(store, account) == START + D("2.6925")


def test_stored_liquidation_price_is_hyperliquids_formula_for_a_long(desk, store, clock):
    # 30 ADA long at 2.0, 5x → isolated margin 12. ADA's market max leverage is 20, so the
    # maintenance margin is 60 / 20 / 2 = 1.5 and l = 1/40:
    #   liq = 2.0 − (12 − 1.5) / 30 / (1 − 1/40) = 2.0 − 0.35 / 0.975 = 2 − 14/39 = 64/39 ≈ 1.6410
    account = new_account(store, clock)
    price_now(store, clock, "ADA", 2.0)
    sub = desk.submit(
        account, intent(action="OPEN", symbol="ADA", side="LONG", qty="30", leverage=5)
    )
    row = position(store, sub.booked.position_id)
    assert row["margin"] == D(12)
    expected = pnl.liquidation_price(Side.LONG, D(2), D(30), D(12), 20, MarginMode.ISOLATED)
    assert row["liquidation_price"] == expected
    assert abs(row["liquidation_price"] - D(64) / D(39)) < D("1e-20")


def test_stored_liquidation_price_is_hyperliquids_formula_for_a_short(desk, store, clock):
    # 30 ADA short at 2.1, 5x → margin 12.6, maintenance 63 / 40 = 1.575:
    #   liq = 2.1 + 11.025 / 30 / (1 + 1/40) = 2.1 + 0.3675 / 1.025 = 2.1 + 147/410 = 1008/410
    account = new_account(store, clock)
    price_now(store, clock, "ADA", 2.1)
    sub = desk.submit(
        account, intent(action="OPEN", symbol="ADA", side="SHORT", qty="30", leverage=5)
    )
    row = position(store, sub.booked.position_id)
    assert abs(row["liquidation_price"] - D(1008) / D(410)) < D("1e-20")


def test_an_unlevered_long_stores_no_liquidation_price(desk, store, clock):
    account = new_account(store, clock)
    price_now(store, clock, "ADA", 2.0)
    sub = desk.submit(account, intent(action="OPEN", symbol="ADA", side="LONG", qty="30"))
    assert position(store, sub.booked.position_id)["liquidation_price"] is None


def test_slippage_moves_both_fills_against_the_trader(desk, store, clock):
    account = new_account(store, clock, AccountRules(slippage_bps=D(10), taker_fee=D(0)))
    price_now(store, clock, "ADA", 2.0)
    opened = desk.submit(account, intent(action="OPEN", symbol="ADA", side="LONG", qty="30"))
    closed = desk.submit(account, intent(action="CLOSE", symbol="ADA"))
    assert (opened.fill["price"], closed.fill["price"]) == (D("2.002"), D("1.998"))
    assert prop_repo.balance(store, account) == START - D(30) * D("0.004")


# -- rejections change nothing but the audit -----------------------------------------------------


def _rejected_leaves_only_its_intent(desk, store, account: int, payload: dict, code: str) -> None:
    before = dump_prop_tables(store)
    sub = desk.submit(account, intent(**payload))
    after = dump_prop_tables(store)
    assert (sub.accepted, sub.reject_code) == (False, code)
    assert sub.booked is None
    assert sub.fill is None
    assert len(after["prop_intents"]) == len(before["prop_intents"]) + 1
    assert after["prop_intents"][:-1] == before["prop_intents"]
    for table in ("prop_accounts", "prop_orders", "prop_fills", "positions", "ledger_entries"):
        assert after[table] == before[table], table
    row = store.query_one("SELECT * FROM prop_intents WHERE id = ?", (sub.intent_id,))
    assert (row["status"], row["reject_code"]) == ("rejected", code)


_REJECTIONS = {
    "leverage_above_account_max": {"side": "LONG", "qty": "30", "leverage": 11},
    "opposite_position_open": {"side": "SHORT", "qty": "30"},
    "position_notional_above_max": {"side": "LONG", "qty": "3000"},
    "below_min_notional": {"side": "LONG", "qty": "4"},
    "unknown_symbol": {"symbol": "DOGE", "side": "LONG", "qty": "4"},
    "close_qty_above_position": {"action": "CLOSE", "qty": "31"},
    "stop_wrong_side": {"action": "UPDATE_EXIT_PLAN", "exit_plan": {"stop": "2.5"}},
}


@pytest.mark.parametrize("code", list(_REJECTIONS))
def test_a_rejected_intent_leaves_nothing_but_its_intent_row(desk, store, clock, code):
    account = new_account(store, clock)
    price_now(store, clock, "ADA", 2.0)
    assert desk.submit(
        account, intent(action="OPEN", symbol="ADA", side="LONG", qty="30", leverage=2)
    ).accepted
    payload = {"action": "OPEN", "symbol": "ADA", **_REJECTIONS[code]}
    _rejected_leaves_only_its_intent(desk, store, account, payload, code)


def test_rejects_with_no_price_when_no_candle_is_stored(desk, store, clock):
    account = new_account(store, clock)
    payload = {"action": "OPEN", "symbol": "ETH", "side": "LONG", "notional_usd": "100"}
    _rejected_leaves_only_its_intent(desk, store, account, payload, "no_price")


def test_rejects_a_price_older_than_the_accounts_limit_as_stale(desk, store, clock):
    account = new_account(store, clock, AccountRules(max_price_age_s=300))
    seed_prices(store, clock, "ADA", [2.0], T0 - 10 * MINUTE)  # closed 9 minutes ago
    payload = {"action": "OPEN", "symbol": "ADA", "side": "LONG", "qty": "30"}
    _rejected_leaves_only_its_intent(desk, store, account, payload, "stale_price")


def test_a_price_within_the_age_limit_fills(desk, store, clock):
    account = new_account(store, clock, AccountRules(max_price_age_s=300))
    seed_prices(store, clock, "ADA", [2.0], T0 - 5 * MINUTE)  # closed 4 minutes ago
    sub = desk.submit(account, intent(action="OPEN", symbol="ADA", side="LONG", qty="30"))
    assert sub.accepted, sub.reason


def test_a_replay_clock_never_fills_at_a_future_bar(desk, store, clock):
    account = new_account(store, clock)
    seed_prices(store, clock, "ADA", [2.0, 3.0, 4.0], T0)
    clock.set(T0 + MINUTE + 30_000)  # the 2.0 bar has closed, 3.0 is forming, 4.0 is to come
    sub = desk.submit(account, intent(action="OPEN", symbol="ADA", side="LONG", qty="30"))
    assert sub.fill["reference_price"] == D(2)


def test_an_unknown_account_raises_not_found_and_writes_nothing(desk, store, clock):
    price_now(store, clock, "ADA", 2.0)
    before = prop_counts(store)
    with pytest.raises(NotFoundError):
        desk.submit(999, intent(action="OPEN", symbol="ADA", side="LONG", qty="30"))
    assert prop_counts(store) == before


def test_a_frozen_account_rejects_every_trade(desk, store, clock):
    account = new_account(store, clock)
    price_now(store, clock, "ADA", 2.0)
    prop_repo.set_account_status(store, account, "frozen", reason="test", now_ms=T0)
    payload = {"action": "OPEN", "symbol": "ADA", "side": "LONG", "qty": "30"}
    _rejected_leaves_only_its_intent(desk, store, account, payload, "account_not_active")


def test_a_dry_run_gates_but_books_nothing(desk, store, clock):
    account = new_account(store, clock)
    price_now(store, clock, "ADA", 2.0)
    before = prop_counts(store)
    sub = desk.submit(
        account, intent(action="OPEN", symbol="ADA", side="LONG", qty="30"), dry_run=True
    )
    assert sub.accepted
    assert sub.booked is None
    assert prop_counts(store) == before | {"prop_intents": before["prop_intents"] + 1}


# -- positions: partial close, adding, exit plans, cooldown ---------------------------------------


def test_a_partial_close_realizes_its_share_and_releases_margin_pro_rata(desk, store, clock):
    account = new_account(store, clock)
    price_now(store, clock, "ADA", 2.0)
    opened = desk.submit(
        account, intent(action="OPEN", symbol="ADA", side="LONG", qty="30", leverage=3)
    )
    pid = opened.booked.position_id
    clock.advance(ms=MINUTE)
    price_now(store, clock, "ADA", 2.1)
    part = desk.submit(account, intent(action="CLOSE", symbol="ADA", qty="10"))
    assert part.accepted
    assert not part.booked.closed
    row = position(store, pid)
    assert (row["status"], row["qty"], row["max_qty"]) == ("OPEN", D(20), D(30))
    assert row["margin"] == prop_repo.ledger_amount(D(40) / D(3))  # 20 − 20/3 at 16 places
    assert row["realized_pnl"] == D(1)
    assert row["liquidation_price"] == pnl.liquidation_price(
        Side.LONG, D(2), D(20), row["margin"], 20
    )

    clock.advance(ms=MINUTE)
    price_now(store, clock, "ADA", 2.2)
    rest = desk.submit(account, intent(action="CLOSE", symbol="ADA"))
    assert rest.booked.closed
    row = position(store, pid)
    assert (row["status"], row["qty"], row["margin"]) == ("CLOSED", D(0), D(0))
    assert row["realized_pnl"] == D(1) + D(20) * D("0.2")
    assert row["exit_price"] == D("2.16667")  # (10 × 2.1 + 20 × 2.2) / 30 on the tick
    fees = (
        D(30) * D(2) * D("0.0025") + D(10) * D("2.1") * D("0.0025") + D(20) * D("2.2") * D("0.0025")
    )
    assert row["fees_paid"] == fees
    assert prop_repo.balance(store, account) == START + D(5) - fees


def test_adding_to_a_position_weights_the_entry_and_recomputes_liquidation(desk, store, clock):
    account = new_account(store, clock)
    price_now(store, clock, "ADA", 2.0)
    first = desk.submit(
        account, intent(action="OPEN", symbol="ADA", side="LONG", qty="10", leverage=5)
    )
    clock.advance(ms=MINUTE)
    price_now(store, clock, "ADA", 2.3)
    added = desk.submit(
        account, intent(action="OPEN", symbol="ADA", side="LONG", qty="20", leverage=5)
    )
    assert added.accepted, added.reason
    assert added.booked.position_id == first.booked.position_id
    row = position(store, first.booked.position_id)
    assert (row["qty"], row["entry_price"]) == (D(30), D("2.2"))  # (20 + 46) / 30
    assert row["margin"] == D(4) + D("9.2")
    assert row["liquidation_price"] == pnl.liquidation_price(
        Side.LONG, D("2.2"), D(30), D("13.2"), 20
    )
    assert store.scalar("SELECT COUNT(*) FROM positions") == 1


def test_the_exit_price_averages_every_closing_fill_even_around_an_add(desk, store, clock):
    account = new_account(store, clock)
    steps = [
        (2.0, {"action": "OPEN", "side": "LONG", "qty": "10"}),
        (2.1, {"action": "CLOSE", "qty": "5"}),
        (2.3, {"action": "OPEN", "side": "LONG", "qty": "10"}),
        (2.5, {"action": "CLOSE"}),
    ]
    for price, payload in steps:
        price_now(store, clock, "ADA", price)
        sub = desk.submit(account, intent(symbol="ADA", **payload))
        assert sub.accepted, sub.reason
        clock.advance(ms=MINUTE)
    row = position(store, sub.booked.position_id)
    assert row["status"] == "CLOSED"
    assert row["exit_price"] == (D(5) * D("2.1") + D(15) * D("2.5")) / D(20)


def test_update_exit_plan_replaces_the_whole_plan(desk, store, clock):
    account = new_account(store, clock)
    price_now(store, clock, "ADA", 2.0)
    opened = desk.submit(
        account,
        intent(
            action="OPEN",
            symbol="ADA",
            side="LONG",
            qty="30",
            exit_plan={"stop": "1.8", "target": "2.5"},
        ),
    )
    pid = opened.booked.position_id
    assert (position(store, pid)["stop"], position(store, pid)["target"]) == (D("1.8"), D("2.5"))
    before = prop_counts(store)
    sub = desk.submit(
        account, intent(action="UPDATE_EXIT_PLAN", symbol="ADA", exit_plan={"stop": "1.9"})
    )
    assert sub.accepted
    assert sub.booked is None
    row = position(store, pid)
    assert (row["stop"], row["target"]) == (D("1.9"), None)
    after = prop_counts(store)
    assert after == before | {"prop_intents": before["prop_intents"] + 1}  # no order, no fill


def test_cooldown_blocks_reentry_until_it_ends(desk, store, clock):
    account = new_account(store, clock)
    price_now(store, clock, "ADA", 2.0)
    until = T0 + 10 * MINUTE
    plan = {"cooldown_until": iso_utc(until)}
    opened = desk.submit(
        account, intent(action="OPEN", symbol="ADA", side="LONG", qty="30", exit_plan=plan)
    )
    assert opened.accepted, opened.reason
    assert desk.submit(account, intent(action="CLOSE", symbol="ADA")).accepted
    again = {"action": "OPEN", "symbol": "ADA", "side": "SHORT", "qty": "30"}
    _rejected_leaves_only_its_intent(desk, store, account, again, "cooldown_active")

    clock.set(until)
    price_now(store, clock, "ADA", 2.0)
    assert desk.submit(account, intent(**again)).accepted


def test_the_daily_trade_limit_counts_opens_since_utc_midnight(desk, store, clock):
    account = new_account(store, clock, AccountRules(max_daily_trades=2, slippage_bps=D(0)))
    price_now(store, clock, "ADA", 2.0)
    for _ in range(2):
        assert desk.submit(
            account, intent(action="OPEN", symbol="ADA", side="LONG", qty="10")
        ).accepted
    payload = {"action": "OPEN", "symbol": "ADA", "side": "LONG", "qty": "10"}
    _rejected_leaves_only_its_intent(desk, store, account, payload, "max_daily_trades")


# -- idempotency and crash safety -----------------------------------------------------------------


def test_the_same_idempotency_key_fills_once_and_replays_the_outcome(desk, store, clock):
    account = new_account(store, clock)
    price_now(store, clock, "ADA", 2.0)
    order = intent(action="OPEN", symbol="ADA", side="LONG", qty="30")
    first = desk.submit(account, order, idempotency_key="run-1:ADA")
    before = dump_prop_tables(store)
    second = desk.submit(account, order, idempotency_key="run-1:ADA")
    assert dump_prop_tables(store) == before
    assert (first.replayed, second.replayed) == (False, True)
    assert second.intent_id == first.intent_id
    assert second.fill == first.fill
    assert second.booked == first.booked
    keys = store.query("SELECT idempotency_key FROM prop_fills")
    assert keys == [{"idempotency_key": f"manual:{account}:run-1:ADA"}]


def test_a_replayed_rejection_stays_rejected_without_a_new_row(desk, store, clock):
    account = new_account(store, clock)
    order = intent(action="OPEN", symbol="ETH", side="LONG", qty="1")
    first = desk.submit(account, order, idempotency_key="k")
    price_now(store, clock, "ETH", 2000.0)  # a price now exists, but the key was spent
    second = desk.submit(account, order, idempotency_key="k")
    assert (first.reject_code, second.reject_code, second.replayed) == (
        "no_price",
        "no_price",
        True,
    )
    assert prop_counts(store)["prop_fills"] == 0


class _Boom(RuntimeError):
    pass


def _fail_on_call(monkeypatch, n: int) -> None:
    """Make the n-th ``prop_repo.append_entry`` call raise (after n − 1 entries were written)."""
    real, calls = prop_repo.append_entry, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            raise _Boom("injected between the fill and the ledger")
        return real(*args, **kwargs)

    monkeypatch.setattr(prop_repo, "append_entry", flaky)


def test_an_exception_between_fill_and_ledger_leaves_no_partial_open(
    desk, store, clock, monkeypatch
):
    account = new_account(store, clock)
    price_now(store, clock, "ADA", 2.0)
    before = dump_prop_tables(store)
    _fail_on_call(monkeypatch, 1)  # the open's FEE entry: order, fill, position already written
    with pytest.raises(_Boom):
        desk.submit(
            account, intent(action="OPEN", symbol="ADA", side="LONG", qty="30"), idempotency_key="x"
        )
    assert dump_prop_tables(store) == before
    monkeypatch.undo()
    retried = desk.submit(
        account, intent(action="OPEN", symbol="ADA", side="LONG", qty="30"), idempotency_key="x"
    )
    assert retried.accepted
    assert not retried.replayed


def test_an_exception_after_half_the_ledger_leaves_no_partial_close(
    desk, store, clock, monkeypatch
):
    account = new_account(store, clock)
    price_now(store, clock, "ADA", 2.0)
    desk.submit(account, intent(action="OPEN", symbol="ADA", side="LONG", qty="30"))
    clock.advance(ms=MINUTE)
    price_now(store, clock, "ADA", 2.1)
    before = dump_prop_tables(store)
    _fail_on_call(monkeypatch, 2)  # REALIZED_PNL written, FEE raises
    with pytest.raises(_Boom):
        desk.submit(account, intent(action="CLOSE", symbol="ADA"))
    assert dump_prop_tables(store) == before
    assert account_state(store, account, clock.now_ms()).positions[0].row["status"] == "OPEN"


def test_a_replayed_partial_close_still_reports_that_it_did_not_close(desk, store, clock):
    account = new_account(store, clock)
    price_now(store, clock, "ADA", 2.0)
    desk.submit(account, intent(action="OPEN", symbol="ADA", side="LONG", qty="30"))
    part = intent(action="CLOSE", symbol="ADA", qty="10")
    first = desk.submit(account, part, idempotency_key="part")
    desk.submit(account, intent(action="CLOSE", symbol="ADA"))
    again = desk.submit(account, part, idempotency_key="part")
    assert again.replayed
    assert again.booked == first.booked
    assert again.booked.closed is False


# -- batches --------------------------------------------------------------------------------------


def test_a_batch_gates_each_intent_against_the_state_the_earlier_ones_left(desk, store, clock):
    account = new_account(store, clock, AccountRules(max_open_positions=1, slippage_bps=D(0)))
    price_now(store, clock, "ADA", 2.0)
    price_now(store, clock, "SOL", 100.0)
    batch = [
        intent(action="OPEN", symbol="ADA", side="LONG", qty="30"),
        intent(action="OPEN", symbol="SOL", side="LONG", qty="1"),  # a second position
        intent(action="CLOSE", symbol="ADA"),
        intent(action="OPEN", symbol="SOL", side="LONG", qty="1"),  # now allowed
    ]
    subs = desk.submit_many(account, batch, idempotency_keys=["a", "b", "c", "d"])
    assert [s.reject_code for s in subs] == [None, "max_open_positions", None, None]
    assert prop_counts(store)["prop_fills"] == 3
    again = desk.submit_many(account, batch, idempotency_keys=["a", "b", "c", "d"])
    assert all(s.replayed for s in again)
    assert prop_counts(store)["prop_fills"] == 3


def test_a_batch_that_fails_midway_writes_nothing(desk, store, clock, monkeypatch):
    account = new_account(store, clock)
    price_now(store, clock, "ADA", 2.0)
    before = dump_prop_tables(store)
    _fail_on_call(monkeypatch, 2)  # the close's FEE: the open is booked, the close half-way
    batch = [
        intent(action="OPEN", symbol="ADA", side="LONG", qty="30"),
        intent(action="CLOSE", symbol="ADA"),
    ]
    with pytest.raises(_Boom):
        desk.submit_many(account, batch)
    assert dump_prop_tables(store) == before


def test_batches_for_several_accounts_can_share_one_transaction(desk, store, clock):
    accounts = [new_account(store, clock) for _ in range(3)]
    price_now(store, clock, "ADA", 2.0)
    order = [intent(action="OPEN", symbol="ADA", side="LONG", qty="30")]

    def all_then_fail() -> None:
        with store.atomic():
            for account in accounts:
                desk.submit_many(account, order)
            raise _Boom("the caller's unit of work failed")

    with pytest.raises(_Boom):
        all_then_fail()
    assert prop_counts(store)["prop_fills"] == 0
    with store.atomic():
        for account in accounts:
            assert desk.submit_many(account, order)[0].accepted
    assert prop_counts(store)["prop_fills"] == 3


def test_an_applied_default_stop_is_the_positions_stop(desk, store, clock):
    rules = AccountRules(slippage_bps=D(0), taker_fee=D("0.0025"), default_stop_pct=D("0.3"))
    account = new_account(store, clock, rules)
    price_now(store, clock, "ADA", 2.0)

    opened = desk.submit(account, intent(action="OPEN", symbol="ADA", side="LONG", qty="30"))

    assert opened.accepted, opened.reason
    assert position(store, opened.booked.position_id)["stop"] == D("1.4")
    [stop_gate] = [g for g in opened.gate_results if g["gate"] == "stop_required"]
    assert stop_gate["reason"].startswith("default stop 1.4 applied")


def test_the_average_exit_price_after_partial_closes_is_on_the_markets_tick(desk, store, clock):
    account = new_account(store, clock)
    price_now(store, clock, "ADA", 2.0)
    opened = desk.submit(account, intent(action="OPEN", symbol="ADA", side="LONG", qty="30"))
    desk.submit(account, intent(action="CLOSE", symbol="ADA", qty="10"))
    clock.advance(ms=MINUTE)
    price_now(store, clock, "ADA", 2.1)

    desk.submit(account, intent(action="CLOSE", symbol="ADA"))

    # (10 × 2.0 + 20 × 2.1) / 30 = 2.0666…, on ADA's 0.00001 tick.
    assert position(store, opened.booked.position_id)["exit_price"] == D("2.06667")
