"""The desk's whole loop on the replay clock over the bundled candles, with the rules-based
signal analyzer: signal → proposal → auto-approval (or a gate) → mission → execute_trade → fill
→ event → reaction (GROWTH analyses) → new proposal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autotrader.desk import company, policies
from autotrader.desk.vocabulary import MissionStatus, ProposalStatus, StepStatus
from autotrader.prop import repo as prop_repo
from tests.fakes.decisions import market_template
from tests.fakes.desk import Desk, desk_key, desk_world


@pytest.fixture
def desk(tmp_path, tmp_path_factory):
    world = desk_world(market_template(tmp_path_factory), tmp_path)
    yield world
    world.store.close()


def first_trade(desk: Desk) -> dict:
    """Run the replayed day until SCOUT's first fill; that fill's event."""
    for _ in desk.day():
        rows = desk.store.query(
            "SELECT * FROM desk_events WHERE kind = 'trade' AND tags LIKE '%executed%'"
            " ORDER BY id LIMIT 1"
        )
        if rows:
            return rows[0]
    raise AssertionError("no trade in the replayed day")


def test_a_signal_becomes_a_trade_and_growth_analyses_it(desk):
    desk.allow_trades_alone()
    company.set_pattern(desk.store, desk.clock, "trade_analysis", probability=1.0)

    trade_event = first_trade(desk)
    desk.beat()  # the reaction matrix reads the trade's event

    q = desk.store.query
    step = q("SELECT * FROM desk_steps WHERE id = ?", (trade_event["step_id"],))[0]
    mission = q("SELECT * FROM desk_missions WHERE id = ?", (step["mission_id"],))[0]
    proposal = q("SELECT * FROM desk_proposals WHERE id = ?", (mission["proposal_id"],))[0]
    signal = q("SELECT * FROM desk_signals WHERE id = ?", (proposal["signal_id"],))[0]
    assert signal["confidence"] > 0.8
    assert (proposal["agent_id"], proposal["source"], proposal["status"]) == (
        "scout",
        "trigger",
        ProposalStatus.ACCEPTED,
    )
    assert proposal["source_ref"] == "trigger:signal_high_confidence"
    assert mission["kind"] == "entry"
    assert step["kind"] == "execute_trade"
    assert step["status"] == StepStatus.SUCCEEDED

    intent = prop_repo.intent_by_key(desk.store, desk_key(desk, step["id"]))
    assert intent["account_id"] == desk.account_id
    assert intent["status"] == "accepted"
    position = prop_repo.get_position(desk.store, step["position_id"])
    assert position["symbol"] == signal["symbol"]
    assert position["side"] == signal["side"]
    assert position["stop"] is not None
    assert position["target"] is not None

    assert (trade_event["agent_id"], trade_event["position_id"]) == ("scout", position["id"])
    reaction = q("SELECT * FROM desk_reactions WHERE event_id = ?", (trade_event["id"],))[0]
    analysis = q("SELECT * FROM desk_proposals WHERE id = ?", (reaction["proposal_id"],))[0]
    assert (analysis["agent_id"], analysis["source"], analysis["status"]) == (
        "growth",
        "reaction",
        ProposalStatus.ACCEPTED,
    )
    assert analysis["source_ref"] == f"reaction:{reaction['id']}"
    assert '"review_performance"' in analysis["steps"]


def test_the_seed_policy_sends_a_trade_to_a_roundtable_instead_of_trading(desk):
    for _ in desk.day(hours=2):
        pass

    pending = desk.store.query(
        "SELECT p.*, r.format, r.status AS roundtable FROM desk_proposals p"
        " JOIN desk_roundtables r ON r.id = p.roundtable_id WHERE p.status = 'pending'"
    )
    assert pending, "a high-confidence signal should have been proposed"
    assert {(p["agent_id"], p["format"], p["roundtable"]) for p in pending} == {
        ("scout", "debate", "queued")
    }
    assert "execute_trade needs a roundtable" in pending[0]["gate_results"]
    assert (
        desk.count("SELECT COUNT(*) FROM prop_fills WHERE account_id = ?", (desk.account_id,)) == 0
    )


def test_a_replayed_day_makes_the_same_choices(tmp_path, tmp_path_factory):
    def run(folder) -> list[tuple]:
        world = desk_world(market_template(tmp_path_factory), folder)
        world.allow_trades_alone()
        try:
            for _ in world.day(hours=12):
                pass
            return world.store.query(
                "SELECT r.pattern_id, r.event_id, r.status, p.agent_id, p.status AS decided"
                " FROM desk_reactions r JOIN desk_proposals p ON p.id = r.proposal_id ORDER BY r.id"
            ), world.store.query("SELECT symbol, side, qty, entry_price FROM positions ORDER BY id")
        finally:
            world.store.close()

    first, second = run(tmp_path / "a"), run(tmp_path / "b")
    assert first == second
    reactions, positions = first
    assert reactions
    assert positions


def test_missions_finish_when_their_steps_do(desk):
    desk.allow_trades_alone()
    for _ in desk.day(hours=3):
        pass

    q = desk.store.query
    finished = q("SELECT id, status FROM desk_missions WHERE status IN ('succeeded', 'failed')")
    assert finished
    for mission in finished:
        steps = q("SELECT status FROM desk_steps WHERE mission_id = ?", (mission["id"],))
        if mission["status"] == MissionStatus.SUCCEEDED:
            assert {s["status"] for s in steps} == {StepStatus.SUCCEEDED}
        else:
            assert StepStatus.FAILED in {s["status"] for s in steps}
    events = q("SELECT tags FROM desk_events WHERE kind = 'mission'")
    assert any('"succeeded"' in e["tags"] for e in events)
    assert any('"approved"' in e["tags"] for e in events)


def test_a_trade_above_the_size_limit_is_refused_at_the_proposal_with_its_numbers(desk):
    from autotrader.desk import proposals
    from autotrader.desk.models import ProposalDraft, StepDraft
    from autotrader.desk.vocabulary import AgentId, ProposalSource, StepKind
    from autotrader.prop.models import Side

    desk.allow_trades_alone()
    draft = ProposalDraft(
        agent_id=AgentId.SCOUT,
        title="all in",
        steps=(StepDraft(kind=StepKind.EXECUTE_TRADE, symbol="BTC", side=Side.LONG,
                         notional_usd="4000"),),
        confidence=0.9,
        source=ProposalSource.TRIGGER,
    )  # fmt: skip
    outcome = proposals.submit(desk.store, desk.clock, draft)

    assert outcome.status is ProposalStatus.REJECTED
    assert outcome.gate == "execute_trade.size"
    assert outcome.checks[-1].numbers == {"notional_usd": "4000", "max_position_size_usd": "40"}
    assert desk.count("SELECT COUNT(*) FROM desk_missions") == 0
    assert desk.count("SELECT COUNT(*) FROM desk_proposals WHERE gate = 'execute_trade.size'") == 1


def test_a_policy_change_takes_effect_at_the_next_proposal(desk):
    policies.set_policy(desk.store, desk.clock, "trade_limits", '{"max_daily_analyses": 1}')
    desk.beat()  # the first beat's proactive rules ask for two analyses (scan, research)

    rejected = desk.store.query(
        "SELECT title, gate, reason FROM desk_proposals WHERE status = 'rejected'"
    )
    assert [(r["gate"], r["reason"]) for r in rejected] == [
        ("analyze_signal.daily_quota", "2 analyses today > max_daily_analyses 1")
    ]


def test_scout_plans_a_signal_at_the_current_price_not_the_signals(desk):
    from autotrader.desk.repo import learning as learning_repo
    from autotrader.market.view import execution_price

    desk.allow_trades_alone()
    policies.set_policy(desk.store, desk.clock, "risk_controls", '{"default_stop_loss_pct": -0.01}')
    now = execution_price(desk.store, "BTC", desk.clock.now_ms()).price
    with desk.store.atomic():  # read half an hour ago, 5 % above where BTC is now
        learning_repo.insert_signal(desk.store, {
            "symbol": "BTC", "signal_type": "buy", "side": "LONG", "source": "indicator",
            "confidence": 0.9, "price": now * Decimal("1.05"), "timeframe": "5m",
            "bar_time": desk.clock.now_ms() - 30 * 60_000, "metadata": {}, "step_id": None,
            "created_at": desk.clock.now_ms(),
        })  # fmt: skip

    desk.beat()

    [plan] = desk.store.query("SELECT * FROM desk_proposals WHERE source_ref LIKE '%high_conf%'")
    assert plan["status"] == ProposalStatus.ACCEPTED, plan["reason"]
    assert Decimal(plan["stop_loss"]) < now < Decimal(plan["take_profit"])
