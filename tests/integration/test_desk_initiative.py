"""The initiative-worker through the real openai SDK against the loopback fake: off by
default; hostile or malformed model output is refused at the proposal (or recorded as a failed
invocation) and nothing executes."""

from __future__ import annotations

import pytest

from autotrader.core.worker import TickReport
from autotrader.desk import policies
from autotrader.desk.learning import MemoryNote, remember
from autotrader.desk.vocabulary import AgentId, MemoryType
from tests.fakes.decisions import market_template
from tests.fakes.desk import ctx, desk_world, env
from tests.fakes.openai_server import FakeOpenAI, prompt_of, schema_name_of

ENABLED = '{"enabled": true, "min_memories_required": 1, "cooldown_hours": 4}'


def answer(*steps: dict, title: str = "A plan", confidence: float | None = 0.9) -> dict:
    full = [{"symbol": None, "side": None, "notional_usd": None, "position_id": None, **s}
            for s in steps]  # fmt: skip
    return {"title": title, "rationale": "the data says so", "confidence": confidence,
            "steps": full}  # fmt: skip


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def desk(tmp_path, tmp_path_factory, monkeypatch, fake):
    monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-desk")
    monkeypatch.setenv("AUTOTRADER_LLM_CACHE", "off")
    monkeypatch.setenv("AUTOTRADER_LLM_RETRIES", "0")
    world = desk_world(market_template(tmp_path_factory), tmp_path)
    with world.store.atomic():
        note = MemoryNote(AgentId.ATLAS, MemoryType.LESSON, "k", "Never chase a pump", ("t",))
        remember(world.store, note, trace="test", now_ms=world.clock.now_ms())
    yield world
    world.store.close()


def tick(desk) -> TickReport:
    from autotrader.desk.jobs import initiative_job

    return initiative_job(env(desk.store, desk.clock, "initiative"))(ctx(desk.store, desk.clock))


def proposals(desk) -> list[dict]:
    return desk.store.query("SELECT * FROM desk_proposals WHERE source = 'initiative'")


def nothing_executes(desk) -> None:
    assert desk.count("SELECT COUNT(*) FROM desk_missions") == 0
    assert desk.count("SELECT COUNT(*) FROM prop_intents") == 0


def test_initiatives_are_off_by_default_and_call_no_model(desk, fake):
    report = tick(desk)
    assert report.idle
    assert report.summary == "initiative: idle: initiative_policy is disabled"
    assert fake.paths() == []


def test_a_trade_a_hundred_times_the_size_limit_is_refused_at_the_proposal(desk, fake):
    policies.set_policy(desk.store, desk.clock, "initiative_policy", ENABLED)
    fake.reply_json(answer({"kind": "execute_trade", "symbol": "BTC", "side": "LONG",
                            "notional_usd": "6000"}))  # fmt: skip

    report = tick(desk)

    [proposal] = proposals(desk)
    assert (proposal["agent_id"], proposal["status"]) == ("atlas", "rejected")
    assert proposal["gate"] == "execute_trade.size"
    assert proposal["reason"] == "6000 USD > max_position_size_usd 60"
    assert proposal["source_ref"].startswith("invocation:")
    assert report.summary == f"initiative: atlas: proposal {proposal['id']} rejected"
    nothing_executes(desk)
    body = fake.requests[0]["body"]
    assert schema_name_of(body) == "DeskInitiative"
    assert "You are ATLAS" in prompt_of(body)


@pytest.mark.parametrize(
    ("step", "gate", "reason"),
    [
        ({"kind": "yolo"}, "proposal.schema", "steps.0.kind: Input should be"),
        ({"kind": "execute_trade", "symbol": "BTC", "side": "SIDEWAYS", "notional_usd": "10"},
         "proposal.schema", "steps.0.side"),
        ({"kind": "analyze_signal", "symbol": "NOPE"}, "analyze_signal.symbol", "NOPE: not in"),
    ],
)  # fmt: skip
def test_an_unknown_step_kind_side_or_symbol_is_refused_with_its_reason(
    desk, fake, step, gate, reason
):
    policies.set_policy(desk.store, desk.clock, "initiative_policy", ENABLED)
    fake.reply_json(answer(step))

    tick(desk)

    [proposal] = proposals(desk)
    assert (proposal["status"], proposal["gate"]) == ("rejected", gate)
    assert reason in proposal["reason"]
    nothing_executes(desk)


def test_an_answer_that_is_not_the_schema_is_a_recorded_failure_not_a_proposal(desk, fake):
    policies.set_policy(desk.store, desk.clock, "initiative_policy", ENABLED)
    fake.reply_text("Sure! Let's buy everything.")

    report = tick(desk)

    assert proposals(desk) == []
    invocation = desk.store.query_one("SELECT * FROM invocations ORDER BY id DESC LIMIT 1")
    assert invocation["status"] == "invalid_output"
    event = desk.store.query_one("SELECT * FROM desk_events WHERE kind = 'initiative'")
    assert event["agent_id"] == "atlas"
    assert '"invalid_output"' in event["tags"]
    assert "refused (invalid_output)" in report.summary
    worker = desk.store.query_one("SELECT * FROM desk_workers WHERE name = 'initiative'")
    assert worker["consecutive_failures"] == 0  # the model's fault, not the worker's
    nothing_executes(desk)


def test_an_unreachable_model_counts_against_the_breaker_and_cools_the_agent_down(desk, fake):
    policies.set_policy(desk.store, desk.clock, "initiative_policy", ENABLED)
    fake.fail(500, n=5)

    report = tick(desk)

    assert report.counts == {"errors": 1}
    worker = desk.store.query_one("SELECT * FROM desk_workers WHERE name = 'initiative'")
    assert worker["consecutive_failures"] == 1
    assert tick(desk).summary == "initiative: idle: no agent is due an initiative"


def test_memories_inform_the_prompt_when_the_influence_draw_says_so(desk, fake):
    policies.set_policy(desk.store, desk.clock, "initiative_policy", ENABLED)
    influence = '{"probability": 1, "min_confidence": 0.5}'
    policies.set_policy(desk.store, desk.clock, "memory_influence_policy", influence)
    fake.reply_json(answer({"kind": "calculate_risk"}))

    tick(desk)

    assert "Never chase a pump" in prompt_of(fake.requests[0]["body"])
    [proposal] = proposals(desk)
    assert proposal["status"] == "accepted"  # a risk analysis passes alone


def remember_many(desk, agent: AgentId, n: int) -> None:
    with desk.store.atomic():
        for i in range(n):
            note = MemoryNote(agent, MemoryType.PATTERN, f"p{i}", f"pattern {i} holds", ("t",))
            remember(desk.store, note, trace="test", now_ms=desk.clock.now_ms())


def test_an_agent_below_the_memories_required_takes_no_initiative(desk, fake):
    policies.set_policy(desk.store, desk.clock, "initiative_policy", '{"enabled": true}')
    remember_many(desk, AgentId.ATLAS, 3)  # 4 with the fixture's: the seed requires 5

    assert tick(desk).summary == "initiative: idle: no agent is due an initiative"
    remember_many(desk, AgentId.SAGE, 5)
    fake.reply_json(answer({"kind": "calculate_risk"}))
    assert tick(desk).summary.startswith("initiative: sage: proposal")
    assert fake.paths() == ["/v1/responses"]


def test_at_most_three_initiatives_a_day_four_hours_apart_through_the_gates(desk, fake):
    from autotrader.core.clock import DAY_MS, HOUR_MS

    policies.set_policy(desk.store, desk.clock, "initiative_policy", '{"enabled": true}')
    remember_many(desk, AgentId.ATLAS, 5)
    now = desk.clock.now_ms()
    desk.clock.advance(ms=DAY_MS - now % DAY_MS + 10 * 60_000)  # 00:10 UTC, a new day
    fake.responder = lambda body: answer({"kind": "calculate_risk"})

    done = []
    for _ in range(6):  # every 2 hours: 00:10, 02:10 (cooling), 04:10, ..., 10:10
        done.append(tick(desk).summary.removeprefix("initiative: ").split(":")[0])
        desk.clock.advance(ms=2 * HOUR_MS)

    assert done == ["atlas", "idle", "atlas", "idle", "atlas", "idle"]
    assert "no agent is due" in tick(desk).summary  # 12:10: the day's three are used
    made = proposals(desk)
    # the same analysis while the first still waits for its worker: the gates refuse it
    assert [(p["status"], p["gate"]) for p in made] == [
        ("accepted", None),
        ("rejected", "proposal.duplicate"),
        ("rejected", "proposal.duplicate"),
    ]
    calls = desk.store.query("SELECT role, trace_id FROM invocations ORDER BY id")
    assert {c["role"] for c in calls} == {"initiative"}
    consulted = desk.store.query("SELECT * FROM desk_memory_influences ORDER BY id")
    assert [c["proposal_id"] for c in consulted] == [p["id"] for p in made]
    assert {c["decision"] for c in consulted} == {"proposal"}
