"""``autotrader desk roundtables|memory|relationships|report`` on a copy of the bundled-candles
store under the replay clock, the model played by the loopback fake."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from autotrader.core.clock import iso_utc
from tests.fakes.decisions import copy_store, market_template, open_test_store, replay_start
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.fakes.roundtable import Talk, memory


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def desk(cli, tmp_path: Path, tmp_path_factory, monkeypatch, fake) -> str:
    monkeypatch.setenv("AUTOTRADER_NOW", iso_utc(replay_start()))
    monkeypatch.setenv("AUTOTRADER_INGEST_SYMBOLS", "BTC,ETH")
    monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-desk")
    monkeypatch.setenv("AUTOTRADER_LLM_RETRIES", "0")
    db = str(copy_store(market_template(tmp_path_factory), tmp_path / "desk.db"))
    result = cli("desk", "init", "--db", db)
    assert result.exit_code == 0, result.stderr
    return db


def run(cli, desk, *args: str):
    return cli("desk", "roundtables", "run", "--format", "morning_standup", *args, "--db", desk)


def test_run_holds_a_standup_and_prints_its_transcript(cli, desk, fake):
    fake.responder = Talk({1: {"memory_candidates": [memory()]}, 2: Reply.refusal("No.")})

    result = run(cli, desk)

    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "roundtable 1 (morning_standup, succeeded)" in out
    assert " 1. ATLAS (neutral;" in out
    assert "ATLAS on turn 1: the data favours patience." in out
    assert "bad turn, refused: model refused: No." in out
    assert "Memory candidates" in out
    assert "memory 1" in out
    assert "Relationship drift" in out


def test_show_and_list_print_what_run_held_as_json(cli, desk, fake):
    fake.responder = Talk()
    assert run(cli, desk, "--topic", "BTC after the Fed").exit_code == 0

    listed = json.loads(cli("desk", "roundtables", "list", "--json", "--db", desk).stdout)
    assert [(r["id"], r["format"], r["status"], r["topic"]) for r in listed] == [
        (1, "morning_standup", "succeeded", "BTC after the Fed")
    ]
    story = json.loads(cli("desk", "roundtables", "show", "1", "--json", "--db", desk).stdout)
    assert len(story["turns"]) == story["roundtable"]["turns_planned"]
    assert all(t["speaker"] in story["roundtable"]["participants"] for t in story["turns"])
    costs = [Decimal(t["cost_usd"]) for t in story["turns"]]
    assert Decimal(story["cost_usd"]) == sum(costs) > 0  # the desk clone's gpt-5-mini has a price
    assert story["drift"]
    text = cli("desk", "roundtables", "show", "1", "--db", desk)
    assert "topic: BTC after the Fed" in text.stdout
    formats = json.loads(cli("desk", "roundtables", "formats", "--json", "--db", desk).stdout)
    assert [f["format"] for f in formats] == [
        "morning_standup",
        "position_review",
        "post_mortem",
        "debate",
        "strategy_session",
        "watercooler",
    ]
    assert "daily 06:30" in cli("desk", "roundtables", "formats", "--db", desk).stdout


def test_memories_are_listed_with_filters_and_shown_with_what_they_shaped(cli, desk, fake):
    fake.responder = Talk({1: {"memory_candidates": [memory()]}})
    assert run(cli, desk).exit_code == 0

    lessons = json.loads(
        cli(
            "desk", "memory", "list", "--type", "lesson", "--tag", "btc", "--json", "--db", desk
        ).stdout
    )
    assert [(m["agent_id"], m["key"], m["source_trace"]) for m in lessons] == [
        ("atlas", "chasing_pumps", "roundtable:1:turn:0")
    ]
    none = cli("desk", "memory", "list", "--agent", "sage", "--json", "--db", desk)
    assert json.loads(none.stdout) == []
    shown = cli("desk", "memory", "show", str(lessons[0]["id"]), "--db", desk)
    assert shown.exit_code == 0, shown.stderr
    assert "it has shaped no decision yet" in shown.stdout


def test_relationships_are_a_matrix_and_json_rows_of_pairs(cli, desk, fake):
    before = json.loads(cli("desk", "relationships", "--json", "--db", desk).stdout)
    assert len(before) == 15
    assert {"agent_a", "agent_b", "affinity"} <= set(before[0])
    atlas_sage = next(r for r in before if (r["agent_a"], r["agent_b"]) == ("atlas", "sage"))
    assert (atlas_sage["affinity"], atlas_sage["initial_affinity"]) == ("0.8", "0.8")
    fake.responder = Talk()
    assert run(cli, desk).exit_code == 0

    after = json.loads(cli("desk", "relationships", "--json", "--db", desk).stdout)
    moved = [r for r in after if r["drift"]]
    assert moved
    assert all(r["drift"][0]["after"] == r["affinity"] for r in moved)
    text = cli("desk", "relationships", "--db", desk).stdout
    assert "Affinity" in text
    assert "latest drift" in text


def test_report_computes_the_seeds_metrics_from_the_tables(cli, desk, fake):
    fake.responder = Talk({1: {"memory_candidates": [memory()]}})
    assert run(cli, desk).exit_code == 0

    report = json.loads(cli("desk", "report", "--days", "1", "--json", "--db", desk).stdout)
    metrics = {m["name"]: m for m in report["metrics"]}
    assert list(metrics) == [
        "roundtables_per_day",
        "autonomous_trades",
        "memories",
        "drift",
        "memory_influence_rate",
        "win_rate",
        "stale_recoveries",
        "model_cost",
    ]
    assert metrics["roundtables_per_day"]["value"] == "1"
    assert metrics["roundtables_per_day"]["met"] is False
    assert metrics["memories"]["value"] == 1
    assert metrics["drift"]["value"] > 0
    assert metrics["memory_influence_rate"]["detail"]["topic"]["decisions"] == 1
    assert metrics["win_rate"]["value"] is None
    turns = open_test_store(Path(desk)).scalar("SELECT COUNT(*) FROM desk_roundtable_turns")
    assert metrics["model_cost"]["detail"]["calls"] == turns
    assert "Success metrics" in cli("desk", "report", "--db", desk).stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("roundtables", "run", "--format", "brunch"), "--format: 'brunch' is not one of"),
        (("roundtables", "run", "--format", "debate", "--topic", " "), "--topic: 1 to 300"),
        (("roundtables", "show", "99"), "no desk roundtable 99"),
        (("roundtables", "list", "--format", "brunch"), "--format: 'brunch' is not one of"),
        (("memory", "list", "--type", "hunch"), "--type: 'hunch' is not one of"),
        (("memory", "show", "99"), "no desk memory 99"),
        (("report", "--days", "0"), "Invalid value for '--days'"),
    ],
)
def test_refuses_bad_input_in_one_line_and_queues_nothing(cli, desk, args, message):
    result = cli("desk", *args, "--db", desk)
    assert result.exit_code in (1, 2)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    store = open_test_store(Path(desk))
    assert store.scalar("SELECT COUNT(*) FROM desk_roundtables") == 0
    store.close()


def test_run_without_a_model_says_how_to_configure_one(cli, desk, monkeypatch, fake):
    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.delenv("OPENAI_API_KEY")

    result = run(cli, desk)

    assert result.exit_code == 1
    assert result.stderr.startswith("error: a roundtable needs a model: set OPENAI_API_KEY")
    assert result.stderr.count("\n") == 1
    assert fake.requests == []


def test_the_roundtable_worker_refuses_to_start_without_a_model(cli, desk, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.delenv("OPENAI_API_KEY")

    result = cli("desk", "worker", "roundtable", "--once", "--db", desk)

    assert result.exit_code == 1
    assert "a roundtable needs a model" in result.stderr
    assert result.stderr.count("\n") == 1
    store = open_test_store(Path(desk))
    assert store.scalar("SELECT COUNT(*) FROM desk_roundtables") == 0  # no meeting was burned
    store.close()


def test_the_roundtable_worker_holds_what_is_due_once(cli, desk, fake):
    fake.responder = Talk()
    result = cli("desk", "worker", "roundtable", "--once", "--db", desk)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("roundtable: ")


def test_run_past_the_daily_cap_is_refused_with_the_gate(cli, desk, fake):
    cli(
        "desk", "policy", "set", "roundtable_policy", '{"max_daily_conversations": 0}', "--db", desk
    )
    result = run(cli, desk)
    assert result.exit_code == 1
    assert "roundtable.daily_max: 0 roundtables today >= max_daily_conversations 0" in result.stderr


def test_a_conversation_that_fails_exits_1_after_its_transcript(cli, desk, fake):
    fake.fail(500, n=20)
    result = run(cli, desk)
    assert result.exit_code == 1
    assert "(morning_standup, failed)" in result.stdout
    assert "3 bad turns in a row" in result.stdout
