"""``autotrader lifecycle``: the whole path from a new clone to an arena slot through the CLI on
the replay clock, and every kind of bad input refused with one line, exit 1, nothing changed."""

from __future__ import annotations

import json

import pytest

from autotrader.core.clock import HOUR_MS, iso_utc
from tests.fakes.decisions import copy_store, market_template, replay_end
from tests.fakes.hyperliquid_server import FakeHyperliquid
from tests.fakes.lifecycle import ADDRESS, TREASURY

LENIENT = {
    "AUTOTRADER_AUDITION_DURATION_HOURS": "12",
    "AUTOTRADER_AUDITION_PASS_RETURN_PCT": "-100",
    "AUTOTRADER_AUDITION_PASS_MAX_DRAWDOWN_PCT": "100",
    "AUTOTRADER_AUDITION_PASS_SHARPE": "",
    "AUTOTRADER_AUDITION_MIN_TRADES": "0",
    "AUTOTRADER_ARTIFACTS": "memory",
}
TABLES = ("audition_fees", "payment_outcomes", "payment_references", "economy_entries",
          "auditions", "lifecycle_events", "profile_versions", "prop_accounts")  # fmt: skip


@pytest.fixture
def world(tmp_path, tmp_path_factory, monkeypatch, cli):
    """The bundled market, clone 42 with its rules pipeline, owned by 'local' paying from
    ADDRESS; the replay clock half a day before the data ends."""
    db = str(copy_store(market_template(tmp_path_factory), tmp_path / "life.db"))
    for name, value in LENIENT.items():
        monkeypatch.setenv(name, value)
    start = replay_end() - 12 * HOUR_MS
    monkeypatch.setenv("AUTOTRADER_NOW", iso_utc(start))
    assert cli("clones", "owners", "set", "local", "--address", ADDRESS, "--db", db).exit_code == 0
    return db, start


def ok(result):
    assert result.exit_code == 0, result.stderr
    return result


def refused(result, message: str) -> None:
    assert result.exit_code == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def counts(db: str) -> dict[str, int]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}


@pytest.mark.slow  # trades the audition hour by hour through the CLI
def test_a_new_clone_reaches_an_arena_slot_through_the_cli(cli, world, monkeypatch):
    db, start = world
    fee = json.loads(ok(cli("lifecycle", "fees", "request", "--clone-id", "42", "--db", db,
                            "--json")).stdout)  # fmt: skip
    verified = ok(cli("lifecycle", "fees", "verify", str(fee["id"]), "--reference", "wire-42",
                      "--reason", "paid by wire", "--db", db))  # fmt: skip
    assert "verified" in verified.stdout
    audition = json.loads(ok(cli("lifecycle", "auditions", "submit", "--clone-id", "42",
                                 "--db", db, "--json")).stdout)  # fmt: skip
    refused(cli("lifecycle", "auditions", "run-once", "--audition", str(audition["id"]),
                "--db", db), "cannot be evaluated early")  # fmt: skip
    for hour in range(1, 13):
        monkeypatch.setenv("AUTOTRADER_NOW", iso_utc(start + hour * HOUR_MS))
        ok(cli("decisions", "run-once", "--clone-id", "42", "--db", db))
        ok(cli("prop", "mark-to-market", "--db", db))
    monkeypatch.setenv("AUTOTRADER_NOW", iso_utc(start + 12 * HOUR_MS + 60_000))
    judged = ok(cli("lifecycle", "auditions", "run-once", "--db", db))
    assert "PASSED" in judged.stdout
    assert "return_pct" in judged.stdout
    shown = json.loads(ok(cli("lifecycle", "auditions", "show", str(audition["id"]), "--db", db,
                              "--json")).stdout)  # fmt: skip
    assert shown["status"] == "passed"
    assert {c["name"] for c in shown["result"]["criteria"]} == {
        "return_pct", "max_drawdown_pct", "trades"}  # fmt: skip
    deferred = ok(cli("lifecycle", "arena-entry", "run-once", "--db", db))
    assert "no approved public profile" in deferred.stdout
    ok(cli("lifecycle", "profiles", "set", "--clone-id", "42", "--name", "Demo Momentum",
           "--bio", "Trend rules on BTC and ETH.", "--db", db))  # fmt: skip
    (pending,) = json.loads(
        ok(cli("lifecycle", "moderation", "queue", "--db", db, "--json")).stdout
    )
    ok(cli("lifecycle", "moderation", "approve", str(pending["id"]), "--reason", "fine",
           "--db", db))  # fmt: skip
    admitted = ok(cli("lifecycle", "arena-entry", "run-once", "--db", db))
    assert "1 admitted" in admitted.stdout
    slots = json.loads(ok(cli("lifecycle", "arena", "list", "--db", db, "--json")).stdout)
    assert [(s["clone_id"], s["status"]) for s in slots] == [(42, "active")]
    timeline = json.loads(ok(cli("lifecycle", "status", "--clone-id", "42", "--db", db,
                                 "--json")).stdout)  # fmt: skip
    assert timeline["stage"] == "arena"
    assert [e["event"] for e in timeline["events"] if e["from_stage"] != e["to_stage"]] == [
        "fee_requested", "audition_started", "audition_passed", "queued", "admitted"]  # fmt: skip
    assert ok(cli("lifecycle", "economy", "verify", "--db", db)).exit_code == 0
    trades = json.loads(ok(cli("ledger", "trades", "--account", str(audition["account_id"]),
                               "--db", db, "--json")).stdout)  # fmt: skip
    assert trades["closed"], "the rules engine traded the audition account"
    assert shown["result"]["metrics"]["trades"] == len(trades["closed"])


def test_an_audition_accounts_trace_reaches_the_lifecycle_timeline(cli, world):
    db, _ = world
    ok(cli("lifecycle", "fees", "request", "--clone-id", "42", "--db", db))
    ok(cli("lifecycle", "fees", "verify", "1", "--reference", "w", "--reason", "r", "--db", db))
    audition = json.loads(ok(cli("lifecycle", "auditions", "submit", "--clone-id", "42",
                                 "--db", db, "--json")).stdout)  # fmt: skip
    ok(cli("prop", "order", "--account", str(audition["account_id"]), "--symbol", "BTC",
           "--side", "long", "--notional", "500", "--db", db))  # fmt: skip
    trace = json.loads(ok(cli("ledger", "trace", "fill:1", "--db", db, "--json")).stdout)
    assert [e["event"] for e in trace["lifecycle"]] == [
        "fee_requested", "fee_verified", "audition_started"]  # fmt: skip


def test_rules_show_names_every_rule_and_its_setting(cli, world):
    db, _ = world
    result = ok(cli("lifecycle", "rules", "show", "--db", db))
    for text in ("audition fee", "pass: return", "AUTOTRADER_AUDITION_MIN_TRADES", "arena slots"):
        assert text in result.stdout
    view = json.loads(ok(cli("lifecycle", "rules", "show", "--db", db, "--json")).stdout)
    assert view["audition"]["criteria"]["min_sharpe"] is None


def test_workers_status_lists_the_lifecycle_jobs(cli, world):
    db, _ = world
    result = ok(cli("workers", "status", "--db", db, "--json"))
    names = {j["name"] for j in json.loads(result.stdout)["jobs"]}
    assert {"lifecycle-auditions", "lifecycle-arena-entry", "lifecycle-reconcile"} <= names


# -- bad input: one clear line, exit 1, nothing changed ------------------------------------------


def test_refuses_an_unknown_clone(cli, world):
    db, _ = world
    before = counts(db)
    refused(cli("lifecycle", "fees", "request", "--clone-id", "999", "--db", db),
            "clone 999 does not exist")  # fmt: skip
    refused(cli("lifecycle", "status", "--clone-id", "999", "--db", db), "clone 999 does not exist")
    assert counts(db) == before


def test_refuses_a_double_submit_and_a_fee_of_another_clone(cli, world):
    db, _ = world
    ok(cli("clones", "create", "--name", "other", "--id", "43", "--db", db))
    for clone in ("42", "43"):
        ok(cli("lifecycle", "fees", "request", "--clone-id", clone, "--db", db))
    ok(cli("lifecycle", "fees", "verify", "2", "--reference", "w43", "--reason", "r", "--db", db))
    before = counts(db)
    refused(cli("lifecycle", "auditions", "submit", "--clone-id", "42", "--fee", "2", "--db", db),
            "audition fee 2 belongs to clone 43, not 42")  # fmt: skip
    assert counts(db) == before
    ok(cli("lifecycle", "auditions", "submit", "--clone-id", "43", "--db", db))
    before = counts(db)
    refused(cli("lifecycle", "auditions", "submit", "--clone-id", "43", "--db", db),
            "clone 43 is auditioning: it cannot start an audition")  # fmt: skip
    assert counts(db) == before


def test_refuses_a_reused_reference_recording_only_the_attempt(cli, world):
    db, _ = world
    ok(cli("clones", "create", "--name", "other", "--id", "43", "--db", db))
    for clone in ("42", "43"):
        ok(cli("lifecycle", "fees", "request", "--clone-id", clone, "--db", db))
    ok(
        cli(
            "lifecycle", "fees", "verify", "1", "--reference", "wire-1", "--reason", "r", "--db", db
        )
    )
    before = counts(db)
    result = cli("lifecycle", "fees", "verify", "2", "--reference", "wire-1", "--reason", "r",
                 "--db", db)  # fmt: skip
    assert result.exit_code == 1
    assert "reused" in result.stdout
    after = counts(db)
    assert after["payment_outcomes"] == before["payment_outcomes"] + 1  # the attempt, recorded
    audit = ("payment_outcomes", "lifecycle_events")  # the attempt and its timeline note
    assert {k: v for k, v in after.items() if k not in audit} == {
        k: v for k, v in before.items() if k not in audit
    }


def test_refuses_a_huge_amount(cli, world):
    db, _ = world
    ok(cli("lifecycle", "fees", "request", "--clone-id", "42", "--db", db))
    before = counts(db)
    refused(cli("lifecycle", "fees", "verify", "1", "--reference", "w", "--reason", "r",
                "--amount", "1e12", "--db", db), "is more than 1,000,000,000 USDC")  # fmt: skip
    assert counts(db) == before


@pytest.mark.parametrize("amount", ["-5", "0", "NaN", "abc", "\u0665"])
def test_refuses_an_amount_that_is_not_a_positive_decimal_before_anything_runs(cli, world, amount):
    db, _ = world
    ok(cli("lifecycle", "fees", "request", "--clone-id", "42", "--db", db))
    before = counts(db)
    result = cli("lifecycle", "fees", "verify", "1", "--reference", "w", "--reason", "r",
                 "--amount", amount, "--db", db)  # fmt: skip
    assert result.exit_code == 2
    assert "Invalid value for '--amount'" in result.stderr
    assert counts(db) == before


@pytest.mark.parametrize(("name", "message"), [
    ("Mo\u202eney", "invisible formatting character"),
    ("Mo\u200bney", "invisible formatting character"),
    ("Mo\x1bney", "control character"),
    ("Official Bot", "denied word: official"),
])  # fmt: skip
def test_refuses_hostile_unicode_in_profiles(cli, world, name, message):
    db, _ = world
    before = counts(db)
    refused(cli("lifecycle", "profiles", "set", "--clone-id", "42", "--name", name, "--db", db),
            message)  # fmt: skip
    assert counts(db) == before


def test_refuses_a_name_that_reads_like_another_public_profile(cli, world):
    db, _ = world
    ok(cli("clones", "create", "--name", "other", "--id", "43", "--db", db))
    ok(cli("lifecycle", "profiles", "set", "--clone-id", "43", "--name", "Paypal", "--db", db))
    ok(cli("lifecycle", "moderation", "approve", "1", "--reason", "ok", "--db", db))
    before = counts(db)
    refused(cli("lifecycle", "profiles", "set", "--clone-id", "42", "--name", "PAYPA1", "--db", db),
            "reads the same as clone 43's public name")  # fmt: skip
    assert counts(db) == before


def test_refuses_a_malformed_transfer_payload_from_the_exchange(cli, world, monkeypatch):
    db, _ = world
    with FakeHyperliquid() as fake:
        monkeypatch.setenv("AUTOTRADER_HYPERLIQUID_URL", fake.url)
        monkeypatch.setenv("AUTOTRADER_TREASURY_ADDRESS", TREASURY)
        monkeypatch.setenv("AUTOTRADER_HTTP_RETRIES", "0")
        ok(cli("lifecycle", "fees", "request", "--clone-id", "42", "--db", db))
        fake.answer_next("userNonFundingLedgerUpdates", {"updates": "pending"})
        before = counts(db)
        refused(cli("lifecycle", "fees", "verify", "1", "--verifier", "hyperliquid", "--db", db),
                "expected a list of updates")  # fmt: skip
        assert counts(db) == before


def test_hyperliquid_verification_needs_a_treasury(cli, world):
    db, _ = world
    ok(cli("lifecycle", "fees", "request", "--clone-id", "42", "--db", db))
    refused(cli("lifecycle", "fees", "verify", "1", "--verifier", "hyperliquid", "--db", db),
            "AUTOTRADER_TREASURY_ADDRESS")  # fmt: skip
    refused(cli("lifecycle", "fees", "verify", "1", "--verifier", "paypal", "--db", db),
            "--verifier: 'paypal' is not one of manual, hyperliquid")  # fmt: skip
