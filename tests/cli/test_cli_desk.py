"""``autotrader desk`` on a copy of the bundled-candles store under the replay clock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autotrader.core.clock import iso_utc
from tests.fakes.decisions import copy_store, market_template, open_test_store, replay_start

NOT_SET_UP = "error: the desk is not set up: run `autotrader desk init`\n"


@pytest.fixture
def db(tmp_path: Path, tmp_path_factory, monkeypatch) -> str:
    monkeypatch.setenv("AUTOTRADER_NOW", iso_utc(replay_start()))
    monkeypatch.setenv("AUTOTRADER_INGEST_SYMBOLS", "BTC,ETH")
    return str(copy_store(market_template(tmp_path_factory), tmp_path / "desk.db"))


@pytest.fixture
def desk(cli, db) -> str:
    result = cli("desk", "init", "--db", db)
    assert result.exit_code == 0, result.stderr
    return db


def test_init_sets_the_desk_up_once(cli, db):
    first = cli("desk", "init", "--db", db, "--json")
    assert first.exit_code == 0, first.stderr
    setup = json.loads(first.stdout)
    assert setup["account_opened"] is True
    assert setup["seeded"] == {
        "agents": 6, "relationships": 15, "policies": 7, "triggers": 12, "patterns": 6,
        "formats": 6,
    }  # fmt: skip
    again = cli("desk", "init", "--db", db)
    assert "(already open); seeded nothing new" in again.stdout


def test_a_desk_worker_its_breaker_disabled_exits_1_once_or_looping(cli, desk):
    from autotrader.core.clock import SimulatedClock
    from autotrader.desk.breaker import Breaker
    from autotrader.desk.vocabulary import DeskWorker

    store = open_test_store(Path(desk))
    breaker = Breaker(store, SimulatedClock(replay_start()), DeskWorker.RISK_CALCULATOR)
    for _ in range(3):
        breaker.failed("RuntimeError: boom")
    store.close()

    once = cli("desk", "worker", "risk-calculator", "--once", "--db", desk)
    assert once.exit_code == 1
    assert "disabled since" in once.stdout
    looped = cli(
        "desk", "worker", "risk-calculator", "--max-ticks", "2", "--interval", "0.01",
        "--db", desk,
    )  # fmt: skip
    assert looped.exit_code == 1
    last = looped.stderr.splitlines()[-1]
    assert last.startswith("error: desk-risk-calculator: the worker stopped while failing (2 of 2")


@pytest.mark.parametrize(
    "command",
    [("status",), ("agents", "list"), ("heartbeat",), ("worker", "signal-analyzer", "--once")],
)
def test_commands_refuse_in_one_line_before_the_desk_is_set_up(cli, db, command):
    result = cli("desk", *command, "--db", db)
    assert result.exit_code == 1
    assert result.stderr.endswith(NOT_SET_UP)
    assert "Traceback" not in result.stderr


def test_an_invalid_policy_is_refused_in_one_line_naming_every_field_and_changes_nothing(cli, desk):
    before = cli("desk", "policy", "show", "--json", "--db", desk).stdout
    result = cli(
        "desk", "policy", "set", "trade_limits",
        '{"max_daily_trades": -1, "min_confidence": "high", "size": 5}', "--db", desk,
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    for field in ("max_daily_trades", "min_confidence", "size"):
        assert f"{field}: " in result.stderr
    assert cli("desk", "policy", "show", "--json", "--db", desk).stdout == before


def test_a_policy_is_shown_and_set_by_key(cli, desk):
    result = cli("desk", "policy", "set", "roundtable_policy", '{"enabled": false}', "--db", desk)
    assert result.exit_code == 0, result.stderr
    shown = json.loads(
        cli("desk", "policy", "show", "roundtable_policy", "--json", "--db", desk).stdout
    )
    assert shown["roundtable_policy"]["enabled"] is False
    unknown = cli("desk", "policy", "show", "yolo", "--db", desk)
    assert unknown.exit_code == 1
    assert "unknown policy 'yolo'" in unknown.stderr


def test_agents_are_editable_data(cli, desk):
    listed = json.loads(cli("desk", "agents", "list", "--json", "--db", desk).stdout)
    assert [a["name"] for a in listed] == ["ATLAS", "SAGE", "SCOUT", "GROWTH", "INTEL", "OBSERVER"]
    result = cli("desk", "agents", "set", "sage", "--tone", "Where is the stop?", "--db", desk)
    assert result.exit_code == 0, result.stderr
    shown = json.loads(cli("desk", "agents", "show", "sage", "--json", "--db", desk).stdout)
    assert shown["agent"]["tone"] == "Where is the stop?"
    atlas = {"other": "atlas", "affinity": "0.8", "total_interactions": 0}
    assert shown["relationships"][0] == atlas
    assert cli("desk", "agents", "show", "nobody", "--db", desk).exit_code == 1
    assert cli("desk", "agents", "set", "sage", "--db", desk).exit_code == 1


def test_a_heartbeat_and_the_records_it_leaves(cli, desk):
    beat = cli("desk", "heartbeat", "--json", "--db", desk)
    assert beat.exit_code == 0, beat.stderr
    runs = json.loads(beat.stdout)["runs"]
    assert [r["name"] for r in runs][:2] == ["evaluate_triggers", "process_reactions"]
    assert {r["status"] for r in runs} == {"ok"}

    proposals = json.loads(cli("desk", "proposals", "list", "--json", "--db", desk).stdout)
    assert {p["source"] for p in proposals} == {"trigger"}
    shown = cli("desk", "proposals", "show", str(proposals[-1]["id"]), "--db", desk)
    assert "proposal.duplicate" in shown.stdout
    missions = json.loads(cli("desk", "missions", "list", "--json", "--db", desk).stdout)
    story = json.loads(
        cli("desk", "missions", "show", str(missions[0]["id"]), "--json", "--db", desk).stdout
    )
    assert story["steps"][0]["status"] == "queued"
    events = json.loads(
        cli("desk", "events", "list", "--kind", "trigger", "--json", "--db", desk).stdout
    )
    assert {e["agent_id"] for e in events} == {"intel", "sage", "growth", "observer"}
    assert cli("desk", "events", "show", str(events[0]["id"]), "--db", desk).exit_code == 0
    assert cli("desk", "signals", "show", "999", "--db", desk).exit_code == 1

    work = cli("desk", "worker", "signal-analyzer", "--once", "--db", desk)
    assert work.exit_code == 0, work.stderr
    signals = json.loads(cli("desk", "signals", "list", "--json", "--db", desk).stdout)
    assert {s["symbol"] for s in signals} <= {"BTC", "ETH"}


def test_status_shows_a_worker_its_breaker_disabled_and_reset_re_enables_it(cli, desk):
    from autotrader.core.clock import SimulatedClock
    from autotrader.desk.breaker import Breaker
    from autotrader.desk.vocabulary import DeskWorker

    store = open_test_store(Path(desk))
    breaker = Breaker(store, SimulatedClock(replay_start()), DeskWorker.RISK_CALCULATOR)
    for _ in range(3):
        breaker.failed("RuntimeError: boom")
    store.close()

    status = json.loads(cli("desk", "status", "--json", "--db", desk).stdout)
    worker = next(w for w in status["workers"] if w["name"] == "risk-calculator")
    assert (worker["state"], worker["last_error"]) == ("disabled", "RuntimeError: boom")
    assert "disabled" in cli("desk", "status", "--db", desk).stdout

    reset = cli("desk", "worker", "risk-calculator", "--once", "--reset", "--db", desk)
    assert reset.exit_code == 0, reset.stderr
    assert reset.stdout.startswith("risk-calculator: re-enabled")
    status = json.loads(cli("desk", "status", "--json", "--db", desk).stdout)
    assert (
        next(w for w in status["workers"] if w["name"] == "risk-calculator")["state"] == "enabled"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("worker", "bogus", "--once"), "NAME: 'bogus' is not one of trade-executor"),
        (("triggers", "set", "nope", "--disable"), "no trigger rule 'nope'"),
        (("triggers", "set", "trade_big_win", "--interval", "5"), "is reactive"),
        (("triggers", "set", "proactive_system_health", "--threshold", "1"), "no threshold"),
        (("reactions", "set", "trade_analysis"), "nothing to change"),
        (("proposals", "list", "--status", "maybe"), "--status: 'maybe' is not one of pending"),
    ],
)
def test_refuses_bad_input_in_one_line(cli, desk, args, message):
    result = cli("desk", *args, "--db", desk)
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "args",
    [
        ("reactions", "set", "trade_analysis", "--probability", "2"),
        ("reactions", "set", "trade_analysis", "--probability", "nan"),
        ("triggers", "set", "signal_high_confidence", "--cooldown", "10081"),
        ("triggers", "set", "proactive_system_health", "--interval", "0"),
        ("events", "list", "--mission", "9223372036854775808"),
        ("proposals", "show", "0"),
        ("init", "--balance", "0"),
    ],
)
def test_refuses_a_number_out_of_range_before_anything_runs(cli, desk, args):
    before = Path(desk).read_bytes()
    result = cli("desk", *args, "--db", desk)
    assert result.exit_code == 2
    assert "Invalid value for" in result.stderr
    assert Path(desk).read_bytes() == before


def test_triggers_and_reactions_are_listed_and_set(cli, desk):
    result = cli("desk", "triggers", "set", "signal_high_confidence", "--threshold", "0.85",
                 "--cooldown", "20", "--db", desk)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    rules = json.loads(cli("desk", "triggers", "list", "--json", "--db", desk).stdout)
    rule = next(r for r in rules if r["name"] == "signal_high_confidence")
    assert (rule["conditions"], rule["cooldown_minutes"]) == ({"confidence_above": "0.85"}, 20)
    assert len(rules) == 12
    cli("desk", "reactions", "set", "trade_analysis", "--probability", "1", "--db", desk)
    patterns = json.loads(cli("desk", "reactions", "list", "--json", "--db", desk).stdout)
    assert next(p for p in patterns if p["name"] == "trade_analysis")["probability"] == "1"
    assert "Reaction matrix" in cli("desk", "reactions", "list", "--db", desk).stdout


def test_text_from_users_and_models_is_printed_as_text_never_as_markup(cli, desk):
    role = "[bold]Risk[/red] manager"
    assert cli("desk", "agents", "set", "sage", "--role", role, "--db", desk).exit_code == 0
    shown = cli("desk", "agents", "show", "sage", "--db", desk)
    assert shown.exit_code == 0, shown.stderr
    assert role in shown.stdout
