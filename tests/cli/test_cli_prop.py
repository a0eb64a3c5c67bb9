"""``autotrader prop``: accounts, manual orders through the gates, positions, mark-to-market and
admin, on a store whose candles the test seeds, under the replay clock (``AUTOTRADER_NOW``)."""

from __future__ import annotations

import json
import shlex
from decimal import Decimal as D
from pathlib import Path

import pytest

from autotrader.bootstrap import open_store
from autotrader.clones.management import create_clone
from autotrader.core.clock import SimulatedClock, iso_utc
from autotrader.core.settings import load_settings
from tests.fakes.market import MINUTE, bar, seed_candles, seed_prices

NOW = 1_700_000_040_000  # on the 1m grid
CREATE = shlex.split(
    "prop accounts create --clone-id 42 --kind sandbox --balance 10000 --max-leverage 10"
    " --slippage-bps 5 --taker-fee 0.00045 --maker-fee 0.00015 --json"
)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store with ADA at 2.0 and BTC at 60,000 (bars closed at NOW), the replay clock at NOW."""
    monkeypatch.setenv("AUTOTRADER_NOW", iso_utc(NOW))
    path = tmp_path / "prop.db"
    store = open_store(load_settings(), path=path)
    clock = SimulatedClock(NOW)
    seed_prices(store, clock, "ADA", [2.0], NOW - MINUTE)
    seed_prices(store, clock, "BTC", [60_000.0], NOW - MINUTE)
    create_clone(store, clock, name="momentum", clone_id=42)
    store.close()
    return str(path)


def run(cli, db: str, *args: str):
    return cli(*args, "--db", db)


def ok_json(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def create(cli, db: str) -> int:
    return ok_json(run(cli, db, *CREATE))["id"]


def one_line_error(result, *words: str) -> str:
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output + result.stderr
    for word in words:
        assert word in lines[0]
    return lines[0]


def query(db: str, sql: str, params=()) -> list[dict]:
    store = open_store(load_settings(), path=Path(db))
    try:
        return store.query(sql, params)
    finally:
        store.close()


def order(cli, db: str, account: int, *extra: str):
    return run(cli, db, "prop", "order", "--account", str(account), "--symbol", "ADA", *extra)


# -- accounts ------------------------------------------------------------------------------------


def test_create_prints_the_account_with_its_id_and_rules(cli, db):
    data = ok_json(run(cli, db, *CREATE))
    assert data["id"] == 1
    assert (data["clone_id"], data["kind"], data["status"]) == (42, "sandbox", "active")
    assert D(data["balance"]) == D(10_000) == D(data["equity"])
    rules = data["rules"]
    assert (rules["max_leverage"], D(rules["slippage_bps"])) == (10, D(5))
    assert (D(rules["taker_fee"]), D(rules["maker_fee"])) == (D("0.00045"), D("0.00015"))
    deposit = query(db, "SELECT kind, amount FROM ledger_entries")
    assert deposit == [{"kind": "DEPOSIT", "amount": "10000"}]


def test_list_and_show_report_the_accounts(cli, db):
    first, second = create(cli, db), create(cli, db)
    listed = ok_json(run(cli, db, "prop", "accounts", "list", "--json"))
    assert [a["id"] for a in listed] == [first, second]
    shown = ok_json(run(cli, db, "prop", "accounts", "show", str(second), "--json"))
    assert (shown["id"], shown["positions"]) == (second, [])
    table = run(cli, db, "prop", "accounts", "show", str(second))
    assert table.exit_code == 0
    assert "10,000.00" in table.stdout


# -- orders, closes, positions -------------------------------------------------------------------


def test_an_accepted_order_prints_its_fill_and_opens_a_position(cli, db):
    account = create(cli, db)
    result = order(cli, db, account, "--side", "long", "--qty", "30", "--leverage", "2", "--json")
    data = ok_json(result)
    assert data["accepted"]
    assert data["reject_code"] is None
    fill = data["fill"]
    assert (D(fill["qty"]), D(fill["price"])) == (D(30), D("2.001"))  # 2.0 + 5 bps
    positions = ok_json(run(cli, db, "prop", "positions", "--json"))
    assert [(p["symbol"], p["side"], D(p["qty"])) for p in positions] == [("ADA", "LONG", D(30))]
    assert positions[0]["id"] == data["position_id"]


def test_a_rejected_order_exits_1_and_says_why(cli, db):
    account = create(cli, db)
    result = order(cli, db, account, "--side", "long", "--qty", "30", "--leverage", "11", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert (data["accepted"], data["reject_code"]) == (False, "leverage_above_account_max")
    text = order(cli, db, account, "--side", "short", "--notional", "5")
    assert text.exit_code == 1
    assert "below_min_notional" in text.stdout
    assert query(db, "SELECT COUNT(*) AS n FROM prop_fills") == [{"n": 0}]


def test_close_takes_part_with_qty_then_the_rest(cli, db):
    account = create(cli, db)
    ok_json(order(cli, db, account, "--side", "long", "--qty", "30", "--json"))
    close = ("prop", "close", "--account", str(account), "--symbol", "ADA")
    part = ok_json(run(cli, db, *close, "--qty", "10", "--json"))
    assert D(part["fill"]["qty"]) == D(10)
    remaining = ok_json(run(cli, db, "prop", "positions", "--account", str(account), "--json"))
    assert D(remaining[0]["qty"]) == D(20)
    rest = run(cli, db, *close)
    assert rest.exit_code == 0, rest.stderr
    assert "filled" in rest.stdout
    closed = ok_json(run(cli, db, "prop", "positions", "--status", "closed", "--json"))
    assert [(p["status"], p["close_trigger"]) for p in closed] == [("CLOSED", "MANUAL")]
    assert ok_json(run(cli, db, "prop", "positions", "--json")) == []


def test_an_idempotency_key_replays_instead_of_filling_twice(cli, db):
    account = create(cli, db)
    args = ("--side", "long", "--qty", "30", "--idempotency-key", "manual-1", "--json")
    first = ok_json(order(cli, db, account, *args))
    second = ok_json(order(cli, db, account, *args))
    assert (first["replayed"], second["replayed"]) == (False, True)
    assert query(db, "SELECT COUNT(*) AS n FROM prop_fills") == [{"n": 1}]


def test_refuses_an_idempotency_key_reused_for_another_order(cli, db):
    account = create(cli, db)
    key = ("--idempotency-key", "manual-1", "--json")
    ok_json(order(cli, db, account, "--side", "long", "--qty", "30", *key))
    refused = order(cli, db, account, "--side", "short", "--qty", "30", *key)
    one_line_error(refused, "'manual-1'", "differs in side")
    assert query(db, "SELECT COUNT(*) AS n FROM prop_fills") == [{"n": 1}]


# -- mark-to-market ------------------------------------------------------------------------------


def test_mark_to_market_fires_a_stop_from_the_seeded_bars(cli, db, monkeypatch):
    account = create(cli, db)
    ok_json(order(cli, db, account, "--side", "long", "--qty", "30", "--stop", "1.9", "--json"))
    store = open_store(load_settings(), path=Path(db))
    seed_candles(store, SimulatedClock(NOW), [bar("ADA", NOW + MINUTE, 2.0, 2.0, 1.8, 1.85)])
    store.close()
    monkeypatch.setenv("AUTOTRADER_NOW", iso_utc(NOW + 2 * MINUTE))
    result = run(cli, db, "prop", "mark-to-market")
    assert result.exit_code == 0, result.stderr
    assert "stop=1" in result.stdout
    closed = ok_json(run(cli, db, "prop", "positions", "--status", "closed", "--json"))
    assert closed[0]["close_trigger"] == "STOP"


def test_mark_to_market_loops_for_max_ticks(cli, db):
    create(cli, db)
    result = run(
        cli, db, "prop", "mark-to-market", "--loop", "--max-ticks", "2", "--interval", "0.01"
    )
    assert result.exit_code == 0, result.stderr
    assert "after 2 ticks" in result.stdout
    assert query(db, "SELECT COUNT(*) AS n FROM account_snapshots") == [{"n": 1}]  # same minute


# -- admin ---------------------------------------------------------------------------------------


def _adjustments(db: str) -> list[str]:
    rows = query(db, "SELECT amount, reason FROM ledger_entries WHERE kind = 'ADJUSTMENT'")
    assert all(D(r["amount"]) == 0 for r in rows)
    return [r["reason"] for r in rows]


def test_freeze_blocks_orders_and_unfreeze_lets_them_through(cli, db):
    account = create(cli, db)
    frozen = run(cli, db, "prop", "admin", "freeze", "--account", str(account), "--reason", "kyc")
    assert frozen.exit_code == 0, frozen.stderr
    rejected = order(cli, db, account, "--side", "long", "--qty", "30", "--json")
    assert rejected.exit_code == 1
    assert json.loads(rejected.stdout)["reject_code"] == "account_not_active"
    again = run(cli, db, "prop", "admin", "unfreeze", "--account", str(account), "--reason", "ok")
    assert again.exit_code == 0, again.stderr
    ok_json(order(cli, db, account, "--side", "long", "--qty", "30", "--json"))
    assert _adjustments(db) == ["admin freeze: kyc", "admin unfreeze: ok"]


def test_close_all_and_finalize_flatten_the_account_with_trigger_admin(cli, db):
    account = create(cli, db)
    ok_json(order(cli, db, account, "--side", "long", "--qty", "30", "--json"))
    flat = run(
        cli, db, "prop", "admin", "close-all", "--account", str(account), "--reason", "risk off"
    )
    assert flat.exit_code == 0, flat.stderr
    assert "1 positions closed" in flat.stdout
    ok_json(order(cli, db, account, "--side", "short", "--qty", "30", "--json"))
    done = run(cli, db, "prop", "admin", "finalize", "--account", str(account), "--reason", "end")
    assert done.exit_code == 0, done.stderr
    shown = ok_json(run(cli, db, "prop", "accounts", "show", str(account), "--json"))
    assert (shown["status"], shown["positions"]) == ("finalized", [])
    triggers = query(db, "SELECT close_trigger FROM positions ORDER BY id")
    assert [t["close_trigger"] for t in triggers] == ["ADMIN", "ADMIN"]
    assert _adjustments(db) == ["admin close-all: risk off", "admin finalize: end"]
    again = run(cli, db, "prop", "admin", "freeze", "--account", str(account), "--reason", "x")
    one_line_error(again, "finalized")


def test_a_finalized_account_shows_its_final_result_from_a_final_snapshot(cli, db):
    account = create(cli, db)
    ok_json(order(cli, db, account, "--side", "long", "--qty", "30", "--json"))

    done = run(cli, db, "prop", "admin", "finalize", "--account", str(account), "--reason", "end")

    assert done.exit_code == 0, done.stderr
    [snapshot] = query(db, "SELECT * FROM account_snapshots")
    assert (snapshot["open_positions"], snapshot["margin_used"]) == (0, "0")
    final = ok_json(run(cli, db, "prop", "accounts", "show", str(account), "--json"))["final"]
    fees = -sum(D(r["amount"]) for r in query(db, "SELECT amount FROM ledger_entries"
                                                  " WHERE kind = 'FEE'"))  # fmt: skip
    assert D(final["equity"]) == D(final["balance"]) == D(snapshot["equity"])
    assert D(final["return_fraction"]) == (D(final["equity"]) - D(10_000)) / D(10_000) < 0
    assert (final["trades"], D(final["fees"])) == (2, fees)
    assert D(final["max_drawdown"]) == D(snapshot["drawdown"])
    table = run(cli, db, "prop", "accounts", "show", str(account))
    assert "final equity" in table.stdout


# -- hostile input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--balance", "100", "--taker-fee", "0.5"), ("taker_fee",)),
        (("--balance", "100", "--kind", "casino"), ("--kind",)),
    ],
)
def test_hostile_account_flags_fail_in_one_line(cli, db, args, words):
    result = run(cli, db, "prop", "accounts", "create", "--clone-id", "42", *args)
    one_line_error(result, *words)
    assert query(db, "SELECT COUNT(*) AS n FROM prop_accounts") == [{"n": 0}]


@pytest.mark.parametrize(
    "args",
    [
        ("--balance", "-5"),
        ("--balance", "abc"),
        ("--balance", "100", "--slippage-bps", "NaN"),
    ],
)
def test_a_hostile_decimal_flag_is_a_usage_error_naming_it(cli, db, args):
    result = run(cli, db, "prop", "accounts", "create", "--clone-id", "42", *args)
    assert result.exit_code == 2
    assert f"Invalid value for '{args[-2]}'" in result.stderr
    assert query(db, "SELECT COUNT(*) AS n FROM prop_accounts") == [{"n": 0}]


def test_a_hostile_side_fails_in_one_line(cli, db):
    account = create(cli, db)
    one_line_error(order(cli, db, account, "--side", "up", "--qty", "30"), "side")


@pytest.mark.parametrize(
    "args",
    [
        ("prop", "accounts", "show", "999"),
        ("prop", "order", "--account", "999", "--symbol", "ADA", "--side", "long", "--qty", "30"),
        ("prop", "close", "--account", "999", "--symbol", "ADA"),
        ("prop", "admin", "freeze", "--account", "999", "--reason", "x"),
    ],
)
def test_an_unknown_account_fails_in_one_line(cli, db, args):
    one_line_error(run(cli, db, *args), "999")


def test_admin_requires_a_reason(cli, db):
    account = create(cli, db)
    result = run(cli, db, "prop", "admin", "freeze", "--account", str(account), "--reason", " ")
    one_line_error(result, "--reason")


def test_an_account_for_a_clone_that_does_not_exist_is_refused(cli, db):
    args = ["prop", "accounts", "create", "--clone-id", "7", "--balance", "100"]
    one_line_error(run(cli, db, *args), "clone 7 does not exist")
    assert query(db, "SELECT COUNT(*) AS n FROM prop_accounts") == [{"n": 0}]
