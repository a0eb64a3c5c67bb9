"""The llm and committee engines through the real openai SDK against the loopback FakeOpenAI
server, both APIs, inside the real decision runner: valid answers execute through the gates;
every malformed or hostile answer is a recorded failure and a HOLD, never an exception and never
a trade; the response cache; Planner → Trader → Judge routed by schema name; memory posteriors,
Thompson sampling and the Planner's wake-up time."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from autotrader.clones.management import create_clone
from autotrader.core.jsonschema import strict_json_schema
from autotrader.decisions import repo
from autotrader.decisions.engines.schemas import Plan, Proposal, Verdict
from autotrader.decisions.memory import read_posteriors, thompson_pick
from tests.fakes.decisions import (
    CADENCE_S,
    CLONE_ID,
    actions,
    count,
    make_runner,
    market_template,
    pipeline_graph,
    runs,
    sandbox_account,
    save_pipeline,
    world,
)
from tests.fakes.openai_server import FakeOpenAI, Reply, prompt_of, schema_name_of

APIS = ["responses", "chat"]
RETRIES = 1
OPEN_BTC = {
    "action": "OPEN",
    "symbol": "BTC",
    "side": "LONG",
    "qty": "0.01",
    "leverage": 2,
    "exit_plan": {"stop": "64000", "target": "70000"},
    "policy_id": "trend_macd",
    "hypothesis": "1h uptrend resumes",
}
CLOSE_BTC = {"action": "CLOSE", "symbol": "BTC", "policy_id": "trend_macd"}
PLAN = {
    "mode": "TRADE",
    "explore_ratio": 0.0,
    "next_wakeup_secs": 900,
    "strategies": [{"policy_id": "trend_macd", "params": []}],
}
APPROVE = {"decision": "APPROVE", "revised_qty": None, "violations": [], "notes": "fine"}


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(params=APIS)
def api(request) -> str:
    return request.param


def model_env(monkeypatch, fake, api: str, *, cache: str = "off", timeout: float = 5.0) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-decisions")
    monkeypatch.setenv("AUTOTRADER_LLM_API", api)
    monkeypatch.setenv("AUTOTRADER_LLM_CACHE", cache)
    monkeypatch.setenv("AUTOTRADER_LLM_RETRIES", str(RETRIES))
    monkeypatch.setenv("AUTOTRADER_LLM_TIMEOUT", str(timeout))
    monkeypatch.setenv("AUTOTRADER_ARTIFACTS", "memory")


@pytest.fixture
def w(tmp_path, tmp_path_factory, monkeypatch, fake, api):
    """Clone 42 trading BTC only with the llm engine, model calls going to the fake."""
    model_env(monkeypatch, fake, api)
    made = world(market_template(tmp_path_factory), tmp_path)
    save_pipeline(made.store, made.clock, pipeline_graph(engine="llm", symbols=("BTC",)))
    yield made
    made.store.close()


def decide(w, **kwargs):
    """One forced tick of clone 42 with a fresh runner (settings read from the environment)."""
    return make_runner(w.store, w.clock).tick(
        clone_id=CLONE_ID, force=True, only_scheduled=True, **kwargs
    )


def invocations(store, run_id: int) -> list[dict]:
    return store.query("SELECT * FROM invocations WHERE run_id = ? ORDER BY id", (run_id,))


def trading_rows(store) -> int:
    return count(store, "SELECT COUNT(*) FROM prop_intents") + count(
        store, "SELECT COUNT(*) FROM prop_fills"
    )


# -- llm --------------------------------------------------------------------------------------


def test_a_valid_trade_intent_from_the_model_executes_through_the_gates(w, fake, api):
    fake.reply_json(OPEN_BTC)

    outcome = decide(w)

    [run] = runs(w.store)
    [action] = actions(w.store, run["id"])
    assert (action["action"], action["status"]) == ("OPEN", "executed")
    assert all(g["passed"] for g in json.loads(action["gate_results"]))
    fill = w.store.query_one("SELECT * FROM prop_fills WHERE id = ?", (action["fill_id"],))
    assert (fill["side"], Decimal(fill["qty"])) == ("BUY", Decimal("0.01"))
    [inv] = invocations(w.store, run["id"])
    assert (inv["role"], inv["api"], inv["status"], inv["schema_name"]) == (
        "trader",
        api,
        "ok",
        "TradeIntent",
    )
    assert run["error"] is None
    assert run["prompt_artifact"]
    assert run["response_artifact"]
    assert run["prompt_hash"]
    [request] = fake.requests
    assert request["path"] == ("/v1/responses" if api == "responses" else "/v1/chat/completions")
    assert schema_name_of(request["body"]) == "TradeIntent"
    assert "BTC" in prompt_of(request["body"])
    assert outcome.runs[0].actions[0]["fill"]["id"] == fill["id"]


def test_the_models_answer_is_linked_to_the_action_it_caused_as_a_tool_call(w, fake):
    fake.reply_json(OPEN_BTC)

    decide(w)

    [run] = runs(w.store)
    [action] = actions(w.store, run["id"])
    [inv] = invocations(w.store, run["id"])
    [call] = w.store.query("SELECT * FROM tool_calls")
    assert (call["invocation_id"], call["name"], call["action_id"]) == (
        inv["id"],
        "CREATE_POSITION",
        action["id"],
    )
    assert json.loads(call["arguments"])["symbol"] == "BTC"


def test_a_fill_traces_back_to_the_prompt_and_the_model_answer_that_caused_it(w, fake):
    from autotrader.ledger.trace import trace

    fake.reply_json(OPEN_BTC)
    decide(w)
    [run] = runs(w.store)
    [action] = actions(w.store, run["id"])

    found = trace(w.store, "fill", action["fill_id"])

    [chain] = found.chains
    assert chain.intent["decision_run_id"] == run["id"]
    assert {e["kind"] for e in chain.entries} == {"FEE"}
    [run_trace] = found.runs
    assert [i["role"] for i in run_trace.invocations] == ["trader"]
    assert [(c["name"], c["action_id"]) for c in run_trace.tool_calls] == [
        ("CREATE_POSITION", action["id"])
    ]
    keys = {a["key"] for a in run_trace.artifacts}
    assert {run["prompt_artifact"], run["response_artifact"]} <= keys


def test_a_registry_model_is_called_by_its_api_name_and_recorded_by_its_own(w, fake):
    from autotrader.clones.management import add_model, set_model

    add_model(w.store, w.clock, name="local-llama", provider="ollama", api_model="llama3.1:8b",
              api="chat", strength=1, input_usd_per_mtok=Decimal("1"),
              output_usd_per_mtok=Decimal("2"))  # fmt: skip
    set_model(w.store, w.clock, CLONE_ID, "local-llama")
    fake.reply(Reply.json({"action": "HOLD", "symbol": "BTC"}, input_tokens=1000,
                          output_tokens=500))  # fmt: skip

    decide(w)

    [request] = fake.requests
    assert request["body"]["model"] == "llama3.1:8b"
    [run] = runs(w.store)
    [inv] = invocations(w.store, run["id"])
    assert (run["model"], inv["model"]) == ("local-llama", "local-llama")
    assert Decimal(inv["cost_usd"]) == Decimal("0.002")  # 1000 × $1/M + 500 × $2/M


def test_model_stats_count_runs_calls_failed_outputs_tokens_and_cost(w, fake):
    from autotrader.decisions.model_stats import minutes, model_stats

    fake.reply(Reply.json(OPEN_BTC, input_tokens=800, output_tokens=100))
    fake.reply_text("I would rather not say.")
    decide(w)
    decide(w)

    [stats] = model_stats(w.store)

    invs = w.store.query("SELECT * FROM invocations")
    assert stats.model == "gpt-5-mini"
    assert (stats.runs, stats.failed_runs) == (len(runs(w.store)), 1)  # the prose answer
    assert (stats.invocations, stats.cached) == (len(invs), 0) == (2, 0)
    assert stats.failed_tool_calls == sum(i["status"] != "ok" for i in invs) == 1
    assert stats.tool_calls == count(w.store, "SELECT COUNT(*) FROM tool_calls") == 1
    assert stats.input_tokens == sum(i["input_tokens"] for i in invs)
    assert stats.output_tokens == sum(i["output_tokens"] for i in invs)
    assert stats.model_minutes == minutes(sum(i["latency_ms"] for i in invs))
    assert stats.cost_usd == sum(Decimal(i["cost_usd"]) for i in invs) > 0


def test_a_hold_from_the_rules_engine_records_no_tool_call(w, fake):
    save_pipeline(w.store, w.clock, pipeline_graph(engine="hold", symbols=("BTC",)))

    decide(w)

    assert w.store.query("SELECT * FROM tool_calls") == []


def _open(**changes) -> dict:
    return {**OPEN_BTC, **changes}


HOSTILE = {
    "prose": (lambda f: f.reply_text("Buy BTC now, it can only go up!"), "invalid_output"),
    "truncated-json": (
        lambda f: f.reply_truncated('{"action": "OPEN", "symbol": "BTC", "si'),
        "truncated",
    ),
    "extra-keys": (lambda f: f.reply_json(_open(execute="rm -rf /")), "invalid_output"),
    "nested-extra-keys": (
        lambda f: f.reply_json(_open(exit_plan={"stop": "64000", "note": "ignore the gates"})),
        "invalid_output",
    ),
    "wrong-types": (lambda f: f.reply_json(_open(leverage="two", side=5)), "invalid_output"),
    "nan-size": (
        lambda f: f.reply_text(json.dumps(_open()).replace('"0.01"', "NaN")),
        "invalid_output",
    ),
    "negative-size": (lambda f: f.reply_json(_open(qty="-0.5")), "invalid_output"),
    "absurd-size-notation": (lambda f: f.reply_json(_open(qty="1e30")), "invalid_output"),
    "another-symbol": (lambda f: f.reply_json(_open(symbol="ETH")), "ok"),
    "refusal": (lambda f: f.reply_refusal("I can't help with trading."), "refused"),
    "rate-limited": (lambda f: f.fail(429, RETRIES + 1), "failed"),
    "server-error": (lambda f: f.fail(500, RETRIES + 1), "failed"),
    "unavailable": (lambda f: f.fail(503, RETRIES + 1), "failed"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_malformed_or_hostile_answer_is_a_recorded_failure_and_a_hold(w, fake, case):
    script, invocation_status = HOSTILE[case]
    script(fake)

    outcome = decide(w)

    [run] = runs(w.store)
    # An answer for another symbol is a usable answer the engine refuses; the rest are none.
    status = "succeeded" if invocation_status == "ok" else "failed"
    assert [r.status for r in outcome.runs] == [status]
    assert run["status"] == status
    assert run["error"]
    [action] = actions(w.store, run["id"])
    assert (action["action"], action["status"]) == ("HOLD", "hold")
    assert trading_rows(w.store) == 0
    [inv] = invocations(w.store, run["id"])
    assert inv["status"] == invocation_status
    assert inv["raw_text"] is not None or invocation_status in ("failed", "refused")
    retried = invocation_status == "failed"  # 429/5xx: the SDK retried before giving up
    assert len(fake.requests) == (RETRIES + 1 if retried else 1)
    assert inv["attempts"] == len(fake.requests)


def test_a_model_that_times_out_is_a_recorded_failure_and_a_hold(
    tmp_path, tmp_path_factory, monkeypatch, fake, api
):
    model_env(monkeypatch, fake, api, timeout=0.2)
    monkeypatch.setenv("AUTOTRADER_LLM_RETRIES", "0")
    made = world(market_template(tmp_path_factory), tmp_path)
    save_pipeline(made.store, made.clock, pipeline_graph(engine="llm", symbols=("BTC",)))
    fake.delay(1.0)
    fake.reply_json(OPEN_BTC)

    decide(made)

    [run] = runs(made.store)
    assert "timeout: no answer within 0.2 s" in run["error"]
    assert [a["status"] for a in actions(made.store, run["id"])] == ["hold"]
    assert [i["status"] for i in invocations(made.store, run["id"])] == ["failed"]
    assert trading_rows(made.store) == 0
    made.store.close()


def test_a_revoked_key_fails_the_run_and_the_tick_counts_toward_the_breaker(w, fake):
    from autotrader.decisions.jobs import DecisionsJob

    fake.fail(401)
    job = DecisionsJob(make_runner(w.store, w.clock), clone_id=CLONE_ID, force=True,
                       only_scheduled=True)  # fmt: skip

    report = job(None)

    [run] = runs(w.store)
    assert run["status"] == "failed"
    assert "authentication failed (HTTP 401)" in run["error"]
    assert [a["status"] for a in actions(w.store, run["id"])] == ["hold"]
    assert report.failed
    assert report.summary.endswith("1 failed")


def test_consecutive_model_failures_put_the_clone_in_safe_mode_until_a_call_succeeds(
    w, fake, monkeypatch
):
    monkeypatch.setenv("AUTOTRADER_DECISION_SAFE_MODE_FAILURES", "2")
    fake.fail(429, 2 * (RETRIES + 1))
    fake.reply_json(OPEN_BTC)

    first, second, recovered = decide(w), decide(w), decide(w)

    assert [r.safe_mode for r in (*first.runs, *second.runs)] == [False, True]
    assert [r["safe_mode"] for r in runs(w.store)] == [0, 1, 0]
    assert [r.status for r in recovered.runs] == ["succeeded"]
    assert [a["status"] for a in recovered.runs[0].actions] == ["executed"]
    assert repo.clones_in_safe_mode(w.store) == []


def test_a_clone_in_safe_mode_holds_even_its_rules_strategies(w, fake, monkeypatch):
    from autotrader.decisions.engines.base import EngineResult
    from autotrader.decisions.engines.hold import hold_result
    from autotrader.decisions.runner import held_in_safe_mode
    from autotrader.decisions.safe_mode import settle
    from autotrader.prop.models import TradeIntent

    failed = hold_result("BTC", "401", error="401")
    failed.failed = True
    with w.store.atomic():
        assert settle(w.store, CLONE_ID, failed, now_ms=1, threshold=1)
        rules_open = EngineResult([TradeIntent.model_validate(OPEN_BTC)])  # no model call
        assert settle(w.store, CLONE_ID, rules_open, now_ms=2, threshold=1)

    [intent] = held_in_safe_mode(rules_open, "BTC").intents
    assert intent.action.value == "HOLD"
    assert intent.hypothesis.startswith("safe mode")
    [clone] = repo.clones_in_safe_mode(w.store)
    assert (clone["clone_id"], clone["safe_mode_since"]) == (CLONE_ID, 1)
    assert clone["last_error"] == "401"


def test_a_schema_valid_but_absurd_size_is_a_recorded_gate_rejection_never_a_trade(w, fake):
    fake.reply_json(_open(qty="900000"))

    decide(w)

    [run] = runs(w.store)
    [action] = actions(w.store, run["id"])
    assert action["status"] == "rejected"
    assert action["reject_code"]
    assert count(w.store, "SELECT COUNT(*) FROM prop_fills") == 0


def test_the_response_cache_makes_a_second_identical_run_make_zero_http_calls(w, fake, monkeypatch):
    monkeypatch.setenv("AUTOTRADER_LLM_CACHE", "on")
    fake.reply_json({"action": "HOLD", "symbol": "BTC", "hypothesis": "no edge"})
    decide(w)
    sent = list(fake.requests)

    decide(w)

    assert len(sent) == 1
    assert fake.requests == sent
    first, second = runs(w.store)
    assert [i["cached"] for i in invocations(w.store, second["id"])] == [1]
    assert json.loads(actions(w.store, second["id"])[0]["intent"]) == json.loads(
        actions(w.store, first["id"])[0]["intent"]
    )


def test_model_runs_are_evaluated_concurrently(w, fake, monkeypatch):
    monkeypatch.setenv("AUTOTRADER_DECISION_CONCURRENCY", "4")
    save_pipeline(w.store, w.clock, pipeline_graph(engine="llm", symbols=("BTC", "ETH")))
    fake.default = Reply.json({"action": "HOLD", "symbol": "BTC"})
    fake.delay(0.3, n=2)

    decide(w)

    assert fake.max_in_flight == 2
    assert len(runs(w.store)) == 2


# -- committee --------------------------------------------------------------------------------


def committee(fake, *, plan=PLAN, proposal=OPEN_BTC, verdict=APPROVE) -> None:
    """Answer each role by the schema it asks for."""
    answers = {"Plan": plan, "Proposal": proposal, "Verdict": verdict}
    fake.responder = lambda body: Reply.json(answers[schema_name_of(body)])


@pytest.fixture
def cw(w):
    """Clone 42 trading BTC with the committee engine."""
    save_pipeline(w.store, w.clock, pipeline_graph(engine="committee", symbols=("BTC",)))
    return w


def roles(store, run_id: int) -> list[tuple[str, str]]:
    return [(i["role"], i["status"]) for i in invocations(store, run_id)]


def test_committee_routes_planner_trader_judge_by_schema_and_an_approval_executes(cw, fake):
    committee(fake)

    decide(cw)

    [run] = runs(cw.store)
    assert [schema_name_of(r["body"]) for r in fake.requests] == ["Plan", "Proposal", "Verdict"]
    assert roles(cw.store, run["id"]) == [("planner", "ok"), ("trader", "ok"), ("judge", "ok")]
    [action] = actions(cw.store, run["id"])
    assert (action["action"], action["status"]) == ("OPEN", "executed")
    assert json.loads(run["plan"])["mode"] == "TRADE"
    assert json.loads(run["verdict"])["decision"] == "APPROVE"
    judge_prompt = prompt_of(fake.requests[2]["body"])
    assert '"limits": {' in judge_prompt  # the Judge sees the account's limits
    trader = next(i for i in invocations(cw.store, run["id"]) if i["role"] == "trader")
    [call] = cw.store.query("SELECT * FROM tool_calls")
    assert (call["invocation_id"], call["action_id"]) == (trader["id"], action["id"])


def test_every_committee_call_archives_its_exact_request_and_answer_for_the_audit(cw, fake):
    from autotrader.decisions.engines.committee import JUDGE_SYSTEM, PLANNER_SYSTEM
    from autotrader.decisions.story import run_story
    from autotrader.ledger.trace import trace

    committee(fake)
    runner = make_runner(cw.store, cw.clock)  # memory artifacts live as long as its backend
    runner.tick(clone_id=CLONE_ID, force=True, only_scheduled=True)

    [run] = runs(cw.store)
    artifacts = runner.artifacts
    story = run_story(cw.store, run["id"])
    sent = {i["role"]: artifacts.get_json(i["request_artifact"]) for i in story["invocations"]}
    answered = {i["role"]: artifacts.get_json(i["response_artifact"]) for i in story["invocations"]}
    body = fake.requests[0]["body"]
    assert sent["planner"]["messages"] == body.get("input", body.get("messages"))
    assert sent["planner"]["messages"][0]["content"] == PLANNER_SYSTEM
    assert sent["judge"]["messages"][0]["content"] == JUDGE_SYSTEM
    assert json.loads(answered["judge"]["raw_text"]) == APPROVE
    [action] = actions(cw.store, run["id"])
    keys = {a["key"] for a in trace(cw.store, "fill", action["fill_id"]).runs[0].artifacts}
    assert {i["request_artifact"] for i in story["invocations"]} <= keys


def test_a_judge_revision_changes_the_quantity(cw, fake):
    committee(fake, verdict={**APPROVE, "decision": "REVISE", "revised_qty": "0.004"})

    decide(cw)

    [run] = runs(cw.store)
    [action] = actions(cw.store, run["id"])
    assert action["status"] == "executed"
    assert json.loads(action["intent"])["qty"] == "0.004"
    fill = cw.store.query_one("SELECT qty FROM prop_fills WHERE id = ?", (action["fill_id"],))
    assert Decimal(fill["qty"]) == Decimal("0.004")


def test_a_judge_revision_to_no_quantity_holds(cw, fake):
    committee(fake, verdict={**APPROVE, "decision": "REVISE", "revised_qty": "0"})

    decide(cw)

    [run] = runs(cw.store)
    assert "invalid qty" in run["error"]
    assert [a["status"] for a in actions(cw.store, run["id"])] == ["hold"]
    assert trading_rows(cw.store) == 0


def test_a_judge_rejection_holds(cw, fake):
    verdict = {**APPROVE, "decision": "REJECT", "violations": ["stop too far"], "notes": "no"}
    committee(fake, verdict=verdict)

    decide(cw)

    [run] = runs(cw.store)
    [action] = actions(cw.store, run["id"])
    assert action["status"] == "hold"
    assert "stop too far" in action["reason"]
    assert trading_rows(cw.store) == 0


def test_an_observing_planner_holds_without_asking_trader_or_judge(cw, fake):
    committee(fake, plan={**PLAN, "mode": "OBSERVE"})

    decide(cw)

    [run] = runs(cw.store)
    assert [schema_name_of(r["body"]) for r in fake.requests] == ["Plan"]
    assert [a["status"] for a in actions(cw.store, run["id"])] == ["hold"]
    assert trading_rows(cw.store) == 0


@pytest.mark.parametrize(
    "plan",
    [
        {**PLAN, "next_wakeup_secs": 5},
        {**PLAN, "strategies": []},
        {**PLAN, "mode": "YOLO"},
        {**PLAN, "explore_ratio": 2},
        {**PLAN, "extra": True},
    ],
    ids=["wakeup-too-soon", "no-strategies", "unknown-mode", "ratio-above-1", "extra-key"],
)
def test_a_bad_plan_holds_and_asks_nobody_else(cw, fake, plan):
    committee(fake, plan=plan)

    decide(cw)

    [run] = runs(cw.store)
    assert "planner output refused" in run["error"]
    assert roles(cw.store, run["id"]) == [("planner", "invalid_output")]
    assert [a["status"] for a in actions(cw.store, run["id"])] == ["hold"]
    assert repo.next_due(cw.store, CLONE_ID) is None


def _objects(node):
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


@pytest.mark.parametrize("model", [Plan, Proposal, Verdict], ids=lambda m: m.__name__)
def test_committee_schemas_are_strict_at_every_level(model):
    schema = strict_json_schema(model)

    objects = list(_objects(schema))

    nested = {Plan: 3, Proposal: 2, Verdict: 1}[model]  # Plan > strategies > params, ...
    assert len(objects) >= nested
    for obj in objects:
        assert obj["additionalProperties"] is False
        assert sorted(obj["required"]) == sorted(obj["properties"])


def test_the_schemas_sent_to_the_model_are_strict(cw, fake, api):
    committee(fake)

    decide(cw)

    for request in fake.requests:
        body = request["body"]
        fmt = body["text"]["format"] if api == "responses" else body["response_format"]
        spec = fmt if api == "responses" else fmt["json_schema"]
        assert spec["strict"] is True
        assert all(o["additionalProperties"] is False for o in _objects(spec["schema"]))


def test_posteriors_grow_from_closed_positions_and_reach_the_planner(cw, fake):
    committee(fake)
    decide(cw)
    assert read_posteriors(cw.store, CLONE_ID)["trend_macd"].trades == 0  # still open
    cw.clock.advance(ms=3 * 3_600_000)
    committee(fake, proposal=CLOSE_BTC)
    decide(cw)

    posterior = read_posteriors(cw.store, CLONE_ID)["trend_macd"]

    position = cw.store.query_one("SELECT * FROM positions")
    assert position["status"] == "CLOSED"
    net = (
        Decimal(position["realized_pnl"])
        - Decimal(position["fees_paid"])
        + Decimal(position["funding_paid"])
    )
    assert posterior.trades == 1
    assert posterior.wins == int(net > 0)
    assert (posterior.alpha, posterior.beta) == (1 + posterior.wins, 2 - posterior.wins)
    expected = float(net / (Decimal(position["entry_price"]) * Decimal(position["max_qty"])))
    assert posterior.mean_return == pytest.approx(expected, abs=1e-6)
    fake.requests.clear()
    committee(fake, plan={**PLAN, "mode": "OBSERVE"})
    decide(cw)
    planner_prompt = prompt_of(fake.requests[0]["body"])
    assert '"trend_macd": {"alpha": ' in planner_prompt
    assert '"trades": 1' in planner_prompt


def test_thompson_sampling_is_deterministic_for_a_trace_id(cw, fake):
    posteriors = read_posteriors(cw.store, CLONE_ID)
    policies = ["bb_breakout", "ema_macd", "rsi_mr"]

    picks = {seed: thompson_pick(policies, posteriors, seed=seed) for seed in map(str, range(40))}

    assert picks == {s: thompson_pick(policies, posteriors, seed=s) for s in picks}
    assert set(picks.values()) == set(policies)  # with no history every policy gets explored
    plan = {
        **PLAN,
        "explore_ratio": 1.0,
        "strategies": [{"policy_id": p, "params": []} for p in policies],
    }
    committee(fake, plan=plan, proposal={"action": "HOLD", "symbol": "BTC"})
    decide(cw)
    [run] = runs(cw.store)
    chosen = thompson_pick(policies, posteriors, seed=run["trace_id"])
    assert f"run policy {chosen!r}" in prompt_of(fake.requests[1]["body"])


def test_the_planners_wakeup_moves_the_clones_next_due_time(cw, fake):
    runner = make_runner(cw.store, cw.clock)
    committee(fake, plan={**PLAN, "mode": "OBSERVE", "next_wakeup_secs": 60})
    start = cw.clock.now_ms()
    runner.tick(clone_id=CLONE_ID)
    assert repo.next_due(cw.store, CLONE_ID) == start + 60_000

    cw.clock.advance(seconds=59)
    early = runner.tick(clone_id=CLONE_ID)
    cw.clock.advance(seconds=1)
    woken = runner.tick(clone_id=CLONE_ID)

    assert early.runs == []
    assert [r.status for r in woken.runs] == ["succeeded"]  # inside the same 300 s bucket
    assert [r["bucket"] for r in runs(cw.store)] == [start, start + 60_000]
    assert repo.next_due(cw.store, CLONE_ID) == start + 120_000


def test_a_planner_that_fails_does_not_stall_the_clone(cw, fake):
    runner = make_runner(cw.store, cw.clock)
    committee(fake, plan={**PLAN, "mode": "OBSERVE", "next_wakeup_secs": 60})
    runner.tick(clone_id=CLONE_ID)
    cw.clock.advance(seconds=60)
    fake.responder = None
    fake.reply_text("the planner is confused")
    runner.tick(clone_id=CLONE_ID)  # no plan, so no new wake-up time
    committee(fake, plan={**PLAN, "mode": "OBSERVE", "next_wakeup_secs": 60})

    cw.clock.advance(ms=CADENCE_S * 1000)
    later = runner.tick(clone_id=CLONE_ID)

    assert [r.status for r in later.runs] == ["succeeded"]
    assert len(runs(cw.store)) == 3


def test_a_slow_model_call_holds_back_only_its_own_accounts_later_runs(w, fake):
    save_pipeline(w.store, w.clock, pipeline_graph(engine="llm", symbols=("BTC", "ETH")))
    create_clone(w.store, w.clock, name="second", clone_id=43)
    save_pipeline(w.store, w.clock, pipeline_graph(engine="llm", symbols=("ETH",)), clone_id=43)
    sandbox_account(w.store, w.clock, 43)

    def answer(body):
        symbol = "BTC" if "decide one action for BTC" in prompt_of(body) else "ETH"
        if symbol == "BTC":
            time.sleep(0.5)  # one slow model call
        return Reply.json({"action": "HOLD", "symbol": symbol})

    fake.responder = answer
    runner = make_runner(w.store, w.clock, concurrency=2, batch=4)

    outcome = runner.tick(force=True)

    ids = {(r["account_id"], r["symbol"]): r["id"] for r in runs(w.store)}
    slow, after_slow, other = ids[(1, "BTC")], ids[(1, "ETH")], ids[(2, "ETH")]
    assert slow < after_slow < other  # claim order
    assert [r.run_id for r in outcome.runs] == [other, slow, after_slow]
    assert all(r.status == "succeeded" for r in outcome.runs)
