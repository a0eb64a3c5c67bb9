"""``autotrader arena``: a race among arena clones on the replay clock over the bundled data —
tickets, the decision loop trading the race accounts, settlement, payouts, strikes, the Hall of
Fame — through the CLI; every kind of bad input refused with one line, exit 1, nothing changed;
``ledger verify`` failing on money that does not add up."""

from __future__ import annotations

import json

import pytest

from autotrader.core.clock import HOUR_MS, MINUTE_MS, iso_utc
from autotrader.ledger.verify import CHECKS
from tests.fakes.arena import arena_store, contents, market_arena
from tests.fakes.decisions import market_template


def ok(result):
    assert result.exit_code == 0, result.stderr
    return result


def refused(result, message: str) -> None:
    assert result.exit_code == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0], lines[0]
    assert "Traceback" not in result.stderr


@pytest.fixture
def world(tmp_path, monkeypatch):
    """Clones 42, 43 and 44 in the arena (no market data); the clock after their auditions."""
    store, clock, _ = arena_store(tmp_path / "arena.db")
    store.close()
    monkeypatch.setenv("AUTOTRADER_NOW", iso_utc(clock.now_ms()))
    return str(tmp_path / "arena.db"), clock.now_ms()


def at(monkeypatch, when_ms: int) -> None:
    monkeypatch.setenv("AUTOTRADER_NOW", iso_utc(when_ms))


def create(cli, db, now_ms, *extra) -> dict:
    return json.loads(ok(cli("arena", "races", "create", "--start", iso_utc(now_ms + HOUR_MS),
                             "--duration", "2h", *extra, "--db", db, "--json")).stdout)  # fmt: skip


def buy(cli, db, *args):
    return cli("arena", "tickets", "buy", *args, "--db", db, "--json")


@pytest.mark.slow  # replays the race hour by hour through the CLI
def test_a_race_runs_from_tickets_to_strikes_through_the_cli(
    cli, tmp_path, tmp_path_factory, monkeypatch
):
    store, clock, _ = market_arena(market_template(tmp_path_factory), tmp_path / "race.db")
    store.close()
    db, start = str(tmp_path / "race.db"), clock.now_ms() + 10 * MINUTE_MS
    monkeypatch.setenv("AUTOTRADER_ARTIFACTS", "memory")
    monkeypatch.setenv("AUTOTRADER_ARENA_STRIKES_TO_RETIRE", "1")
    at(monkeypatch, clock.now_ms())
    created = cli("arena", "races", "create", "--start", iso_utc(start), "--duration", "12h",
                  "--entrants", "all-slots", "--db", db, "--json")  # fmt: skip
    race = json.loads(ok(created).stdout)
    for owner, clone_id, amount in (("bob", 42, "10"), ("carol", 43, "25.5"), ("dave", 44, "4")):
        ticket = json.loads(ok(buy(cli, db, "--race", "1", "--clone-id", str(clone_id),
                                   "--amount", amount, "--owner", owner)).stdout)  # fmt: skip
        paid = ok(cli("arena", "tickets", "verify", str(ticket["id"]), "--reference",
                      f"wire-{ticket['id']}", "--reason", "paid by wire", "--db", db))  # fmt: skip
        assert f"ticket {ticket['id']} paid" in paid.stdout
    at(monkeypatch, start)
    launched = ok(cli("arena", "races", "run-once", "--db", db))
    assert "1 launched" in launched.stdout
    refused(cli("arena", "races", "run-once", "--race", "1", "--db", db),
            "race 1 is live until")  # fmt: skip
    for hour in range(1, 13):
        at(monkeypatch, start + hour * HOUR_MS)
        ok(cli("workers", "run", "decisions", "--once", "--db", db))
        ok(cli("prop", "mark-to-market", "--db", db))
    at(monkeypatch, race["ends_at"] + MINUTE_MS)
    settled = ok(cli("arena", "races", "run-once", "--db", db))
    assert "race 1 settled: 1. clone" in settled.stdout
    assert "retired: too many strikes" in settled.stdout
    shown = ok(cli("arena", "races", "show", "1", "--db", db))
    assert "Σ rows 39.5 = pool 39.5: conserved" in shown.stdout
    detail = json.loads(ok(cli("arena", "races", "show", "1", "--db", db, "--json")).stdout)
    assert detail["status"] == "settled"
    last = detail["entrants"][-1]["clone_id"]
    assert [s["clone_id"] for s in detail["strikes"]] == [last]
    fills = json.loads(ok(cli("ledger", "trades", "--db", db, "--json")).stdout)
    race_accounts = {e["account_id"] for e in detail["entrants"]}
    assert {t["account_id"] for t in fills["closed"]} & race_accounts, "race accounts traded"
    payouts = json.loads(ok(cli("arena", "payouts", "list", "--kind", "payout,royalty", "--db",
                                db, "--json")).stdout)  # fmt: skip
    assert {p["kind"] for p in payouts} == {"payout", "royalty"}
    balances = json.loads(ok(cli("arena", "balances", "--db", db, "--json")).stdout)
    assert {"holder": "protocol:race:1", "is": "race pool", "balance": "0"} in balances
    (famous,) = json.loads(ok(cli("arena", "hall-of-fame", "--db", db, "--json")).stdout)
    assert (famous["clone_id"], famous["races"], famous["strikes"]) == (last, 1, 1)
    status = json.loads(ok(cli("lifecycle", "status", "--clone-id", str(last), "--db", db,
                               "--json")).stdout)  # fmt: skip
    assert status["stage"] == "retired"
    assert [e["event"] for e in status["events"]][-2:] == ["strike", "retired"]
    verify = ok(cli("ledger", "verify", "--db", db))
    assert f"{len(CHECKS) + 2} checks passed" in verify.stdout  # + economy, arena
    exported = ok(cli("arena", "export", "--what", "payouts", "--format", "csv", "--db", db))
    assert exported.stdout.splitlines()[0].startswith("id,race_id,kind,holder,amount")


def test_listings_show_races_tickets_and_the_settlement_table(cli, world, monkeypatch):
    db, now = world
    create(cli, db, now, "--clones", "43,42", "--rules", "aggressive")
    ticket = json.loads(ok(buy(cli, db, "--race", "1", "--clone-id", "42", "--amount", "7",
                               "--owner", "bob")).stdout)  # fmt: skip
    assert (ticket["status"], ticket["amount"]) == ("pending", "7")
    ok(cli("arena", "tickets", "verify", "1", "--reference", "w1", "--reason", "r", "--db", db))
    listed = ok(cli("arena", "races", "list", "--db", db))
    assert "accumulating" in listed.stdout
    assert "aggressive" in listed.stdout
    tickets = json.loads(ok(cli("arena", "tickets", "list", "--owner", "bob", "--db", db,
                                "--json")).stdout)  # fmt: skip
    assert [(t["id"], t["status"]) for t in tickets] == [(1, "paid")]
    shown = json.loads(ok(cli("arena", "tickets", "show", "1", "--db", db, "--json")).stdout)
    assert [o["outcome"] for o in shown["outcomes"]] == ["verified"]
    at(monkeypatch, now + 4 * HOUR_MS)
    ok(cli("arena", "races", "run-once", "--db", db))  # launches (it is due)
    ok(cli("arena", "races", "run-once", "--db", db))  # and settles (its end has passed)
    table = ok(cli("arena", "races", "show", "1", "--db", db)).stdout
    for line in ("Settlement", "distribution pool", "Σ rows 7 = pool 7: conserved"):
        assert line in table
    assert "bob" in ok(cli("arena", "payouts", "list", "--owner", "bob", "--db", db)).stdout
    assert "Hall of Fame is empty" in ok(cli("arena", "hall-of-fame", "--db", db)).stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--clone-id", "42", "--amount", "1e12", "--owner", "bob"], "more than 1,000,000,000"),
        (["--clone-id", "42", "--amount", "5", "--owner", "mallory"], "owner 'mallory'"),
        (["--clone-id", "44", "--amount", "5", "--owner", "bob"], "not an entrant of race 1"),
        (["--clone-id", "42", "--amount", "5", "--owner", "bad:name"], "1–32 letters"),
    ],
)
def test_refuses_a_bad_ticket_with_one_line_and_changes_nothing(cli, world, args, message):
    db, now = world
    create(cli, db, now, "--clones", "42,43")
    before = _contents(db)
    refused(buy(cli, db, "--race", "1", *args), message)
    assert _contents(db) == before


@pytest.mark.parametrize("amount", ["0", "-3", "NaN", "1e15", "ten", "\u0665"])
def test_refuses_an_amount_that_is_not_a_positive_decimal_before_anything_runs(cli, world, amount):
    db, now = world
    create(cli, db, now, "--clones", "42,43")
    before = _contents(db)
    result = buy(cli, db, "--race", "1", "--clone-id", "42", "--amount", amount, "--owner", "bob")
    assert result.exit_code == 2
    assert "Invalid value for '--amount'" in result.stderr
    assert _contents(db) == before


def test_refuses_a_ticket_after_the_launch_and_a_reused_payment(cli, world, monkeypatch):
    db, now = world
    create(cli, db, now)
    for clone_id in ("42", "43"):
        ok(buy(cli, db, "--race", "1", "--clone-id", clone_id, "--amount", "5", "--owner", "bob"))
    ok(cli("arena", "tickets", "verify", "1", "--reference", "wire-9", "--reason", "r",
           "--db", db))  # fmt: skip
    before = _contents(db)
    refused(cli("arena", "tickets", "verify", "2", "--reference", "wire-9", "--reason", "r",
                "--db", db), "wire-9 already paid towards ticket 1")  # fmt: skip
    assert _contents(db) == before
    at(monkeypatch, now + HOUR_MS)
    ok(cli("arena", "races", "run-once", "--db", db))
    before = _contents(db)
    refused(buy(cli, db, "--race", "1", "--clone-id", "42", "--amount", "5", "--owner", "bob"),
            "race 1 is live: tickets are sold only while it accumulates")  # fmt: skip
    refused(cli("arena", "races", "run-once", "--race", "1", "--db", db),
            "cannot be settled early")  # fmt: skip
    assert _contents(db) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "yesterday", "--duration", "1h"], "--start"),
        (["--start", "2020-01-01T00:00:00Z", "--duration", "1h"], "is in the past"),
        (["--duration", "forever"], "give a duration such as 15m"),
        (["--clones", "42,x"], "--clones: 'x' is not an id"),
        (["--clones", "42,43", "--entrants", "all-slots"], "not both"),
        (["--entrants", "some"], "--entrants: 'some' is not one of all-slots"),
        (["--clones", "42,99"], "99 not in the arena"),
        (["--rules", "wild"], "--rules: 'wild' is not one of"),
    ],
)
def test_refuses_a_race_that_cannot_run_with_one_line(cli, world, args, message):
    db, now = world
    defaults = {"--start": iso_utc(now + HOUR_MS), "--duration": "2h"}
    given = dict(zip(args[::2], args[1::2], strict=True))
    options = [part for key, value in (defaults | given).items() for part in (key, value)]
    before = _contents(db)
    refused(cli("arena", "races", "create", *options, "--db", db), message)
    assert _contents(db) == before


def test_ledger_verify_fails_on_a_settlement_that_does_not_add_up(cli, world, monkeypatch):
    import sqlite3

    db, now = world
    create(cli, db, now)
    ok(buy(cli, db, "--race", "1", "--clone-id", "42", "--amount", "5", "--owner", "bob"))
    ok(cli("arena", "tickets", "verify", "1", "--reference", "w", "--reason", "r", "--db", db))
    at(monkeypatch, now + 4 * HOUR_MS)
    ok(cli("arena", "races", "run-once", "--db", db))
    ok(cli("arena", "races", "run-once", "--db", db))
    assert f"{len(CHECKS) + 2} checks passed" in ok(cli("ledger", "verify", "--db", db)).stdout
    with sqlite3.connect(db) as conn:  # a row the settlement never paid
        conn.execute("INSERT INTO arena_payouts (race_id, kind, holder, amount, txn, created_at)"
                     " VALUES (1, 'payout', 'mallory', '1', 'race:1:settlement', 0)")  # fmt: skip
    result = cli("ledger", "verify", "--db", db)
    assert result.exit_code == 1
    assert "[races] store: race 1: its rows sum to 6, not its pool of 5" in result.stdout
    assert "race:1:settlement: the economy booking does not pay what its rows say" in result.stdout
    assert "ledger BROKEN" in result.stdout


def _contents(db: str) -> dict:
    from tests.fakes.decisions import open_test_store

    store = open_test_store(db)
    try:
        return contents(store)
    finally:
        store.close()


def test_an_admin_retirement_enters_the_hall_of_fame_at_once(cli, world):
    db, _ = world
    ok(cli("lifecycle", "arena", "retire", "--clone-id", "43", "--reason", "season over",
           "--db", db))  # fmt: skip
    (record,) = json.loads(ok(cli("arena", "hall-of-fame", "--db", db, "--json")).stdout)
    assert (record["clone_id"], record["reason"], record["profile"]["name"]) == (
        43,
        "season over",
        "Racer 43",
    )
    before = _contents(db)
    refused(cli("lifecycle", "arena", "retire", "--clone-id", "43", "--reason", "again",
                "--db", db), "clone 43 is retired: it cannot retire")  # fmt: skip
    assert _contents(db) == before
