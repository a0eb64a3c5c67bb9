"""Live accounts end to end: prop's gates → the live venue → real ccxt → the loopback fake
Hyperliquid exchange → the fill booked in prop's ledger from what the exchange reported.

Every assertion about what was traded is made on what reached the fake exchange (its orders
and fills), not only on our own rows.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from autotrader.bootstrap import precision
from autotrader.core.errors import InvalidInputError, OperationalError, TemporaryError
from autotrader.live import repo as live_repo
from autotrader.live.client import HyperliquidTrader
from autotrader.live.venue import LiveVenue
from autotrader.market.sources.hyperliquid import packaged_markets_snapshot
from autotrader.prop import repo as prop_repo
from autotrader.prop.accounts import open_account
from autotrader.prop.execution import PropDesk
from autotrader.prop.models import AccountRules, parse_intent
from autotrader.prop.vocabulary import Venue
from tests.fakes.hyperliquid_exchange import PRIVATE_KEY, TAKER_FEE, WALLET
from tests.fakes.hyperliquid_exchange import FakeHyperliquidExchange as FakeExchange
from tests.fakes.market import MINUTE, ensure_registry, seed_prices

T0 = 1_700_000_040_000
RULES = AccountRules(slippage_bps=D(10), max_position_notional=D(1_000_000))


class Halt:
    def __init__(self) -> None:
        self.on = False

    def __call__(self) -> bool:
        return self.on


@pytest.fixture
def exchange():
    with FakeExchange(wallet=WALLET) as fake:
        fake.set_price("BTC", "60000")
        yield fake


@pytest.fixture
def halt() -> Halt:
    return Halt()


def make_trader(url: str, *, timeout_ms: int = 2_000) -> HyperliquidTrader:
    return HyperliquidTrader(
        base_url=url,
        wallet=WALLET,
        private_key=PRIVATE_KEY,
        testnet=True,
        markets=packaged_markets_snapshot(),
        timeout_ms=timeout_ms,
        max_retries=1,
        backoff_s=0.0,
        sleep=lambda _s: None,
        rate_limit_ms=1,
    )


@pytest.fixture
def trader(exchange) -> HyperliquidTrader:
    return make_trader(exchange.url)


@pytest.fixture
def desk(store, clock, trader, halt) -> PropDesk:
    clock.set(T0)
    ensure_registry(store, clock)
    seed_prices(store, clock, "BTC", [60000.0], T0 // MINUTE * MINUTE - MINUTE)
    venue = LiveVenue(store, lambda _venue: trader, global_cap=None, halted=halt)
    return PropDesk(store, clock, precision(store, clock), venue=venue)


def live_account(store, clock, *, venue=Venue.HYPERLIQUID_TESTNET, cap: str | None = None) -> int:
    return open_account(
        store,
        clock,
        clone_id=42,
        kind="sandbox",
        starting_balance=D(10_000),
        rules=RULES,
        venue=venue,
        deposit_cap=D(cap) if cap else None,
    )


def open_btc(qty: str = "0.01", **extra):
    return parse_intent({"action": "OPEN", "symbol": "BTC", "side": "LONG", "qty": qty, **extra})


def test_a_live_open_is_filled_on_the_exchange_and_booked_from_its_fills(
    desk, store, clock, exchange
):
    account = live_account(store, clock)
    sub = desk.submit(account, open_btc(), idempotency_key="run-1:BTC")
    assert sub.accepted, sub.reason
    [order] = exchange.placed_orders()
    assert order.cloid is not None
    assert order.orig_sz == D("0.01")
    assert order.tif == "Ioc"
    assert order.limit_px == D("60060")  # the planned price: reference + 10 bps, the worst accepted
    assert exchange.position("BTC") == D("0.01")
    [exchange_fill] = exchange.fills
    assert sub.fill is not None
    assert D(sub.fill["price"]) == D(exchange_fill["px"]) == D("60000")
    assert D(sub.fill["fee"]) == D(exchange_fill["fee"]) == D("600") * TAKER_FEE
    [fee_entry] = [e for e in store.query("SELECT * FROM ledger_entries WHERE kind = 'FEE'")]
    assert D(fee_entry["amount"]) == -D("0.27")
    [row] = live_repo.orders(store, account)
    assert (row["outcome"], row["cloid"], row["exchange_oid"]) == ("FILLED", order.cloid, "1000")


def test_a_live_close_is_a_reduce_only_order_and_books_the_exchange_price(
    desk, store, clock, exchange
):
    account = live_account(store, clock)
    desk.submit(account, open_btc(), idempotency_key="k-open")
    exchange.set_price("BTC", "61000")
    seed_prices(store, clock, "BTC", [61000.0], T0 // MINUTE * MINUTE - MINUTE)
    closed = desk.submit(
        account, parse_intent({"action": "CLOSE", "symbol": "BTC"}), idempotency_key="k-close"
    )
    assert closed.accepted, closed.reason
    exit_order = exchange.placed_orders()[-1]
    assert exit_order.reduce_only
    assert not exit_order.is_buy
    assert exchange.position("BTC") == 0
    assert closed.booked is not None
    assert closed.booked.closed
    [pnl_entry] = store.query("SELECT amount FROM ledger_entries WHERE kind = 'REALIZED_PNL'")
    assert D(pnl_entry["amount"]) == D("10")  # 0.01 × (61000 − 60000), as the exchange filled


def test_a_partial_fill_is_booked_as_it_is(desk, store, clock, exchange):
    exchange.set_liquidity("BTC", "0.004")
    account = live_account(store, clock)
    sub = desk.submit(account, open_btc(), idempotency_key="partial")
    assert sub.accepted
    assert exchange.position("BTC") == D("0.004")
    [position] = prop_repo.open_positions(store, account)
    assert position["qty"] == D("0.004")
    [row] = live_repo.orders(store, account)
    assert (row["outcome"], row["filled_qty"]) == ("PARTIAL", D("0.004"))


def test_an_exchange_refusal_is_a_recorded_rejection_with_its_message(desk, store, clock, exchange):
    exchange.refuse_next("Insufficient margin to place order. asset=0")
    account = live_account(store, clock)
    sub = desk.submit(account, open_btc(), idempotency_key="refused")
    assert not sub.accepted
    assert sub.reject_code == "exchange_rejected"
    assert "Insufficient margin to place order" in sub.reason
    assert prop_repo.open_positions(store, account) == []
    assert exchange.position("BTC") == 0
    assert len(exchange.actions) == 1  # refused once, never retried
    [intent] = store.query("SELECT status, reject_code FROM prop_intents")
    assert (intent["status"], intent["reject_code"]) == ("rejected", "exchange_rejected")
    [row] = live_repo.orders(store, account)
    assert row["outcome"] == "REFUSED"
    assert "Insufficient margin" in row["message"]


def test_an_order_that_finds_no_liquidity_at_its_limit_is_rejected(desk, store, clock, exchange):
    exchange.set_price("BTC", "61000")  # moved beyond the planned limit of 60060
    account = live_account(store, clock)
    sub = desk.submit(account, open_btc(), idempotency_key="no-liquidity")
    assert sub.reject_code == "exchange_rejected"
    assert "could not immediately match" in sub.reason
    assert exchange.fills == []


def test_an_answer_lost_after_the_exchange_accepted_resolves_to_exactly_one_order(
    store, clock, exchange
):
    clock.set(T0)
    ensure_registry(store, clock)
    seed_prices(store, clock, "BTC", [60000.0], T0 // MINUTE * MINUTE - MINUTE)
    trader = make_trader(exchange.url, timeout_ms=300)
    venue = LiveVenue(store, lambda _v: trader, global_cap=None, halted=lambda: False)
    desk = PropDesk(store, clock, precision(store, clock), venue=venue)
    account = live_account(store, clock)
    exchange.stall_after_accept(1.0)  # accepted and filled, then the answer never arrives in time
    sub = desk.submit(account, open_btc(), idempotency_key="lost-answer")
    assert sub.accepted, sub.reason
    assert len(exchange.placed_orders()) == 1
    assert exchange.position("BTC") == D("0.01")
    [position] = prop_repo.open_positions(store, account)
    assert position["qty"] == D("0.01")


def test_a_retry_after_a_crash_mid_order_adopts_the_order_instead_of_sending_another(
    desk, store, clock, exchange
):
    account = live_account(store, clock)

    class Crash(Exception):
        pass

    def fill_then_die() -> None:
        # The exchange fills, then the process dies before the trading step commits.
        with store.atomic():
            desk.submit(account, open_btc(), idempotency_key="crash")
            raise Crash

    with pytest.raises(Crash):
        fill_then_die()
    assert prop_repo.open_positions(store, account) == []
    assert exchange.position("BTC") == D("0.01")
    again = desk.submit(account, open_btc(), idempotency_key="crash")
    assert again.accepted
    assert len(exchange.placed_orders()) == 1
    [position] = prop_repo.open_positions(store, account)
    assert position["qty"] == D("0.01")


def test_a_halt_stops_submission_before_anything_reaches_the_exchange(
    desk, store, clock, exchange, halt
):
    halt.on = True
    account = live_account(store, clock)
    sub = desk.submit(account, open_btc(), idempotency_key="halted")
    assert sub.reject_code == "live_halted"
    assert exchange.actions == []


def test_a_desk_without_a_venue_refuses_to_paper_fill_a_live_account(store, clock):
    clock.set(T0)
    ensure_registry(store, clock)
    seed_prices(store, clock, "BTC", [60000.0], T0 // MINUTE * MINUTE - MINUTE)
    account = live_account(store, clock)
    with pytest.raises(OperationalError, match="no live venue"):
        PropDesk(store, clock, precision(store, clock)).submit(account, open_btc())
    assert store.scalar("SELECT COUNT(*) FROM prop_fills") == 0


def test_refuses_a_real_venue_account_without_a_deposit_cap(store, clock):
    with pytest.raises(InvalidInputError, match="needs a deposit cap"):
        live_account(store, clock, venue=Venue.HYPERLIQUID)


def test_the_deposit_cap_gate_rejects_an_open_beyond_the_cap(desk, store, clock, exchange):
    account = live_account(store, clock, venue=Venue.HYPERLIQUID, cap="1000")
    sub = desk.submit(account, open_btc("0.02"), idempotency_key="too-big")
    assert sub.reject_code == "deposit_cap_exceeded"
    assert exchange.actions == []


def test_the_cap_inside_submission_stops_what_the_gates_let_through(store, clock, exchange):
    """A position opened on the exchange outside the store: the gate (which reads the store)
    passes, the check right before the exchange call (which reads the exchange) does not."""
    clock.set(T0)
    ensure_registry(store, clock)
    seed_prices(store, clock, "BTC", [60000.0], T0 // MINUTE * MINUTE - MINUTE)
    exchange.open_position("ETH", "0.5", "2000")  # 1,000 USDC of notional the store never saw
    trader = make_trader(exchange.url)
    venue = LiveVenue(store, lambda _v: trader, global_cap=None, halted=lambda: False)
    desk = PropDesk(store, clock, precision(store, clock), venue=venue)
    account = live_account(store, clock, venue=Venue.HYPERLIQUID, cap="1500")
    sub = desk.submit(account, open_btc(), idempotency_key="past-the-gate")
    assert [r["gate"] for r in sub.gate_results if r["code"] == "deposit_cap"] == ["deposit_cap"]
    assert sub.reject_code == "deposit_cap_exceeded"
    assert "above the deposit cap of 1,500.00" in sub.reason
    assert exchange.placed_orders() == []


def test_a_timeout_with_the_order_not_on_the_exchange_is_temporary(store, clock, exchange):
    clock.set(T0)
    ensure_registry(store, clock)
    seed_prices(store, clock, "BTC", [60000.0], T0 // MINUTE * MINUTE - MINUTE)
    trader = make_trader(exchange.url, timeout_ms=300)
    venue = LiveVenue(store, lambda _v: trader, global_cap=None, halted=lambda: False)
    desk = PropDesk(store, clock, precision(store, clock), venue=venue)
    account = live_account(store, clock)
    exchange.delay_next(1, 1.0)  # the first lookup by cloid times out ...
    exchange.fail_next(10, 503)  # ... and the exchange is down after it
    with pytest.raises(TemporaryError):
        desk.submit(account, open_btc(), idempotency_key="down")
    assert store.scalar("SELECT COUNT(*) FROM prop_intents") == 0


def test_mark_to_market_never_paper_closes_a_live_position(desk, store, clock, exchange):
    from autotrader.prop.mtm import MarkToMarket

    account = live_account(store, clock)
    desk.submit(account, open_btc(exit_plan={"stop": "59000"}), idempotency_key="stopped")
    clock.advance(ms=2 * MINUTE)
    seed_prices(store, clock, "BTC", [58000.0], T0 // MINUTE * MINUTE)  # through the stop
    MarkToMarket(store, clock, precision(store, clock)).run()
    [position] = prop_repo.open_positions(store, account)
    assert position["status"] == "OPEN"
    assert store.scalar("SELECT COUNT(*) FROM prop_fills") == 1


# -- exchange-side protection ---------------------------------------------------------------


def protections(store) -> list[tuple[str, D, str]]:
    rows = store.query("SELECT kind, trigger_price, status FROM live_protective_orders ORDER BY id")
    return [(r["kind"], D(r["trigger_price"]), r["status"]) for r in rows]


def triggers(exchange) -> list[tuple[str | None, D | None, bool]]:
    return [(o.tpsl, o.trigger_px, o.reduce_only) for o in exchange.open_orders()]


PLAN = {"stop": "59000", "target": "63000"}


def test_stop_and_target_rest_on_the_exchange_as_reduce_only_triggers(desk, store, clock, exchange):
    account = live_account(store, clock)
    desk.submit(account, open_btc(exit_plan=PLAN), idempotency_key="protected")
    assert sorted(triggers(exchange)) == [("sl", D(59000), True), ("tp", D(63000), True)]
    assert all(o.orig_sz == D("0.01") for o in exchange.open_orders())
    assert protections(store) == [("STOP", D(59000), "ACTIVE"), ("TARGET", D(63000), "ACTIVE")]


def test_a_new_exit_plan_moves_the_triggers_on_the_exchange(desk, store, clock, exchange):
    account = live_account(store, clock)
    desk.submit(account, open_btc(exit_plan=PLAN), idempotency_key="move-1")
    moved = parse_intent(
        {"action": "UPDATE_EXIT_PLAN", "symbol": "BTC", "exit_plan": {"stop": "59500"}}
    )
    sub = desk.submit(account, moved, idempotency_key="move-2")
    assert sub.accepted, sub.reason
    assert triggers(exchange) == [("sl", D(59500), True)]
    assert [p[2] for p in protections(store)] == ["CANCELLED", "CANCELLED", "ACTIVE"]


def test_a_close_cancels_the_triggers(desk, store, clock, exchange):
    account = live_account(store, clock)
    desk.submit(account, open_btc(exit_plan=PLAN), idempotency_key="close-1")
    desk.submit(account, parse_intent({"action": "CLOSE", "symbol": "BTC"}), idempotency_key="c2")
    assert exchange.open_orders() == []
    assert [p[2] for p in protections(store)] == ["CANCELLED", "CANCELLED"]


def test_a_stop_hit_on_the_exchange_is_booked_from_the_exchanges_fills(
    desk, store, clock, exchange, trader
):
    from autotrader.live.reconcile import reconcile

    account = live_account(store, clock)
    desk.submit(account, open_btc(exit_plan=PLAN), idempotency_key="stop-hit")
    exchange.set_price("BTC", "58900")  # through the stop: the exchange closes the position
    assert exchange.position("BTC") == 0
    result = reconcile(store, clock, Venue.HYPERLIQUID_TESTNET, trader, precision(store, clock))
    assert result.drifts == []
    assert len(result.exits) == 1
    [closed] = store.query("SELECT * FROM positions")
    assert (closed["status"], closed["close_trigger"]) == ("CLOSED", "STOP")
    stop_fill = exchange.fills[-1]
    [exit_fill] = store.query("SELECT * FROM prop_fills WHERE side = 'SELL'")
    assert D(exit_fill["price"]) == D(stop_fill["px"])
    assert D(exit_fill["fee"]) == D(stop_fill["fee"])
    assert exchange.open_orders() == []  # the target went with it
    assert [p[2] for p in protections(store)] == ["FILLED", "CANCELLED"]


def test_graceful_shutdown_cancels_what_rests_unprotective_and_leaves_the_stop_and_target(
    desk, store, clock, exchange, trader
):
    from autotrader.live.models import Execution, OrderRequest
    from autotrader.live.orders import client_order_id
    from autotrader.live.shutdown import cancel_unprotective
    from autotrader.live.venue import order_record
    from autotrader.live.vocabulary import OrderPurpose

    account = live_account(store, clock)
    desk.submit(account, open_btc(exit_plan=PLAN), idempotency_key="guarded")
    left = OrderRequest(
        account_id=account,
        symbol="BTC",
        side="buy",
        qty=D("0.01"),
        limit_price=D("50000"),
        reduce_only=False,
        purpose=OrderPurpose.ENTRY,
        cloid=client_order_id(account, "left-resting"),
        idempotency_key="left-resting",
    )
    oid = exchange.rest_order("BTC", is_buy=True, px="50000", sz="0.01", cloid=left.cloid)
    with store.atomic():
        execution = Execution(str(oid))
        live_repo.record_order(store, order_record(left, Venue.HYPERLIQUID_TESTNET, execution, T0))
    foreign = exchange.rest_order("BTC", is_buy=True, px="40000", sz="0.01", cloid="0x" + "9" * 32)

    assert cancel_unprotective(store, trader, [account]) == [left.cloid]

    resting = {o.oid: o for o in exchange.open_orders()}
    assert oid not in resting
    assert foreign in resting  # not ours: reconciliation reports it, shutdown leaves it
    assert sorted(o.tpsl for o in resting.values() if o.trigger_px) == ["sl", "tp"]


def test_cancelling_a_trigger_the_exchange_already_filled_is_false_not_an_error(
    desk, store, clock, exchange, trader
):
    account = live_account(store, clock)
    desk.submit(account, open_btc(exit_plan={"stop": "59000"}), idempotency_key="filled-stop")
    [stop] = [o for o in exchange.placed_orders() if o.trigger_px]
    exchange.set_price("BTC", "58900")  # the exchange fills the stop
    assert exchange.orders[stop.oid].status == "filled"
    assert trader.cancel("BTC", str(stop.oid)) is False


def test_adding_to_a_position_whose_stop_fired_unseen_books_the_fill_it_sent(
    desk, store, clock, exchange
):
    account = live_account(store, clock)
    desk.submit(account, open_btc(exit_plan={"stop": "59000"}), idempotency_key="first")
    exchange.set_price("BTC", "58900")  # the stop fires; no reconciliation has seen it yet
    exchange.set_price("BTC", "60000")
    added = desk.submit(account, open_btc(exit_plan={"stop": "59000"}), idempotency_key="more")
    assert added.accepted, added.reason
    [order] = live_repo.orders(store, account, limit=1)
    assert (order["outcome"], order["filled_qty"]) == ("FILLED", D("0.01"))  # not rolled back
