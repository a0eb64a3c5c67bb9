"""The decision loop on a busy store: a lock timeout (``TemporaryError``) anywhere in a run's
path puts the run back in the queue as it was — no attempt counted, no HOLD, no failure
recorded — and fails the tick with that error, so the worker backs off; a later tick decides
the run as if for the first time."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from autotrader.core.db import Store
from autotrader.core.errors import TemporaryError
from autotrader.decisions.engines.base import EngineResult
from autotrader.prop.models import Action, Side, TradeIntent
from autotrader.schema import MIGRATION_SETS
from tests.fakes.decisions import CLONE_ID, count, make_runner, market_template, runs, world

BUSY = "the database is busy (database is locked); try again"


@pytest.fixture
def w(tmp_path, tmp_path_factory):
    made = world(market_template(tmp_path_factory), tmp_path)
    yield made
    made.store.close()


def open_long(symbol: str) -> TradeIntent:
    return TradeIntent(
        action=Action.OPEN, symbol=symbol, side=Side.LONG, notional_usd="500", leverage=2
    )


class Opening:
    """Opens the decided asset; ``on_decide`` runs first (a busy store, a lock taken)."""

    name = "rules"

    def __init__(self, on_decide=lambda: None, *, concurrent: bool = False) -> None:
        self.on_decide = on_decide
        self.concurrent = concurrent

    def decide(self, request):
        self.on_decide()
        return EngineResult([open_long(request.symbol)], notes="open")


class BusyDesk:
    """A desk whose every booking times out on the write lock."""

    def submit(self, *args, **kwargs):
        raise TemporaryError(BUSY)


def _raise_busy(*args, **kwargs):
    raise TemporaryError(BUSY)


def untouched(store) -> None:
    """Every run is queued as before its claim, and nothing was decided or booked."""
    assert [(r["status"], r["attempts"], r["claimed_by"]) for r in runs(store)] == [
        ("queued", 0, None)
    ] * 2
    assert count(store, "SELECT COUNT(*) FROM decision_actions") == 0
    assert count(store, "SELECT COUNT(*) FROM prop_intents") == 0


def decided_once(store, outcome) -> None:
    assert [r.status for r in outcome.runs] == ["succeeded", "succeeded"]
    assert [(r["status"], r["attempts"]) for r in runs(store)] == [("succeeded", 1)] * 2
    statuses = store.query("SELECT status FROM decision_actions ORDER BY id")
    assert statuses == [{"status": "executed"}] * 2
    assert count(store, "SELECT COUNT(*) FROM prop_fills") == 2


def test_a_lock_timeout_while_booking_puts_the_runs_back_untouched(w):
    runner = make_runner(w.store, w.clock)
    runner.engines = {**runner.engines, "rules": Opening()}
    desk, runner.desk = runner.desk, BusyDesk()

    with pytest.raises(TemporaryError, match="2 decision runs put back in the queue"):
        runner.tick(clone_id=CLONE_ID)

    untouched(w.store)
    runner.desk = desk
    decided_once(w.store, runner.tick(clone_id=CLONE_ID))


def test_a_lock_timeout_while_building_the_request_is_no_hold(w):
    runner = make_runner(w.store, w.clock)
    runner.build_request = _raise_busy

    with pytest.raises(TemporaryError, match=r"database is busy .*put back in the queue"):
        runner.tick(clone_id=CLONE_ID)

    untouched(w.store)


def test_a_lock_timeout_inside_a_model_backed_engine_is_no_hold(w):
    runner = make_runner(w.store, w.clock)
    runner.engines = {**runner.engines, "rules": Opening(_raise_busy, concurrent=True)}

    with pytest.raises(TemporaryError, match="put back in the queue"):
        runner.tick(clone_id=CLONE_ID)

    untouched(w.store)
    runner.engines = {**runner.engines, "rules": Opening(concurrent=True)}
    decided_once(w.store, runner.tick(clone_id=CLONE_ID))


def test_a_write_lock_held_by_another_process_mid_tick_loses_no_run(w):
    store = Store(w.path, migrations=MIGRATION_SETS, busy_timeout_ms=1)
    with closing(sqlite3.connect(w.path, isolation_level=None)) as other_process:

        def take_the_lock() -> None:
            if not other_process.in_transaction:
                other_process.execute("BEGIN IMMEDIATE")

        runner = make_runner(store, w.clock)
        runner.engines = {**runner.engines, "rules": Opening(take_the_lock)}
        try:
            # Booking times out, and so does putting the runs back: they stay claimed by this
            # (live) worker, which gives them back first thing next tick.
            with pytest.raises(TemporaryError, match="to put back in the queue next tick"):
                runner.tick(clone_id=CLONE_ID)
            other_process.execute("ROLLBACK")
            runner.engines = {**runner.engines, "rules": Opening()}

            outcome = runner.tick(clone_id=CLONE_ID)
        finally:
            store.close()

    decided_once(w.store, outcome)
