"""Idempotency keys on a real store: a caller's key lives in its account's and origin's
namespace, so no typed key can take a key a stop or a decision run relies on; the same intent
under the same key replays, another intent under it is a conflict that changes nothing."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from decimal import Decimal as D

import pytest

from autotrader.bootstrap import precision
from autotrader.core.errors import ConflictError
from autotrader.prop import repo as prop_repo
from autotrader.prop.accounts import open_account
from autotrader.prop.execution import PropDesk
from autotrader.prop.models import AccountRules, parse_intent
from autotrader.prop.mtm import MarkToMarket
from autotrader.schema import MIGRATION_SETS
from tests.fakes.market import MINUTE, bar, dump_prop_tables, ensure_registry, seed_candles

T0 = 1_700_000_040_000  # on the 1m grid
RULES = AccountRules(slippage_bps=D(0), taker_fee=D("0.0025"))
ADA_LONG = {"action": "OPEN", "symbol": "ADA", "side": "LONG", "qty": "30"}


@pytest.fixture
def desk(store, clock) -> PropDesk:
    clock.set(T0)
    ensure_registry(store, clock)
    seed_candles(store, clock, [bar("ADA", T0 - MINUTE, 2.0, 2.0, 2.0, 2.0)])
    return PropDesk(store, clock, precision(store, clock))


def account(store, clock) -> int:
    return open_account(
        store, clock, clone_id=7, kind="sandbox", starting_balance=D(10_000), rules=RULES
    )


def intent(**changes):
    return parse_intent({**ADA_LONG, **changes})


def test_a_typed_key_shaped_like_a_stop_key_does_not_disarm_the_stop(desk, store, clock):
    trader, other = account(store, clock), account(store, clock)
    opened = desk.submit(trader, intent(exit_plan={"stop": "1.9"}))
    position = opened.booked.position_id
    planted = f"trigger:{position}:STOP"  # the key mark-to-market gives this stop's close
    assert desk.submit(other, intent(), idempotency_key=planted).accepted
    seed_candles(store, clock, [bar("ADA", T0, 2.0, 2.0, 1.8, 1.85)])
    clock.set(T0 + MINUTE)

    report = MarkToMarket(store, clock, precision(store, clock)).run()

    assert report.exits == {"STOP": 1}
    assert report.accounts == 2
    row = prop_repo.get_position(store, position)
    assert (row["status"], row["close_trigger"]) == ("CLOSED", "STOP")


def test_a_typed_key_shaped_like_a_run_key_is_not_taken_for_that_runs_trade(desk, store, clock):
    person, clone = account(store, clock), account(store, clock)
    manual = desk.submit(person, intent(), idempotency_key="run:1:0")

    decided = desk.submit(
        clone, intent(), origin="decision", idempotency_key="run:1:0", decision_run_id=1
    )

    assert not decided.replayed
    assert decided.intent_id != manual.intent_id
    assert decided.fill["account_id"] == clone
    assert prop_repo.fills_for_intent(store, manual.intent_id)["account_id"] == person


def test_the_same_key_on_another_account_is_another_order(desk, store, clock):
    first, second = account(store, clock), account(store, clock)
    one = desk.submit(first, intent(), idempotency_key="k")
    two = desk.submit(second, intent(), idempotency_key="k")
    assert (one.replayed, two.replayed) == (False, False)
    assert (one.fill["account_id"], two.fill["account_id"]) == (first, second)


def test_a_caller_cannot_submit_under_a_system_origin(desk, store, clock):
    with pytest.raises(ValueError, match="system"):
        desk.submit(account(store, clock), intent(), origin="trigger", idempotency_key="7:STOP")


@pytest.mark.parametrize(
    ("changes", "differs"),
    [
        ({"symbol": "SOL", "qty": "1"}, "qty, symbol"),
        ({"side": "SHORT"}, "side"),
        ({"qty": "31"}, "qty"),
        ({"leverage": 2}, "leverage"),
    ],
)
def test_a_key_reused_for_another_order_is_a_conflict_that_changes_nothing(
    desk, store, clock, changes, differs
):
    trader = account(store, clock)
    first = desk.submit(trader, intent(), idempotency_key="order-1")
    before = dump_prop_tables(store)

    with pytest.raises(ConflictError) as refused:
        desk.submit(trader, intent(**changes), idempotency_key="order-1")

    message = str(refused.value)
    assert "'order-1'" in message
    assert f"intent {first.intent_id} (OPEN ADA LONG)" in message
    assert f"differs in {differs}" in message
    assert dump_prop_tables(store) == before


def test_the_same_order_under_the_same_key_replays_its_fill(desk, store, clock):
    trader = account(store, clock)
    first = desk.submit(trader, intent(), idempotency_key="order-1")
    again = desk.submit(trader, intent(), idempotency_key="order-1")
    assert again.replayed
    assert again.fill == first.fill


# -- stores written before keys were scoped --------------------------------------------------------


def _as_an_older_version_left_it(store, statements: list[str]) -> None:
    """Rewrite rows as the previous release stored them and forget the migration since."""
    with closing(sqlite3.connect(store.path, isolation_level=None)) as conn:
        for statement in statements:
            conn.execute(statement)
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm006_scope_caller_keys'")


def test_the_migration_moves_earlier_keys_into_their_namespace_and_frees_the_stop(
    desk, store, clock
):
    from autotrader.core.db import Store

    trader, other = account(store, clock), account(store, clock)
    position = desk.submit(trader, intent(exit_plan={"stop": "1.9"})).booked.position_id
    planted = desk.submit(other, intent(), idempotency_key="planted")
    retried = desk.submit(other, intent(qty="5"), idempotency_key="retry-me")
    _as_an_older_version_left_it(
        store,
        [
            # the unscoped keys the previous release stored, a planted stop key among them
            f"UPDATE prop_intents SET idempotency_key = 'trigger:{position}:STOP'"
            f" WHERE id = {planted.intent_id}",
            f"UPDATE prop_fills SET idempotency_key = 'trigger:{position}:STOP'"
            f" WHERE id = {planted.fill['id']}",
            f"UPDATE prop_intents SET idempotency_key = 'retry-me' WHERE id = {retried.intent_id}",
            f"UPDATE prop_fills SET idempotency_key = 'retry-me' WHERE id = {retried.fill['id']}",
        ],
    )
    store.close()
    store = Store(store.path, migrations=MIGRATION_SETS)
    try:
        keys = dict(store.tuples("SELECT id, idempotency_key FROM prop_intents"))
        assert keys[planted.intent_id] == f"manual:{other}:trigger:{position}:STOP"
        assert keys[retried.intent_id] == f"manual:{other}:retry-me"
        fill_keys = dict(store.tuples("SELECT id, idempotency_key FROM prop_fills"))
        assert fill_keys[retried.fill["id"]] == f"manual:{other}:retry-me"
        desk = PropDesk(store, clock, precision(store, clock))
        assert desk.submit(other, intent(qty="5"), idempotency_key="retry-me").replayed
        seed_candles(store, clock, [bar("ADA", T0, 2.0, 2.0, 1.8, 1.85)])
        clock.set(T0 + MINUTE)
        assert MarkToMarket(store, clock, precision(store, clock)).run().exits == {"STOP": 1}
    finally:
        store.close()
