"""The backtest's in-memory driver against the live driver (the decision runner and
mark-to-market under a replay clock) on the same bundled history: the same intents, orders,
fills, positions and ledger entries, entry for entry."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autotrader.backtest.runs import BacktestSpec, ledger_sha256, plan_backtest, run_backtest
from autotrader.core.clock import MINUTE_MS, SimulatedClock
from autotrader.prop.factory import precision
from autotrader.prop.mtm import MarkToMarket
from tests.fakes.decisions import (
    CLONE_ID,
    HOUR,
    copy_store,
    make_runner,
    market_template,
    open_test_store,
    replay_end,
    replay_start,
    sandbox_account,
)
from tests.fakes.market import seed_funding

STEP = 5 * MINUTE_MS  # the bundled candles are 5m bars
SINCE = replay_start()
UNTIL = replay_end() - HOUR  # the last forming hour is left out: live keeps it, a replay must not

# Bookkeeping live rewrites on every pass and a backtest writes once at the end, and the keys
# naming the decision run that does not exist in a backtest store.
_NOT_COMPARED = {
    "prop_intents": {"decision_run_id", "idempotency_key"},
    "prop_orders": set(),
    "prop_fills": {"idempotency_key"},
    "positions": {"last_mark_price", "last_mark_at", "updated_at"},
    "ledger_entries": {"decision_run_id", "idempotency_key"},
}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return market_template(tmp_path_factory)


@pytest.fixture(scope="module")
def funded(template, tmp_path_factory):
    """The template with hourly funding observations (every other one without an oracle or
    mark price, so a payment falls back to the position's last mark)."""
    path = copy_store(template, tmp_path_factory.mktemp("funded") / "funded.db")
    store = open_test_store(path)
    for symbol, price in (("BTC", 67_000.0), ("ETH", 1_950.0)):
        hours = range(SINCE - HOUR, UNTIL, HOUR)
        rates = [(h + 30 * MINUTE_MS, 0.0001 * (-1) ** n, price if n % 2 else None)
                 for n, h in enumerate(hours)]  # fmt: skip
        seed_funding(store, symbol, rates)
    store.close()
    return path


def _rows(store, table: str) -> list[dict]:
    skip = _NOT_COMPARED[table]
    rows = store.query(f"SELECT * FROM {table} ORDER BY id")
    return [{k: v for k, v in row.items() if k not in skip} for row in rows]


def run_live(template, folder):
    """Clone 42 traded by the real workers: every 5 minutes mark-to-market, then a decision
    tick, on a replay clock over the period."""
    store = open_test_store(copy_store(template, folder / "live.db"))
    clock = SimulatedClock(SINCE)
    sandbox_account(store, clock)
    runner = make_runner(store, clock)
    mtm = MarkToMarket(store, clock, precision(store, clock))
    now = SINCE
    while now + STEP <= UNTIL:
        now += STEP
        clock.set(now)
        mtm.run()
        runner.tick()
    return store


def run_in_memory(template, folder, **spec):
    source = open_test_store(copy_store(template, folder / "source.db"))
    target = open_test_store(folder / "backtest.db")
    clock = SimulatedClock(SINCE)
    spec = BacktestSpec(clone_ids=(CLONE_ID,), since_ms=SINCE, until_ms=UNTIL, **spec)
    result = run_backtest(
        plan_backtest(source, spec),
        target,
        precision=precision(source, clock),
        run_id="test-run",
        started_at_ms=0,
    )
    source.close()
    return target, result


def test_the_backtest_books_what_the_live_workers_book_entry_for_entry(template, tmp_path):
    live = run_live(template, tmp_path / "live")
    backtest, result = run_in_memory(template, tmp_path / "backtest")
    try:
        assert result.clones[0].stats.fills > 0, "the period must trade for parity to mean much"
        assert result.clones[0].stats.exits > 0, "and exit on its stops or targets"
        for table in _NOT_COMPARED:
            assert _rows(backtest, table) == _rows(live, table), table
    finally:
        live.close()
        backtest.close()


def test_funding_is_paid_as_the_live_workers_pay_it(funded, tmp_path):
    live = run_live(funded, tmp_path / "live")
    backtest, _result = run_in_memory(funded, tmp_path / "backtest")
    try:
        paid = backtest.query("SELECT COUNT(*) AS n FROM ledger_entries WHERE kind = 'FUNDING'")
        assert paid[0]["n"] > 10
        for table in _NOT_COMPARED:
            assert _rows(backtest, table) == _rows(live, table), table
    finally:
        live.close()
        backtest.close()


def test_the_same_inputs_give_the_same_ledger_hash(template, tmp_path):
    first, a = run_in_memory(template, tmp_path / "a")
    second, b = run_in_memory(template, tmp_path / "b")
    try:
        assert a.ledger_sha256 == b.ledger_sha256 == ledger_sha256(first, now_ms=UNTIL)
        assert len(a.ledger_sha256) == 64
    finally:
        first.close()
        second.close()


def test_a_different_balance_gives_a_different_hash(template, tmp_path):
    first, a = run_in_memory(template, tmp_path / "a")
    second, b = run_in_memory(template, tmp_path / "b", balance=Decimal(20_000))
    first.close()
    second.close()
    assert a.ledger_sha256 != b.ledger_sha256
