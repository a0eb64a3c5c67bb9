"""``autotrader decisions`` (alias ``decide``) and ``prop decisions-worker`` on a copy of the
bundled-candles store with clone 42, under the replay clock (``AUTOTRADER_NOW``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autotrader.core.clock import iso_utc
from tests.fakes.decisions import (
    CLONE_ID,
    copy_store,
    market_template,
    open_test_store,
    pipeline_graph,
    replay_clock,
    replay_start,
    save_pipeline,
)
from tests.fakes.openai_server import FakeOpenAI

OPEN_BTC = {
    "action": "OPEN",
    "symbol": "BTC",
    "side": "LONG",
    "qty": "0.01",
    "leverage": 2,
    "exit_plan": {"stop": "64000", "target": "70000"},
    "hypothesis": "1h uptrend resumes",
}


@pytest.fixture
def db(tmp_path: Path, tmp_path_factory, monkeypatch) -> str:
    """Clone 42 with the rules pipeline and no prop account yet, the clock a day before the
    bundled data ends."""
    monkeypatch.setenv("AUTOTRADER_NOW", iso_utc(replay_start()))
    return str(copy_store(market_template(tmp_path_factory), tmp_path / "decisions.db"))


def run(cli, db: str, *args: str):
    return cli(*args, "--db", db)


def ok(result):
    assert result.exit_code == 0, result.stderr
    return result


def query(db: str, sql: str, params=()) -> list[dict]:
    store = open_test_store(Path(db))
    try:
        return store.query(sql, params)
    finally:
        store.close()


def one_line_error(result, *words: str) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0]
    return lines[0]


# -- run-once ---------------------------------------------------------------------------------


def test_run_once_opens_a_sandbox_account_when_the_clone_has_none_and_says_so(cli, db):
    result = ok(run(cli, db, "decisions", "run-once", "--clone-id", "42", "--force"))

    assert "clone 42 had no active prop account: opened sandbox account 1" in result.stdout
    assert "2 runs" in result.stdout
    accounts = query(db, "SELECT clone_id, kind, status FROM prop_accounts")
    assert accounts == [{"clone_id": CLONE_ID, "kind": "sandbox", "status": "active"}]
    again = ok(run(cli, db, "decisions", "run-once", "--clone-id", "42", "--force"))
    assert "opened sandbox account" not in again.stdout


def test_run_once_prints_each_assets_action_gate_outcome_and_fill(cli, db):
    result = ok(run(cli, db, "decisions", "run-once", "--clone-id", "42", "--force", "--json"))

    data = json.loads(result.stdout.split("\n", 1)[1])  # after the "opened sandbox" line
    by_asset = {r["symbol"]: r for r in data["runs"]}
    assert sorted(by_asset) == ["BTC", "ETH"]
    for run_ in by_asset.values():
        [action] = run_["actions"]
        assert (action["action"], action["status"]) == ("OPEN", "executed")
        fill = action["fill"]
        assert fill["idempotency_key"] == f"decision:{fill['account_id']}:run:{run_['run_id']}:0"
    assert data["summary"].startswith("2 runs (2 newly due, 0 skipped), 2 fills")


def test_run_once_with_an_asset_and_dry_run_records_gates_but_fills_nothing(cli, db):
    args = ["decisions", "run-once", "--clone-id", "42", "--asset", "btc", "--dry-run"]

    result = ok(run(cli, db, *args))

    assert "accepted" in result.stdout
    assert query(db, "SELECT symbol, dry_run FROM decision_runs") == [
        {"symbol": "BTC", "dry_run": 1}
    ]
    assert query(db, "SELECT COUNT(*) AS n FROM prop_fills") == [{"n": 0}]


def test_the_decide_alias_runs_the_same_command(cli, db):
    result = ok(run(cli, db, "decide", "run-once", "--clone-id", "42", "--engine", "hold"))

    assert "2 runs" in result.stdout
    assert query(db, "SELECT DISTINCT engine FROM decision_runs") == [{"engine": "hold"}]


# -- list and show ----------------------------------------------------------------------------


def test_list_json_returns_the_runs_newest_first_and_filters_by_status(cli, db):
    ok(run(cli, db, "decisions", "run-once", "--clone-id", "42"))

    listed = json.loads(ok(run(cli, db, "decisions", "list", "--json")).stdout)
    skipped = json.loads(
        ok(run(cli, db, "decisions", "list", "--status", "skipped", "--json")).stdout
    )

    assert [r["id"] for r in listed] == [2, 1]
    assert {r["symbol"]: r["status"] for r in listed} == {"BTC": "succeeded", "ETH": "succeeded"}
    assert skipped == []
    table = ok(run(cli, db, "decisions", "list", "--clone-id", "42")).stdout
    assert "trend-rules" in table
    assert "succeeded" in table


def test_show_tells_the_whole_story_of_a_rules_run(cli, db):
    ok(run(cli, db, "decisions", "run-once", "--clone-id", "42"))
    [btc] = query(db, "SELECT * FROM decision_runs WHERE symbol = 'BTC'")

    story = json.loads(ok(run(cli, db, "decisions", "show", str(btc["id"]), "--json")).stdout)
    text = ok(run(cli, db, "decisions", "show", str(btc["id"]))).stdout

    assert story["run"]["context_artifact"] == btc["context_artifact"]
    [action] = story["actions"]
    assert action["intent"]["action"] == "OPEN"
    assert action["gate_results"]
    assert action["fill"]["id"] == action["fill_id"]
    for piece in (
        f"run {btc['id']}",
        f"context_artifact: {btc['context_artifact']}",
        "margin",  # a gate row
        "→ executed: SELL" if action["intent"]["side"] == "SHORT" else "→ executed: BUY",
    ):
        assert piece in text


def test_a_rules_runs_context_is_a_small_reference_that_show_rebuilds_and_verifies(cli, db):
    ok(run(cli, db, "decisions", "run-once", "--clone-id", "42"))
    [btc] = query(db, "SELECT * FROM decision_runs WHERE symbol = 'BTC'")
    [artifact] = query(db, "SELECT * FROM artifacts WHERE key = ?", (btc["context_artifact"],))

    story = json.loads(ok(run(cli, db, "decisions", "show", str(btc["id"]), "--json")).stdout)
    text = ok(run(cli, db, "decisions", "show", str(btc["id"]))).stdout

    assert artifact["size"] < 2_000  # a reference into market memory, not a copy of it
    context = story["context"]
    assert context["verified"] is True
    assert context["strategy"] == "trend-rules"
    market = context["market"]
    assert (market["symbol"], market["granularity"]) == ("BTC", "1h")
    assert len(market["bars"]) == 2  # the rules engine reads two bars: only those are built
    assert all(bar["rsi14"] is not None and bar["macd_hist"] is not None for bar in market["bars"])
    assert "bars from market memory, verified" in text
    assert "rsi14" in text


def test_show_says_when_market_memory_no_longer_holds_what_a_run_saw(cli, db):
    ok(run(cli, db, "decisions", "run-once", "--clone-id", "42"))
    [btc] = query(db, "SELECT * FROM decision_runs WHERE symbol = 'BTC'")
    first = json.loads(ok(run(cli, db, "decisions", "show", str(btc["id"]), "--json")).stdout)
    seen = first["context"]["market"]["bars"][0]
    store = open_test_store(Path(db))
    try:
        store.execute(
            "UPDATE indicators SET rsi14 = rsi14 + 1 WHERE symbol = 'BTC' AND timeframe = '1h'"
            " AND open_time = ?",
            (seen["open_time"],),
        )
    finally:
        store.close()

    story = json.loads(ok(run(cli, db, "decisions", "show", str(btc["id"]), "--json")).stdout)
    text = ok(run(cli, db, "decisions", "show", str(btc["id"]))).stdout

    assert story["context"]["verified"] is False
    assert "market memory changed since the decision" in story["context"]["problem"]
    assert "market memory changed since the decision" in text


def test_ledger_trace_of_a_rules_fill_reaches_the_runs_context(cli, db):
    ok(run(cli, db, "decisions", "run-once", "--clone-id", "42"))
    [btc] = query(db, "SELECT * FROM decision_runs WHERE symbol = 'BTC'")
    [action] = query(db, "SELECT * FROM decision_actions WHERE run_id = ?", (btc["id"],))

    fill = f"fill:{action['fill_id']}"
    data = json.loads(ok(run(cli, db, "ledger", "trace", fill, "--json")).stdout)

    [traced] = data["runs"]
    assert traced["run"]["id"] == btc["id"]
    [context] = [a for a in traced["artifacts"] if a["key"] == btc["context_artifact"]]
    assert context["kind"] == "context"


@pytest.mark.slow  # over a second: a model call through the real client, then show
def test_show_of_an_llm_run_includes_the_prompt_and_the_model_output(
    cli, db, monkeypatch, tmp_path
):
    with FakeOpenAI() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-cli")
        monkeypatch.setenv("AUTOTRADER_LLM_CACHE", "off")
        fake.reply_json(OPEN_BTC)
        args = ["decisions", "run-once", "--clone-id", "42", "--asset", "BTC", "--engine", "llm"]
        ok(run(cli, db, *args))
    [llm] = query(db, "SELECT * FROM decision_runs")

    text = ok(run(cli, db, "decisions", "show", str(llm["id"]))).stdout

    for key in ("prompt_hash", "context_artifact", "prompt_artifact", "response_artifact"):
        assert llm[key]
        assert f"{key}: {llm[key]}" in text
    assert "invocation 1 trader gpt-5-mini (responses): ok" in text
    assert 'model output: {"action": "OPEN"' in text
    assert "→ executed: BUY 0.01 BTC" in text
    prompt_file = next((Path(tmp_path) / "home" / "data").rglob(f"*{llm['prompt_artifact']}*"))
    assert "BTC" in prompt_file.read_text()
    assert "trader prompt (system): You are the Trader" in text  # from the call's own artifact
    story = json.loads(ok(run(cli, db, "decisions", "show", str(llm["id"]), "--json")).stdout)
    [invocation] = story["invocations"]
    assert [m["role"] for m in invocation["messages"]] == ["system", "user"]


# -- workers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["decisions", "worker"], ["prop", "decisions-worker"]])
def test_a_worker_decides_for_every_active_account_and_stops_after_max_ticks(cli, db, command):
    create = ["prop", "accounts", "create", "--clone-id", "42", "--kind", "sandbox"]
    ok(run(cli, db, *create, "--balance", "10000"))

    result = ok(run(cli, db, *command, "--max-ticks", "2", "--interval", "0.01"))

    assert "stopped (max_ticks) after 2 ticks, 0 failed" in result.stdout
    assert len(query(db, "SELECT id FROM decision_runs WHERE status = 'succeeded'")) == 2


# -- hostile input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["decisions", "run-once", "--clone-id", "42", "--engine", "nope"], ["--engine", "nope"]),
        (["decisions", "run-once", "--clone-id", "42", "--engine", "rules,llm"], ["--engine"]),
        (["decisions", "run-once", "--clone-id", "999"], ["clone 999 does not exist"]),
        (["decisions", "list", "--status", "bogus"], ["--status", "bogus"]),
        (["decisions", "show", "12345"], ["decision run 12345 does not exist"]),
        (["decide", "run-once", "--clone-id", "7", "--force"], ["clone 7 does not exist"]),
    ],
    ids=["unknown-engine", "two-engines", "unknown-clone", "bad-status", "no-run", "alias"],
)
def test_hostile_flags_exit_1_with_one_line_and_no_traceback(cli, db, args, words):
    one_line_error(run(cli, db, *args), *words)


def test_a_clone_without_a_pipeline_is_a_note_not_a_crash(cli, db):
    ok(run(cli, db, "clones", "create", "--name", "empty", "--id", "7"))

    result = ok(run(cli, db, "decisions", "run-once", "--clone-id", "7", "--force"))

    assert "note: account " in result.stdout
    assert "clone 7 has no" in result.stdout
    assert "0 runs" in result.stdout


def test_run_once_with_an_llm_pipeline_but_no_model_configured_fails_and_holds_with_the_reason(
    cli, db
):
    store = open_test_store(Path(db))
    save_pipeline(store, replay_clock(), pipeline_graph(engine="llm", symbols=("BTC",)))
    store.close()

    result = run(cli, db, "decisions", "run-once", "--clone-id", "42", "--json")

    assert result.exit_code == 1  # a failed run: a cron pass says so
    data = json.loads(result.stdout.split("\n", 1)[1])
    [run_] = data["runs"]
    assert run_["status"] == "failed"
    assert run_["actions"][0]["action"] == "HOLD"
    assert "no API key" in run_["error"]


def test_memory_shows_each_policys_posterior_and_the_experiments_behind_it(cli, db):
    ok(run(cli, db, "decisions", "run-once", "--clone-id", "42", "--force"))
    recorded = query(db, "SELECT id, policy_id FROM experiments ORDER BY id DESC")
    assert recorded, "the rules engine tags its intents with a policy"
    policy = recorded[0]["policy_id"]

    [memory] = json.loads(ok(run(cli, db, "decisions", "memory", "--json")).stdout)
    by_policy = ("decisions", "memory", "--clone-id", "42", "--policy", policy, "--json")
    [only] = json.loads(ok(run(cli, db, *by_policy)).stdout)

    assert memory["clone_id"] == CLONE_ID
    assert [e["id"] for e in memory["experiments"]] == [r["id"] for r in recorded]
    assert [p["policy_id"] for p in memory["posteriors"]] == sorted(
        {r["policy_id"] for r in recorded}
    )
    assert all(float(p["alpha"]) >= 1 and float(p["beta"]) >= 1 for p in memory["posteriors"])
    assert [p["policy_id"] for p in only["posteriors"]] == [policy]
    assert {e["policy_id"] for e in only["experiments"]} == {policy}
    table = ok(run(cli, db, "decisions", "memory", "--clone-id", "42")).stdout
    assert "policy posteriors" in table
    assert policy in table


def test_the_leaderboard_by_policy_scores_each_policys_closed_trades(cli, db):
    ok(run(cli, db, "decisions", "run-once", "--clone-id", "42", "--force"))
    opened = query(
        db,
        "SELECT e.policy_id, e.position_id FROM experiments e JOIN decision_actions a"
        " ON a.id = e.action_id WHERE a.action = 'OPEN' AND e.outcome = 'executed'",
    )
    assert opened, "the rules pipeline opens a position on the bundled data"
    ok(run(cli, db, "prop", "admin", "close-all", "--account", "1", "--reason", "score it"))
    nets = {
        r["position_id"]: r["net"]
        for r in query(
            db,
            "SELECT position_id, SUM(CAST(amount AS REAL)) AS net FROM ledger_entries"
            " WHERE position_id IS NOT NULL GROUP BY position_id",
        )
    }

    rows = json.loads(ok(run(cli, db, "ledger", "leaderboard", "--by", "policy", "--json")).stdout)

    by_policy = {r["policy"]: r for r in rows}
    for policy in {o["policy_id"] for o in opened}:
        mine = [o["position_id"] for o in opened if o["policy_id"] == policy]
        row = by_policy[policy]
        assert (row["opened"], row["trades"], row["open_now"]) == (len(mine), len(mine), 0)
        assert float(row["pnl"]) == pytest.approx(sum(nets[p] for p in mine))
        assert row["clone_ids"] == [CLONE_ID]
    table = ok(run(cli, db, "ledger", "leaderboard", "--by", "policy")).stdout
    assert "Leaderboard by policy, sorted by pnl" in table


def test_a_clone_in_safe_mode_shows_in_decisions_list_and_workers_status(cli, db, monkeypatch):
    monkeypatch.setenv("AUTOTRADER_DECISION_SAFE_MODE_FAILURES", "1")
    store = open_test_store(Path(db))
    save_pipeline(store, replay_clock(), pipeline_graph(engine="llm", symbols=("BTC",)))
    store.close()
    run(cli, db, "decisions", "run-once", "--clone-id", "42")  # no model configured: fails

    listed = ok(run(cli, db, "decisions", "list", "--clone-id", "42")).stdout
    [run_] = json.loads(ok(run(cli, db, "decisions", "list", "--json")).stdout)
    status = json.loads(ok(run(cli, db, "workers", "status", "--json")).stdout)
    table = ok(run(cli, db, "workers", "status")).stdout

    assert "failed (safe mode)" in listed
    assert (run_["status"], run_["safe_mode"]) == ("failed", 1)
    [clone] = status["safe_mode"]
    assert (clone["clone_id"], clone["consecutive_failures"]) == (CLONE_ID, 1)
    assert "no API key" in clone["last_error"]
    assert {"jobs", "workers"} <= status.keys()
    assert "Clones in safe mode" in table
