"""Roundtables through the real openai SDK against the loopback fake: a whole standup, every
hostile turn class recorded while the conversation goes on, a clean end after three bad turns,
the proposal on the table decided, memories validated, drift logged, and a rerun answered from
the response cache byte for byte at no cost."""

from __future__ import annotations

import itertools
import json

import pytest

from autotrader.decisions.factory import lazy_model_client
from autotrader.desk import proposals
from autotrader.desk.conversation import RoundtableRunner
from autotrader.desk.formats import load_format
from autotrader.desk.models import ProposalDraft, StepDraft
from autotrader.desk.roundtables import convene
from autotrader.desk.vocabulary import AgentId, ProposalSource, StepKind
from autotrader.prop.models import Side
from tests.fakes.decisions import market_template
from tests.fakes.desk import desk_world, env
from tests.fakes.openai_server import FakeOpenAI, Reply, prompt_of, schema_name_of
from tests.fakes.roundtable import Talk, action, memory, said, turn_of


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def model_env(monkeypatch, fake):
    monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-desk")
    monkeypatch.setenv("AUTOTRADER_LLM_RETRIES", "0")
    monkeypatch.setenv("AUTOTRADER_LLM_TIMEOUT", "0.5")
    monkeypatch.setenv("AUTOTRADER_DESK_MODEL", "gpt-4.1-mini")  # priced, and takes a temperature


@pytest.fixture
def desk(tmp_path, tmp_path_factory, model_env):
    world = desk_world(market_template(tmp_path_factory), tmp_path)
    yield world
    world.store.close()


def runner(desk) -> RoundtableRunner:
    settings = env(desk.store, desk.clock).settings
    client = lazy_model_client(settings, desk.store, desk.clock)
    return RoundtableRunner(desk.store, desk.clock, client, model=settings.desk_model)


def hold(desk, format: str = "morning_standup", **kwargs):
    convened = convene(desk.store, desk.clock, load_format(desk.store, format), **kwargs)
    assert convened.roundtable_id is not None, convened.refused
    return runner(desk).hold(worker_id="test", roundtable_id=convened.roundtable_id)


def pending_trade(desk):
    """A 30 USD BTC long of SCOUT's, waiting for its roundtable (the seed's policy)."""
    draft = ProposalDraft(
        agent_id=AgentId.SCOUT,
        title="long BTC",
        confidence=0.9,
        source=ProposalSource.TRIGGER,
        steps=(
            StepDraft(kind=StepKind.EXECUTE_TRADE, symbol="BTC", side=Side.LONG, notional_usd="30"),
        ),
    )
    outcome = proposals.submit(desk.store, desk.clock, draft)
    assert outcome.status == "pending", outcome.reason
    return outcome


def turns(desk, roundtable_id: int = 1) -> list[dict]:
    return desk.store.query(
        "SELECT * FROM desk_roundtable_turns WHERE roundtable_id = ? ORDER BY seq",
        (roundtable_id,),
    )


def test_a_morning_standup_is_a_transcript_of_turns_each_in_its_speakers_name(desk, fake):
    talk = Talk()
    fake.responder = talk

    held = hold(desk)

    assert (held.status, held.lost) == ("succeeded", False)
    roundtable = desk.store.query_one("SELECT * FROM desk_roundtables WHERE id = 1")
    table = json.loads(roundtable["participants"])
    assert 6 <= roundtable["turns_planned"] <= 12
    assert {"atlas", "sage", "intel"} <= set(table)
    assert 4 <= len(table) <= 6
    rows = turns(desk)
    assert len(rows) == roundtable["turns_planned"] == len(fake.requests)
    assert [r["status"] for r in rows] == ["ok"] * len(rows)
    assert [(r["seq"] + 1, r["speaker"]) for r in rows] == talk.asked
    assert rows[0]["speaker"] == "atlas"  # the convener opens
    assert all(a["speaker"] != b["speaker"] for a, b in itertools.pairwise(rows))
    assert len({r["speaker"] for r in rows[: len(table)]}) == len(table)  # everyone speaks
    assert [r["message"] for r in rows] == [said(r["seq"] + 1, r["speaker"]) for r in rows]

    last = fake.requests[-1]["body"]
    assert schema_name_of(last) == "DeskRoundtableTurn"
    assert last["temperature"] == 0.6  # the format's, not the configured default
    assert f"You are {rows[-1]['speaker'].upper()}:" in prompt_of(last)
    for earlier in rows[:-1]:
        assert said(earlier["seq"] + 1, earlier["speaker"]) in prompt_of(last)
    calls = desk.store.query("SELECT role, trace_id, cost_usd FROM invocations ORDER BY id")
    assert {c["role"] for c in calls} == {"roundtable"}
    traces = [f"desk:roundtable:1:turn:{seq}" for seq in range(len(rows))]
    assert [c["trace_id"] for c in calls] == traces
    assert all(c["cost_usd"] != "0" for c in calls)
    assert roundtable["summary"].startswith(f"{len(rows)} of {len(rows)} turns good")


@pytest.mark.parametrize(
    ("reply", "status", "error"),
    [
        (Reply.text("Honestly, I think we should just buy."), "invalid_output", "not JSON: prose"),
        ({"speaker": "nobody"}, "wrong_speaker", "answered as 'nobody'"),
        ({"mood": "bullish"}, "invalid_output", "mood"),
        (Reply.refusal("I can't help with trading."), "refused", "model refused"),
        (Reply.truncated('{"speaker": "sage", "mess'), "truncated", "answer cut off"),
        (Reply.json({}).after(1.5), "failed", "timeout"),
    ],
    ids=["prose", "wrong-speaker", "extra-keys", "refusal", "truncated", "timeout"],
)
def test_a_bad_turn_is_recorded_and_the_next_speaker_goes_on(desk, fake, reply, status, error):
    fake.responder = Talk({2: reply})

    held = hold(desk)

    rows = turns(desk)
    bad = rows[1]
    assert bad["status"] == status
    assert error in bad["error"]
    assert bad["message"] is None
    assert rows[2]["status"] == "ok"
    assert rows[2]["speaker"] != bad["speaker"]  # the floor passed on
    assert held.status == "succeeded"
    assert f"{len(rows) - 1} of {len(rows)} turns good" in held.line


def test_three_bad_turns_in_a_row_end_the_conversation_cleanly_with_its_reason(desk, fake):
    pending = pending_trade(desk)
    prose = Reply.text("Let me think about it.")
    fake.responder = Talk({2: prose, 3: prose, 4: prose})

    held = runner(desk).hold(worker_id="test")

    assert held.roundtable_id == pending.roundtable_id
    assert held.status == "failed"
    assert held.line.startswith("3 bad turns in a row (last: invalid_output: not JSON")
    assert len(turns(desk, held.roundtable_id)) == 4  # it stopped there
    assert not held.unreachable  # the model answered: its answers were the problem
    proposal = desk.store.query_one(
        "SELECT * FROM desk_proposals WHERE id = ?", (pending.proposal_id,)
    )
    assert (proposal["status"], proposal["gate"]) == ("rejected", "roundtable.failed")
    assert desk.count("SELECT COUNT(*) FROM desk_relationship_drift") == 0
    assert desk.count("SELECT COUNT(*) FROM desk_missions") == 0


def test_a_dead_model_server_ends_it_as_unreachable_and_counts_against_the_breaker(desk, fake):
    from autotrader.desk.jobs import roundtable_job
    from tests.fakes.desk import ctx

    convene(desk.store, desk.clock, load_format(desk.store, "watercooler"))
    fake.fail(500, n=10)

    report = roundtable_job(env(desk.store, desk.clock))(ctx(desk.store, desk.clock))

    assert report.result.unreachable
    assert report.failed  # to the harness: a failed tick, backed off from, exit 1 when it stops
    assert "3 bad turns in a row (last: failed: server error (HTTP 500)" in report.summary
    breaker = desk.store.query_one("SELECT * FROM desk_workers WHERE name = 'roundtable'")
    assert breaker["consecutive_failures"] == 1


def test_a_pending_trade_is_approved_by_its_roundtable_and_judged_again_by_the_gates(desk, fake):
    pending = pending_trade(desk)
    fake.responder = lambda body: Reply.json(_voting(body, reject={"sage"}))

    held = runner(desk).hold(worker_id="test")

    assert held.status == "succeeded"
    proposal = desk.store.query_one(
        "SELECT * FROM desk_proposals WHERE id = ?", (pending.proposal_id,)
    )
    assert proposal["status"] == "accepted"
    assert proposal["reason"].startswith("roundtable approved it 2–1 (atlas, scout approve; sage")
    assert proposal["mission_id"] is not None
    gates = [g["gate"] for g in json.loads(proposal["gate_results"])]
    assert gates.count("execute_trade.size") == 2  # at the proposal, and again when approved
    assert "roundtable.verdict" in gates
    assert "on the table, for your vote" in prompt_of(fake.requests[0]["body"]).lower()


def test_an_approved_trade_that_no_longer_fits_the_limits_is_refused(desk, fake):
    from autotrader.desk import policies

    pending = pending_trade(desk)
    policies.set_policy(desk.store, desk.clock, "trade_limits", '{"max_position_size_usd": 20}')
    fake.responder = lambda body: Reply.json(_voting(body))

    runner(desk).hold(worker_id="test")

    proposal = desk.store.query_one(
        "SELECT * FROM desk_proposals WHERE id = ?", (pending.proposal_id,)
    )
    assert (proposal["status"], proposal["gate"]) == ("rejected", "execute_trade.size")
    assert proposal["reason"] == "approved, then refused: 30 USD > max_position_size_usd 20"
    assert desk.count("SELECT COUNT(*) FROM desk_missions") == 0


def test_a_trade_its_roundtable_votes_down_is_rejected_with_the_votes(desk, fake):
    pending = pending_trade(desk)
    fake.responder = lambda body: Reply.json(_voting(body, reject={"sage", "atlas"}))

    runner(desk).hold(worker_id="test")

    proposal = desk.store.query_one(
        "SELECT * FROM desk_proposals WHERE id = ?", (pending.proposal_id,)
    )
    assert (proposal["status"], proposal["gate"]) == ("rejected", "roundtable.verdict")
    assert proposal["reason"] == "roundtable rejected it 1–2 (scout approve; atlas, sage reject)"


def _voting(body: dict, *, reject: set[str] = frozenset()) -> dict:
    from tests.fakes.roundtable import answer

    turn, speaker = turn_of(body)
    return answer(turn, speaker, {"vote": "reject" if speaker in reject else "approve"})


def test_action_items_become_proposals_through_the_cap_gates(desk, fake):
    big = action(
        {"kind": "execute_trade", "symbol": "BTC", "side": "LONG", "notional_usd": "6000"},
        title="all in on BTC",
    )
    scan = action({"kind": "analyze_signal", "symbol": "ETH"}, title="scan ETH")
    bogus = action({"kind": "yolo"}, title="something else")
    fake.responder = Talk({1: {"action_items": [big, scan]}, 2: {"action_items": [bogus, scan]}})

    hold(desk)

    rows = desk.store.query("SELECT * FROM desk_proposals WHERE source = 'worker' ORDER BY id")
    assert [(r["title"], r["status"], r["gate"]) for r in rows] == [
        ("all in on BTC", "rejected", "execute_trade.size"),
        ("scan ETH", "accepted", None),
        ("something else", "rejected", "proposal.schema"),
    ]
    assert [r["source_ref"] for r in rows] == ["roundtable:1:turn:0"] * 2 + ["roundtable:1:turn:1"]
    assert rows[0]["agent_id"] == "atlas"
    second = turns(desk)[1]
    assert '"skipped": "at most 3 action items a roundtable"' in second["action_items"]
    assert desk.count("SELECT COUNT(*) FROM prop_intents") == 0


def test_memory_candidates_are_validated_and_remembered_with_their_turn(desk, fake):
    again = memory(key="Chasing Pumps", content="Chasing pumps costs the desk")
    fake.responder = Talk(
        {
            1: {"memory_candidates": [memory(), again]},
            2: {"memory_candidates": [memory(confidence=0.95), memory(type="feeling")]},
        }
    )

    hold(desk)

    stored = desk.store.query("SELECT * FROM desk_memories")
    assert [
        (
            m["agent_id"],
            m["type"],
            m["key"],
            m["confidence"],
            m["evidence_count"],
            m["source_trace"],
        )
        for m in stored
    ] == [("atlas", "lesson", "chasing_pumps", 0.6, 1, "roundtable:1:turn:0")]
    first, second = (json.loads(t["memory_candidates"]) for t in turns(desk)[:2])
    assert [c.get("memory_id") for c in first] == [stored[0]["id"]] * 2
    assert first[1]["evidence"] == "already counted"  # one piece of evidence a conversation
    assert [c["refused"] for c in second] == [
        "confidence 0.95 outside the lesson range 0.55–0.75",
        "unknown type 'feeling' (types: insight, pattern, strategy, preference, lesson)",
    ]


def test_relationships_drift_within_the_bounds_with_a_log_entry_saying_why(desk, fake):
    fake.responder = Talk()

    hold(desk)

    drift = desk.store.query("SELECT * FROM desk_relationship_drift ORDER BY id")
    assert drift
    for entry in drift:
        assert 0 < entry["after"] - entry["before"] <= 0.03 + 1e-9
        assert entry["reason"].endswith(("agreement", "agreements"))
    pair = desk.store.query_one(
        "SELECT * FROM desk_relationships WHERE agent_a = ? AND agent_b = ?",
        (drift[0]["agent_a"], drift[0]["agent_b"]),
    )
    assert pair["affinity"] == drift[0]["after"]
    assert pair["total_interactions"] >= 1


def test_memories_shape_the_topic_when_the_policy_draws_them_and_it_is_recorded(desk, fake):
    from autotrader.desk import policies
    from autotrader.desk.learning import MemoryNote, remember
    from autotrader.desk.vocabulary import MemoryType

    with desk.store.atomic():
        note = MemoryNote(
            AgentId.SAGE, MemoryType.LESSON, "stops", "Stops inside 1 % get hit", ("BTC",)
        )
        remember(desk.store, note, trace="test", now_ms=desk.clock.now_ms(), confidence=0.7)
    policies.set_policy(desk.store, desk.clock, "memory_influence_policy", '{"probability": 1}')
    fake.responder = Talk()

    hold(desk)

    roundtable = desk.store.query_one("SELECT * FROM desk_roundtables WHERE id = 1")
    assert roundtable["topic"].endswith("revisit SAGE's lesson (0.70): Stops inside 1 % get hit")
    assert "sage's lesson, 0.70] Stops inside 1 % get hit" in prompt_of(fake.requests[0]["body"])
    [influence] = desk.store.query("SELECT * FROM desk_memory_influences")
    assert (influence["decision"], influence["influenced"], influence["roundtable_id"]) == (
        "topic",
        1,
        1,
    )

    policies.set_policy(desk.store, desk.clock, "memory_influence_policy", '{"probability": 0}')
    hold(desk)
    latest = desk.store.query_one("SELECT * FROM desk_memory_influences ORDER BY id DESC")
    assert (latest["influenced"], latest["effect"]) == (0, "drew 0.18 ≥ probability 0.00")


def test_a_rerun_from_the_response_cache_is_byte_identical_and_costs_nothing(
    tmp_path, tmp_path_factory, model_env, fake
):
    template = market_template(tmp_path_factory)
    first = desk_world(template, tmp_path / "first")
    second = desk_world(template, tmp_path / "second")  # the same store, before the conversation
    fake.responder = Talk({1: {"memory_candidates": [memory()]}})
    hold(first)
    for row in first.store.query("SELECT * FROM response_cache"):
        second.store.insert("response_cache", row, returning="key")
    asked = len(fake.requests)
    fake.responder = lambda body: Reply.error(500)  # nothing may reach the model now

    hold(second)

    def transcript(world) -> list[tuple]:
        return [
            tuple(
                r[k]
                for k in (
                    "seq",
                    "speaker",
                    "status",
                    "message",
                    "reaction",
                    "vote",
                    "memory_candidates",
                    "action_items",
                )
            )
            for r in turns(world)
        ]

    assert transcript(second) == transcript(first)
    assert len(fake.requests) == asked
    calls = second.store.query("SELECT cached, cost_usd, attempts FROM invocations")
    assert {(c["cached"], c["cost_usd"], c["attempts"]) for c in calls} == {(1, "0", 0)}
    assert second.store.query("SELECT key, confidence FROM desk_memories") == first.store.query(
        "SELECT key, confidence FROM desk_memories"
    )
    first.store.close()
    second.store.close()


# -- the worker: schedules and the daily cap ----------------------------------------------------

STANDUP_TIME = "2026-02-19T14:31:00Z"  # 06:31 in Los Angeles (PST): the standup is due


def at(desk, iso: str) -> None:
    from autotrader.core.clock import parse_iso_utc

    desk.clock.advance(ms=parse_iso_utc(iso) - desk.clock.now_ms())


def tick(desk, worker: str = "worker-1"):
    from autotrader.desk.jobs import roundtable_job
    from tests.fakes.desk import ctx

    return roundtable_job(env(desk.store, desk.clock, worker))(ctx(desk.store, desk.clock, worker))


def test_the_worker_convenes_the_standup_at_its_pacific_time_once_and_holds_it(desk, fake):
    fake.responder = Talk()
    at(desk, STANDUP_TIME)

    first = tick(desk)

    queued = desk.store.query("SELECT id, format, slot, status FROM desk_roundtables ORDER BY id")
    assert queued[0] == {
        "id": 1,
        "format": "morning_standup",
        "slot": "morning_standup@2026-02-19",
        "status": "succeeded",
    }
    assert first.result.roundtable_id == 1
    assert {r["slot"] for r in queued[1:]} <= {
        "debate:atlas-intel@2026-02-19",
        "debate:intel-sage@2026-02-19",
    }  # the low-affinity pairs, as their draws decide
    second = tick(desk, "worker-2")  # another worker: the standup's slot is taken
    slots = [r["slot"] for r in desk.store.query("SELECT slot FROM desk_roundtables")]
    assert slots.count("morning_standup@2026-02-19") == 1
    assert second.counts["queued"] == 0


def test_the_daily_cap_refuses_what_would_pass_it(desk, fake):
    from autotrader.desk import policies

    fake.responder = Talk()
    policies.set_policy(
        desk.store, desk.clock, "roundtable_policy", '{"max_daily_conversations": 1}'
    )
    at(desk, STANDUP_TIME)

    report = tick(desk)

    assert desk.count("SELECT COUNT(*) FROM desk_roundtables") == 1
    assert "refused (roundtable.daily_max)" in report.summary
    convened = convene(desk.store, desk.clock, load_format(desk.store, "watercooler"))
    assert convened.roundtable_id is None
    assert convened.refused.reason == "1 roundtables today >= max_daily_conversations 1"


def test_a_roundtable_run_from_the_command_line_is_never_taken_up_by_a_worker(desk, fake):
    from autotrader.desk.transcripts import hold_now

    convened = convene(
        desk.store, desk.clock, load_format(desk.store, "watercooler"), claimed_by="cli@host:1"
    )
    assert runner(desk).hold(worker_id="worker-1") is None  # nothing queued for it to claim
    row = desk.store.query_one(
        "SELECT * FROM desk_roundtables WHERE id = ?", (convened.roundtable_id,)
    )
    assert (row["status"], row["claimed_by"]) == ("running", "cli@host:1")

    fake.responder = Talk()
    settings = env(desk.store, desk.clock).settings
    client = lazy_model_client(settings, desk.store, desk.clock)
    held = hold_now(desk.store, desk.clock, client, "debate", worker_id="cli@host:2")
    assert held.status == "succeeded"
    assert {
        t["roundtable_id"] for t in desk.store.query("SELECT * FROM desk_roundtable_turns")
    } == {held.roundtable_id}
