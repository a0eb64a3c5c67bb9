"""A model server that echoes the API key — inside a field of an otherwise valid intent, in a
committee's plan and verdict, spelled with JSON escapes, in an error message — through the real
openai SDK, the decision runner and ``decisions show``: the key is stored nowhere (no table, no
artifact file), printed nowhere and logged nowhere, and a valid answer still trades."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tests.fakes.decisions import (
    CLONE_ID,
    actions,
    make_runner,
    market_template,
    pipeline_graph,
    runs,
    save_pipeline,
    world,
)
from tests.fakes.openai_server import FakeOpenAI, Reply, schema_name_of

KEY = "sk-test-ECHOED-0123456789abcdef"
OPEN_BTC = {
    "action": "OPEN",
    "symbol": "BTC",
    "side": "LONG",
    "qty": "0.01",
    "leverage": 2,
    "exit_plan": {"stop": "64000", "target": "70000", "invalidation": f"if {KEY} leaks"},
    "policy_id": "trend_macd",
    "hypothesis": f"uptrend; my key is {KEY}",
}


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(params=["responses", "chat"])
def w(request, tmp_path, tmp_path_factory, monkeypatch, fake):
    """Clone 42 trading BTC with the llm engine; its key is ``KEY``; file artifacts."""
    monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("AUTOTRADER_LLM_API", request.param)
    monkeypatch.setenv("AUTOTRADER_LLM_CACHE", "on")
    monkeypatch.setenv("AUTOTRADER_LLM_RETRIES", "0")
    monkeypatch.setenv("AUTOTRADER_ARTIFACTS", "file")
    monkeypatch.setenv("AUTOTRADER_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    made = world(market_template(tmp_path_factory), tmp_path)
    save_pipeline(made.store, made.clock, pipeline_graph(engine="llm", symbols=("BTC",)))
    yield made
    made.store.close()


def decide(w):
    return make_runner(w.store, w.clock).tick(clone_id=CLONE_ID, force=True, only_scheduled=True)


def assert_the_key_is_nowhere(w, cli, caplog, tmp_path: Path) -> None:
    """No row of any table, no artifact file, no ``decisions show`` output, no log line holds
    the key; it was really echoed (the redaction marker took its place somewhere)."""
    marked = False
    for (table,) in list(w.store.tuples("SELECT name FROM sqlite_master WHERE type = 'table'")):
        for row in w.store.query(f"SELECT * FROM {table}"):
            text = " ".join(map(str, row.values()))
            assert KEY not in text, f"{table}: {row}"
            marked = marked or "***" in text
    assert marked
    files = [p for p in (tmp_path / "artifacts").rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert KEY.encode() not in path.read_bytes(), path
    for run in runs(w.store):
        for args in (("--json",), ()):
            shown = cli("decisions", "show", str(run["id"]), "--db", str(w.path), *args)
            assert shown.exit_code == 0, shown.stderr
            assert KEY not in shown.stdout + shown.stderr
    assert KEY not in caplog.text


def test_a_key_echoed_inside_a_valid_intent_trades_and_is_kept_nowhere(
    w, fake, cli, caplog, tmp_path
):
    caplog.set_level(logging.DEBUG)  # the SDK's and httpx's debug logs included
    fake.reply_json(OPEN_BTC)

    decide(w)

    [run] = runs(w.store)
    [opened] = actions(w.store, run["id"])
    assert (opened["action"], opened["status"]) == ("OPEN", "executed")
    intent = json.loads(opened["intent"])
    assert intent["hypothesis"] == "uptrend; my key is ***"
    assert intent["exit_plan"]["invalidation"] == "if *** leaks"
    assert w.store.scalar("SELECT COUNT(*) FROM response_cache") == 1
    assert_the_key_is_nowhere(w, cli, caplog, tmp_path)


def test_a_key_spelled_with_json_escapes_is_kept_nowhere(w, fake, cli, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    plain = {**OPEN_BTC, "exit_plan": {"stop": "64000"}, "hypothesis": "k"}
    escaped = json.dumps(plain).replace(
        '"hypothesis": "k"', '"hypothesis": "' + "".join(f"\\u{ord(c):04x}" for c in KEY) + '"'
    )
    assert KEY not in escaped
    fake.reply(Reply.text(escaped))

    decide(w)

    [run] = runs(w.store)
    [opened] = actions(w.store, run["id"])
    assert opened["status"] == "executed"
    assert_the_key_is_nowhere(w, cli, caplog, tmp_path)


def test_a_key_echoed_in_an_error_message_is_kept_nowhere(w, fake, cli, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    fake.fail(400, message=f"Invalid request for key {KEY}")

    decide(w)

    [run] = runs(w.store)
    assert "HTTP 400" in run["error"]
    assert [a["status"] for a in actions(w.store, run["id"])] == ["hold"]
    assert_the_key_is_nowhere(w, cli, caplog, tmp_path)


def test_a_key_echoed_by_every_committee_role_is_kept_nowhere(w, fake, cli, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    save_pipeline(w.store, w.clock, pipeline_graph(engine="committee", symbols=("BTC",)))
    answers = {
        "Plan": {
            "mode": "TRADE",
            "explore_ratio": 0.0,
            "next_wakeup_secs": 900,
            "strategies": [{"policy_id": "trend_macd", "params": [{"name": "key", "value": KEY}]}],
        },
        "Proposal": OPEN_BTC,
        "Verdict": {"decision": "APPROVE", "revised_qty": None, "violations": [KEY], "notes": KEY},
    }
    fake.responder = lambda body: Reply.json(answers[schema_name_of(body)])

    decide(w)

    [run] = runs(w.store)
    assert [a["status"] for a in actions(w.store, run["id"])] == ["executed"]
    assert "***" in run["plan"]
    assert "***" in run["verdict"]
    assert_the_key_is_nowhere(w, cli, caplog, tmp_path)
