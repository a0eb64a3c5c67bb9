"""Property tests: random intents interleaved with random price paths and mark-to-market passes
never break the engine's invariants.

Each example gets a fresh store. A step is an OPEN (long/short, size, leverage — sometimes
beyond the limits —, an exit plan, sometimes on the wrong side), a CLOSE (full or partial), an
UPDATE_EXIT_PLAN, or a market move: a jump in time (with funding observations), a few bars of a
random walk with wicks, then mark-to-market, run twice to check it is idempotent. After every
step the invariants are checked against the database.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autotrader.bootstrap import open_store, precision
from autotrader.core.clock import SimulatedClock, iso_utc
from autotrader.core.settings import load_settings
from autotrader.market import repo as market_repo
from autotrader.prop import repo as prop_repo
from autotrader.prop.accounts import account_state, open_account
from autotrader.prop.execution import PropDesk
from autotrader.prop.models import AccountRules, parse_intent
from autotrader.prop.mtm import MarkToMarket
from tests.conftest import examples
from tests.fakes.market import (
    MINUTE,
    bar,
    dump_prop_tables,
    ensure_registry,
    seed_candles,
    seed_funding,
)

T0 = 1_700_000_040_000
START = D(10_000)
RULES = AccountRules(
    max_leverage=10,
    max_position_notional=D(3000),
    max_open_positions=2,
    max_daily_trades=12,
    max_drawdown=D("0.5"),
    slippage_bps=D(5),
    taker_fee=D("0.00045"),
)
START_PRICES = {"ADA": 2.0, "SOL": 100.0}
SYMBOLS = tuple(START_PRICES)

_symbol = st.sampled_from(SYMBOLS)
_fraction = st.floats(min_value=0.002, max_value=0.3)
_open = st.tuples(
    st.just("open"),
    _symbol,
    st.sampled_from(["LONG", "SHORT"]),
    st.integers(min_value=5, max_value=3500),  # notional USD; above 3000 is rejected
    st.integers(min_value=1, max_value=12),  # leverage; above 10 is rejected
    st.one_of(st.none(), _fraction),  # stop distance
    st.one_of(st.none(), _fraction),  # target distance
    st.booleans(),  # put the stop on the wrong side
    st.one_of(st.none(), st.integers(min_value=1, max_value=180)),  # time exit, minutes ahead
)
_close = st.tuples(st.just("close"), _symbol, st.one_of(st.none(), st.floats(0.05, 1.2)))
_update = st.tuples(st.just("update"), _symbol, _fraction, st.one_of(st.none(), _fraction))
_move = st.tuples(
    st.just("move"),
    st.integers(min_value=0, max_value=150),  # minutes skipped before the bars
    st.lists(st.floats(min_value=-0.12, max_value=0.12), min_size=1, max_size=4),  # returns
    st.floats(min_value=0, max_value=0.08),  # wick size
    # Hourly funding rate observed in the gap, in 1e-8 steps as exchanges publish them (a
    # 17-digit float rate would push ledger amounts past Decimal's 28 significant digits).
    st.integers(min_value=-100_000, max_value=100_000).map(lambda n: n / 100_000_000),
)
_steps = st.lists(st.one_of(_open, _open, _close, _update, _move, _move), min_size=6, max_size=24)


def _price_text(value: float) -> str:
    return str(D(repr(round(max(value, 0.0001), 4))))


class World:
    """One store, one account, a clock and the current price per symbol."""

    def __init__(self, path) -> None:
        self.store = open_store(load_settings(), path=path)
        self.clock = SimulatedClock(T0)
        ensure_registry(self.store, self.clock)
        prec = precision(self.store, self.clock)
        self.desk = PropDesk(self.store, self.clock, prec)
        self.mtm = MarkToMarket(self.store, self.clock, prec)
        self.account = open_account(
            self.store, self.clock, clone_id=1, kind="sandbox", starting_balance=START, rules=RULES
        )
        self.prices = dict(START_PRICES)
        self.next_bar = T0
        self._bars([0.0], 0.0)

    def _bars(self, returns: list[float], wick: float) -> None:
        for symbol in SYMBOLS:
            candles, price = [], self.prices[symbol]
            for i, r in enumerate(returns):
                close = round(price * (1 + r), 4)
                high = round(max(price, close) * (1 + wick), 4)
                low = round(min(price, close) * (1 - wick), 4)
                candles.append(bar(symbol, self.next_bar + i * MINUTE, price, high, low, close))
                price = close
            seed_candles(self.store, self.clock, candles)
            self.prices[symbol] = price
        self.next_bar += len(returns) * MINUTE
        self.clock.set(self.next_bar)  # the newest bar has just closed: its close is fresh

    def step(self, step: tuple) -> None:
        kind = step[0]
        if kind == "move":
            self.move(*step[1:])
        else:
            self.desk.submit(self.account, parse_intent(self.intent(step)))

    def intent(self, step: tuple) -> dict:
        kind, symbol = step[0], step[1]
        price = self.prices[symbol]
        if kind == "open":
            _, _, side, notional, leverage, stop, target, wrong, minutes = step
            sign = 1 if side == "LONG" else -1
            plan = {}
            if minutes is not None:
                plan["time_exit"] = iso_utc(self.clock.now_ms() + minutes * MINUTE)
            if stop is not None:
                plan["stop"] = _price_text(price * (1 - sign * stop * (-1 if wrong else 1)))
            if target is not None:
                plan["target"] = _price_text(price * (1 + sign * target))
            return {
                "action": "OPEN",
                "symbol": symbol,
                "side": side,
                "notional_usd": str(notional),
                "leverage": leverage,
                "exit_plan": plan or None,
            }
        if kind == "close":
            payload = {"action": "CLOSE", "symbol": symbol}
            open_qty = self._open_qty(symbol)
            if step[2] is not None and open_qty:
                payload["qty"] = str((open_qty * D(repr(step[2]))).quantize(D("0.01")) or D(1))
            return payload
        side = self._open_side(symbol) or "LONG"
        sign = 1 if side == "LONG" else -1
        plan = {"stop": _price_text(price * (1 - sign * step[2]))}
        if step[3] is not None:
            plan["target"] = _price_text(price * (1 + sign * step[3]))
        return {"action": "UPDATE_EXIT_PLAN", "symbol": symbol, "exit_plan": plan}

    def _open_row(self, symbol: str) -> dict | None:
        rows = prop_repo.open_positions(self.store, self.account)
        return next((r for r in rows if r["symbol"] == symbol), None)

    def _open_qty(self, symbol: str) -> D | None:
        row = self._open_row(symbol)
        return row["qty"] if row else None

    def _open_side(self, symbol: str) -> str | None:
        row = self._open_row(symbol)
        return row["side"] if row else None

    def move(self, skip: int, returns: list[float], wick: float, rate: float) -> None:
        if skip:
            gap_start = self.next_bar
            self.next_bar += skip * MINUTE
            for symbol in SYMBOLS:
                times = range(gap_start, self.next_bar, 20 * MINUTE)
                seed_funding(self.store, symbol, [(t, rate, self.prices[symbol]) for t in times])
        self._bars(returns, wick)
        self.mtm.run()
        once = dump_prop_tables(self.store)
        self.mtm.run()
        assert dump_prop_tables(self.store) == once, "a second pass in the same minute changed"


def check_invariants(world: World) -> None:
    store, account = world.store, world.account
    entries = store.query(
        "SELECT * FROM ledger_entries WHERE account_id = ? ORDER BY id", (account,)
    )
    assert entries[0]["kind"] == "DEPOSIT"
    assert D(entries[0]["amount"]) == START
    running = D(0)
    for entry in entries:
        running += D(entry["amount"])
        assert D(entry["balance_after"]) == running, "balance_after chain broken"
    balance = prop_repo.balance(store, account)
    assert balance == running == START + sum((D(e["amount"]) for e in entries[1:]), D(0))
    assert balance > 0

    state = account_state(store, account, world.clock.now_ms())
    assert state.balance == balance
    assert state.equity == state.cash + state.margin_used + state.unrealized_pnl
    assert state.margin_used == sum((p.row["margin"] for p in state.positions), D(0))

    positions = prop_repo.positions(store, account_id=account)
    for p in positions:
        if p["status"] == "OPEN":
            assert p["qty"] > 0
            assert p["margin"] > 0
            assert p["leverage"] <= RULES.max_leverage
        else:
            assert p["qty"] == 0
            assert p["margin"] == 0
            assert p["close_trigger"]
    assert len([p for p in positions if p["status"] == "OPEN"]) <= RULES.max_open_positions
    _check_fills(store, positions)
    _check_ledger_matches_positions(entries, positions, store)


def _check_fills(store, positions: list[dict]) -> None:
    rows = store.query(
        "SELECT f.*, o.purpose, o.created_at AS ordered_at, i.status AS intent_status,"
        " i.payload FROM prop_fills f JOIN prop_orders o ON o.id = f.order_id"
        " JOIN prop_intents i ON i.id = o.intent_id ORDER BY f.id"
    )
    opens_per_day: Counter = Counter()
    for row in rows:
        assert row["intent_status"] == "accepted"
        fee, notional = D(row["fee"]), D(row["notional"])
        assert fee >= 0
        assert fee == notional * D(row["fee_rate"])
        assert notional == D(row["qty"]) * D(row["price"])
        if row["purpose"] == "OPEN":
            assert notional <= RULES.max_position_notional
            leverage = parse_intent(row["payload"]).leverage
            asset = market_repo.get_asset(store, row["symbol"])
            assert leverage <= min(RULES.max_leverage, asset.max_leverage)
            opens_per_day[row["ordered_at"] // 86_400_000] += 1
    assert all(n <= RULES.max_daily_trades for n in opens_per_day.values())


def _check_ledger_matches_positions(entries: list[dict], positions: list[dict], store) -> None:
    by_kind: dict[str, D] = {}
    for entry in entries:
        by_kind[entry["kind"]] = by_kind.get(entry["kind"], D(0)) + D(entry["amount"])
    assert by_kind.get("REALIZED_PNL", D(0)) == sum((p["realized_pnl"] for p in positions), D(0))
    assert by_kind.get("FUNDING", D(0)) == sum((p["funding_paid"] for p in positions), D(0))
    fees = list(store.tuples("SELECT fee FROM prop_fills"))
    assert -by_kind.get("FEE", D(0)) == sum((D(f[0]) for f in fees), D(0))
    assert by_kind.get("FEE", D(0)) == -sum((p["fees_paid"] for p in positions), D(0))
    assert by_kind.get("LIQUIDATION", D(0)) <= 0


@pytest.mark.slow
@settings(
    max_examples=examples(25),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=_steps)
def test_random_intents_and_price_paths_never_break_the_invariants(tmp_path_factory, steps):
    world = World(tmp_path_factory.mktemp("prop") / "p.db")
    try:
        check_invariants(world)
        for step in steps:
            world.step(step)
            check_invariants(world)
    finally:
        world.store.close()
