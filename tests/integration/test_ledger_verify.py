"""``verify`` on a real engine's store: clean stores pass, each class of tampering is caught.

Tampering goes through a raw connection, as an attacker with the file would: the ledger's
append-only triggers are dropped first, foreign keys switched off where the engine's schema
would refuse the edit, a UNIQUE constraint removed by rebuilding the table.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest
from hypothesis import HealthCheck, given, settings

from autotrader.core.errors import NotFoundError, OperationalError
from autotrader.ledger.verify import CHECKS, verify_ledger
from tests.conftest import examples
from tests.fakes.ledger_scenario import build_scenario_file, open_copy
from tests.fakes.market import dump_prop_tables


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_scenario_file(tmp_path_factory.mktemp("ledger-verify"))


@pytest.fixture
def store(built, tmp_path):
    store = open_copy(built[0], tmp_path)
    yield store
    store.close()


def tamper(store, *statements: str, foreign_keys: bool = True) -> None:
    """Run raw SQL on the store's file from a second connection, triggers dropped first."""
    with closing(sqlite3.connect(store.path, isolation_level=None)) as conn:
        conn.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        conn.execute("DROP TRIGGER IF EXISTS ledger_entries_append_only_update")
        conn.execute("DROP TRIGGER IF EXISTS ledger_entries_append_only_delete")
        for statement in statements:
            conn.execute(statement)


def checks(report) -> set[str]:
    return {v.check for v in report.violations}


def test_a_clean_engine_store_passes_every_check(store):
    report = verify_ledger(store)
    assert report.ok, report.violations
    assert (report.accounts, report.entries, report.fills, report.positions) == (3, 22, 7, 4)
    assert report.snapshots > 0
    assert report.notes == []  # every fill had its bars to be checked against
    assert report.summary().startswith("ledger OK: 3 accounts, 22 entries")
    assert f"{len(CHECKS)} checks passed" in report.summary()


def test_verify_only_reads(store):
    before = dump_prop_tables(store)
    verify_ledger(store)
    assert dump_prop_tables(store) == before
    assert not store.in_transaction


def test_the_append_only_triggers_hold_without_tampering(store):
    with pytest.raises(OperationalError, match="append-only"):
        store.execute("UPDATE ledger_entries SET amount = '1' WHERE id = 1")


def test_catches_an_edited_amount(store):
    # entry 8 is the FEE of fill 4 (account 1's BTC stop)
    tamper(store, "UPDATE ledger_entries SET amount = '-0.5' WHERE id = 8")
    report = verify_ledger(store)
    assert {"chain", "fill_ledger", "position"} <= checks(report)
    chain = next(v for v in report.violations if v.check == "chain")
    assert chain.account_id == 1
    assert [row["id"] for row in chain.rows] == [7, 8]  # the previous entry and the edited one


def test_catches_a_deleted_entry(store):
    tamper(store, "DELETE FROM ledger_entries WHERE id = 14")  # account 2's REALIZED_PNL
    report = verify_ledger(store)
    assert {"chain", "position"} <= checks(report)
    assert any("realized_pnl" in v.message for v in report.violations)


def test_catches_a_deleted_last_entry_although_the_chain_still_adds_up(store):
    tamper(store, "DELETE FROM ledger_entries WHERE id = 22")  # account 2's newest FUNDING
    report = verify_ledger(store)
    assert "chain" not in checks(report)
    assert {"position", "snapshot"} <= checks(report)


def test_catches_a_broken_balance_chain(store):
    tamper(store, "UPDATE ledger_entries SET balance_after = '9999' WHERE id = 12")
    report = verify_ledger(store)
    assert "chain" in checks(report)
    breaks = [v for v in report.violations if v.check == "chain"]
    # the edited entry and the one after it both disagree with their predecessor
    assert {v.rows[-1]["id"] for v in breaks} == {12, 13}


def test_catches_a_duplicated_fill(store):
    tamper(
        store,
        "INSERT INTO prop_intents (account_id, origin, decision_run_id, symbol, action, payload,"
        " status, reject_code, gate_results, idempotency_key, created_at)"
        " SELECT account_id, origin, decision_run_id, symbol, action, payload, status,"
        " reject_code, gate_results, 'copy', created_at FROM prop_intents WHERE id = 8",
        "INSERT INTO prop_orders (account_id, intent_id, symbol, side, purpose, type, qty,"
        " status, trigger, created_at) SELECT account_id, (SELECT MAX(id) FROM prop_intents),"
        " symbol, side, purpose, type, qty, status, trigger, created_at FROM prop_orders"
        " WHERE id = 7",
        "INSERT INTO prop_fills (account_id, order_id, position_id, symbol, side, qty, price,"
        " reference_price, slippage_bps, notional, fee, fee_rate, idempotency_key, created_at)"
        " SELECT account_id, (SELECT MAX(id) FROM prop_orders), position_id, symbol, side, qty,"
        " price, reference_price, slippage_bps, notional, fee, fee_rate, 'copy', created_at"
        " FROM prop_fills WHERE id = 7",
    )
    report = verify_ledger(store)
    assert {"position", "fill_ledger"} <= checks(report)
    assert any("net of its fills" in v.message for v in report.violations)


def test_catches_a_fill_without_an_order(store):
    tamper(
        store,
        "INSERT INTO prop_fills (account_id, order_id, position_id, symbol, side, qty, price,"
        " reference_price, slippage_bps, notional, fee, fee_rate, idempotency_key, created_at)"
        " VALUES (2, 999, 4, 'ETH', 'BUY', '0', '1', '1', '0', '0', '0', '0', 'ghost', 1)",
        foreign_keys=False,
    )
    report = verify_ledger(store)
    assert "fill_order" in checks(report)
    ghost = next(v for v in report.violations if v.check == "fill_order")
    assert ghost.rows[0]["order_id"] == 999


def test_catches_a_fill_whose_intent_is_gone(store):
    tamper(store, "DELETE FROM prop_intents WHERE id = 8", foreign_keys=False)
    assert "fill_intent" in checks(verify_ledger(store))


def test_catches_an_idempotency_key_used_twice(store):
    (sql,) = next(store.tuples("SELECT sql FROM sqlite_master WHERE name = 'prop_fills'"), None)
    unguarded = sql.replace("idempotency_key TEXT NOT NULL UNIQUE", "idempotency_key TEXT NOT NULL")
    assert unguarded != sql
    tamper(
        store,
        unguarded.replace("CREATE TABLE prop_fills", "CREATE TABLE prop_fills_new"),
        "INSERT INTO prop_fills_new SELECT * FROM prop_fills",
        "DROP TABLE prop_fills",
        "ALTER TABLE prop_fills_new RENAME TO prop_fills",
        "UPDATE prop_fills SET idempotency_key = (SELECT idempotency_key FROM prop_fills"
        " WHERE id = 1) WHERE id = 2",
        foreign_keys=False,
    )
    report = verify_ledger(store)
    assert "idempotency" in checks(report)
    assert any("prop_fills" in v.message for v in report.violations)


def test_catches_a_typed_key_moved_out_of_its_accounts_namespace(store):
    (intent_id, fill_id) = next(
        store.tuples(
            "SELECT i.id, f.id FROM prop_intents i JOIN prop_orders o ON o.intent_id = i.id"
            " JOIN prop_fills f ON f.order_id = o.id WHERE i.origin = 'manual'"
            " AND i.idempotency_key IS NOT NULL ORDER BY i.id LIMIT 1"
        )
    )
    planted = "trigger:99:STOP"  # the key the stop of a position 99 would need
    tamper(
        store,
        f"UPDATE prop_intents SET idempotency_key = '{planted}' WHERE id = {intent_id}",
        f"UPDATE prop_fills SET idempotency_key = '{planted}' WHERE id = {fill_id}",
    )
    report = verify_ledger(store)
    assert checks(report) == {"idempotency"}
    [violation] = report.violations
    assert f"intent {intent_id}: key '{planted}' is outside the namespace" in violation.message


def test_catches_a_fill_whose_key_is_not_its_intents(store):
    tamper(store, "UPDATE prop_fills SET idempotency_key = 'someone-else' WHERE id = 1")
    report = verify_ledger(store)
    assert checks(report) == {"idempotency"}
    assert "fill 1: key 'someone-else' is not its intent's 'intent:" in report.violations[0].message


def test_catches_a_snapshot_that_disagrees_with_the_ledger(store):
    tamper(
        store,
        "UPDATE account_snapshots SET balance = '123' WHERE id = (SELECT MAX(id) FROM"
        " account_snapshots WHERE account_id = 2)",
    )
    report = verify_ledger(store)
    assert checks(report) == {"snapshot"}


def test_catches_a_deposit_that_is_not_the_starting_balance(store):
    tamper(store, "UPDATE prop_accounts SET starting_balance = '20000' WHERE id = 1")
    assert checks(verify_ledger(store)) == {"deposit"}


def test_catches_a_position_that_is_not_the_net_of_its_fills(store):
    tamper(store, "UPDATE positions SET qty = '1' WHERE id = 4")
    assert checks(verify_ledger(store)) == {"position"}


# -- fill prices ----------------------------------------------------------------------------------


def test_catches_a_fill_price_outside_the_bar_it_was_filled_against(store):
    tamper(store, "UPDATE prop_fills SET price = '70000' WHERE id = 1")  # BTC traded near 66,400
    report = verify_ledger(store)
    assert checks(report) == {"fill_price"}
    [violation] = report.violations
    assert violation.account_id == 1
    assert violation.message.startswith("fill 1 (BUY BTC at 2026-")
    assert "price 70000 outside the bars it was filled against" in violation.message


def test_a_fill_price_is_checked_when_its_account_is_verified_alone(store):
    tamper(store, "UPDATE prop_fills SET price = '70000' WHERE id = 1")
    assert checks(verify_ledger(store, account_id=1)) == {"fill_price"}
    assert verify_ledger(store, account_id=2).ok


def test_catches_a_stop_fill_moved_beyond_every_bar_since_the_position_opened(store):
    tamper(store, "UPDATE prop_fills SET price = '60000' WHERE id = 4")  # account 1's BTC stop
    report = verify_ledger(store)
    assert checks(report) == {"fill_price"}
    assert report.violations[0].rows == [{"id": 4, "account_id": 1, "trigger": "STOP"}]


def test_a_fill_without_stored_bars_is_a_note_not_a_violation(store):
    tamper(store, "DELETE FROM candles WHERE symbol = 'ETH'")
    report = verify_ledger(store)
    assert report.ok, report.violations
    assert report.notes == [
        "fill_price: 3 fill(s) of ETH not checked: no 1m/5m bar of ETH had closed by their time"
        " in the store"
    ]


# -- position state -----------------------------------------------------------------------------


def test_catches_a_closed_position_reopened(store):
    tamper(store, "UPDATE positions SET status = 'OPEN' WHERE id = 3")
    report = verify_ledger(store)
    assert checks(report) == {"position_state"}
    assert "position 3 is OPEN, but its fills net to 0 and it closed at" in (
        report.violations[0].message
    )


def test_catches_a_reopened_position_given_its_quantity_back(store):
    tamper(
        store,
        "UPDATE positions SET status = 'OPEN', qty = max_qty, closed_at = NULL WHERE id = 3",
    )
    assert {"position", "position_state"} <= checks(verify_ledger(store))


def test_catches_an_open_position_closed_without_a_closing_fill(store):
    tamper(store, "UPDATE positions SET status = 'CLOSED', qty = '0' WHERE id = 4")
    report = verify_ledger(store)
    assert {"position", "position_state"} <= checks(report)
    assert any("has no close time" in v.message for v in report.violations)


# -- times --------------------------------------------------------------------------------------

YEAR_10000 = 253_402_300_800_000


@pytest.mark.parametrize(
    ("statement", "found"),
    [
        (f"UPDATE ledger_entries SET created_at = {YEAR_10000} WHERE id = 22", {"time_range"}),
        ("UPDATE ledger_entries SET created_at = -1 WHERE id = 22", {"time_range", "time_order"}),
        (f"UPDATE account_snapshots SET time = {YEAR_10000} WHERE id = 1", {"time_range"}),
    ],
    ids=["entry-in-year-10000", "negative-entry-time", "snapshot-in-year-10000"],
)
def test_catches_times_outside_2000_to_2100(store, statement, found):
    tamper(store, statement)
    report = verify_ledger(store)
    assert checks(report) == found
    assert any("outside 2000…2100" in v.message for v in report.violations)


def test_catches_an_intent_dated_in_year_10000(store):
    tamper(store, f"UPDATE prop_intents SET created_at = {YEAR_10000} WHERE id = 1")
    report = verify_ledger(store)
    assert {"time_range", "time_order"} == checks(report)  # and now after its own fill
    assert any(v.message.startswith("prop_intents 1: dated") for v in report.violations)


def test_catches_an_entry_dated_before_the_entry_before_it(store):
    tamper(store, "UPDATE ledger_entries SET created_at = 1771442400000 WHERE id = 22")
    report = verify_ledger(store)
    assert checks(report) == {"time_order"}
    assert [row["id"] for row in report.violations[0].rows] == [21, 22]


def test_catches_a_fill_dated_apart_from_its_order(store):
    tamper(store, "UPDATE prop_fills SET created_at = created_at + 1000 WHERE id = 6")
    report = verify_ledger(store)
    assert checks(report) == {"time_order"}
    messages = [v.message for v in report.violations]
    assert any(m.startswith("fill 6 at ") and "its order is dated" in m for m in messages)
    assert any(m.startswith("position 3 opened at") for m in messages)  # closed before it


def test_catches_a_position_opened_before_its_first_fill(store):
    tamper(store, "UPDATE positions SET opened_at = opened_at - 3600000 WHERE id = 4")
    report = verify_ledger(store)
    assert checks(report) == {"time_order"}
    assert report.violations[0].message.startswith("position 4 opened at")


def test_one_account_is_checked_alone(store):
    tamper(store, "UPDATE ledger_entries SET amount = '-0.5' WHERE id = 8")  # account 1
    assert verify_ledger(store, account_id=2).ok
    report = verify_ledger(store, account_id=1)
    assert not report.ok
    assert report.accounts == 1


def test_an_unknown_account_is_not_found(store):
    with pytest.raises(NotFoundError):
        verify_ledger(store, account_id=99)


# -- every scenario the prop property tests generate ---------------------------------------------


def _property_world():
    from tests.integration import test_prop_properties as prop_properties

    return prop_properties.World, prop_properties._steps


World, _steps = _property_world()


@pytest.mark.slow
@settings(
    max_examples=examples(15),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=_steps)
def test_verify_passes_on_random_engine_histories(tmp_path_factory, steps):
    world = World(tmp_path_factory.mktemp("verify") / "p.db")
    try:
        for step in steps:
            world.step(step)
        report = verify_ledger(world.store)
        assert report.ok, [(v.check, v.message) for v in report.violations]
    finally:
        world.store.close()
