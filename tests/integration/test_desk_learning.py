"""Rule-based learning on the replay clock: closed trades → outcomes → lessons and insights;
confident memories promoted; the portfolio's history; the reactive triggers on outcomes."""

from __future__ import annotations

import itertools

import pytest

from autotrader.desk import company, policies
from autotrader.desk.learning import MemoryNote, learn_from_outcomes, promote_insights, remember
from autotrader.desk.vocabulary import AgentId, MemoryType
from tests.fakes.decisions import market_template
from tests.fakes.desk import desk_world


@pytest.fixture(scope="module")
def traded(tmp_path_factory):
    """A replayed day of the desk trading alone with 1 % stops (BTC and ETH move enough in a
    day to stop some trades out and take profit on others)."""
    world = desk_world(market_template(tmp_path_factory), tmp_path_factory.mktemp("learning"))
    world.allow_trades_alone()
    policies.set_policy(
        world.store, world.clock, "risk_controls", '{"default_stop_loss_pct": -0.01}'
    )
    for _ in world.day(minutes=15):
        pass
    yield world
    world.store.close()


def test_every_closed_desk_trade_becomes_one_outcome(traded):
    closed = traded.store.query(
        "SELECT id, close_trigger FROM positions WHERE account_id = ? AND status = 'CLOSED'",
        (traded.account_id,),
    )
    outcomes = traded.store.query("SELECT * FROM desk_trade_outcomes ORDER BY position_id")
    assert [o["position_id"] for o in outcomes] == sorted(p["id"] for p in closed)
    assert {o["close_trigger"] for o in outcomes} >= {"STOP", "TARGET"}
    for outcome in outcomes:
        assert outcome["mission_id"] is not None
        assert outcome["signal_source"] == "indicator"
        assert outcome["hold_time_ms"] > 0
        kind = outcome["outcome_type"]
        assert (kind == "win") == (outcome["pnl_pct"][0] != "-" and kind != "breakeven")

    again = learn_from_outcomes(traded.store, traded.clock, should_stop=lambda: False)
    assert again.outcomes == []


def test_a_loss_is_a_lesson_for_its_proposer_and_a_win_an_insight_for_growth(traded):
    outcomes = traded.store.query("SELECT * FROM desk_trade_outcomes")
    loss = next(o for o in outcomes if o["outcome_type"] == "loss")
    win = next(o for o in outcomes if o["outcome_type"] == "win")
    memories = {
        (m["agent_id"], m["type"], m["key"]): m
        for m in traded.store.query("SELECT * FROM desk_memories")
    }
    lesson = memories[("scout", "lesson", f"loss:indicator:{loss['side']}:{loss['symbol']}")]
    assert lesson["confidence"] == 0.55
    assert lesson["content"] in loss["lessons_learned"]
    insight = memories[("growth", "insight", f"win:indicator:{win['side']}:{win['symbol']}")]
    assert insight["content"].startswith(f"{win['side']} {win['symbol']} (indicator signal) won")
    assert insight["content"] in win["lessons_learned"]


def test_closes_are_reported_by_scout_and_a_stop_makes_growth_review_the_entry(traded):
    closes = traded.store.query("SELECT * FROM desk_events WHERE kind = 'trade_closed'")
    assert {c["agent_id"] for c in closes} == {"scout"}
    stopped = [c for c in closes if '"stop_loss"' in c["tags"]]
    assert stopped
    reviews = traded.store.query(
        "SELECT * FROM desk_proposals WHERE source_ref = 'trigger:stop_loss_hit'"
    )
    assert reviews
    assert {(r["agent_id"], r["status"]) for r in reviews} == {("growth", "accepted")}
    assert '"review_performance"' in reviews[0]["steps"]


def test_the_portfolio_history_has_a_row_per_heartbeat_slot(traded):
    rows = traded.store.query("SELECT * FROM desk_portfolio_history ORDER BY time")[:96]
    assert {b["time"] - a["time"] for a, b in itertools.pairwise(rows)} == {15 * 60_000}
    last = rows[-1]
    assert last["trades"] == traded.count("SELECT COUNT(*) FROM desk_trade_outcomes")
    assert last["win_rate"] is not None
    assert last["sharpe"] is not None
    assert last["pnl_24h"] is None  # 23 h 45 of history: no row a whole day before


def test_corroborated_confident_memories_are_promoted_and_announced(desk_store):
    store, clock = desk_store
    company.set_pattern(store, clock, "strategy_proposal", probability=1.0)
    note = MemoryNote(AgentId.GROWTH, MemoryType.PATTERN, "record:x", "x works", ("pattern",))
    with store.atomic():
        for _ in range(6):
            remember(store, note, trace="test", now_ms=clock.now_ms())
    memory = store.query_one("SELECT * FROM desk_memories WHERE key = 'record:x'")
    assert (memory["confidence"], memory["evidence_count"]) == (0.8, 6)

    assert promote_insights(store, clock, should_stop=lambda: False) == [memory["id"]]
    assert promote_insights(store, clock, should_stop=lambda: False) == []

    event = store.query_one("SELECT * FROM desk_events WHERE kind = 'memory'")
    assert event["agent_id"] == "growth"
    assert set(event["tags"][1:-1].replace('"', "").split(", ")) == {
        "insight",
        "pattern",
        "promoted",
    }


@pytest.fixture
def desk_store(tmp_path, tmp_path_factory):
    world = desk_world(market_template(tmp_path_factory), tmp_path)
    yield world.store, world.clock
    world.store.close()
