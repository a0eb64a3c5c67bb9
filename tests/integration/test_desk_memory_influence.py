"""The memory influence policy shapes trade proposals and conversation topics when its seeded
draw says so, and every consultation is recorded: the report's rate is measured from those
records, not read off the policy."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autotrader.core.clock import MINUTE_MS
from autotrader.desk import policies
from autotrader.desk.formats import load_format
from autotrader.desk.influence import consult, record
from autotrader.desk.learning import MemoryNote, remember
from autotrader.desk.policies import load_policies
from autotrader.desk.repo import learning as learning_repo
from autotrader.desk.report import desk_report
from autotrader.desk.roundtables import convene
from autotrader.desk.vocabulary import AgentId, InfluenceDecision, MemoryType
from autotrader.market.view import execution_price
from tests.fakes.decisions import market_template
from tests.fakes.desk import desk_world


@pytest.fixture
def desk(tmp_path, tmp_path_factory):
    world = desk_world(market_template(tmp_path_factory), tmp_path)
    yield world
    world.store.close()


def lesson(desk, key: str = "btc_longs", tag: str = "BTC", confidence: float = 0.65) -> int:
    note = MemoryNote(
        AgentId.SCOUT,
        MemoryType.LESSON,
        key,
        f"{tag} longs on indicator signals lost 1.2 % in 20 min, stopped out",
        ("trade", "loss", tag),
    )
    with desk.store.atomic():
        return remember(
            desk.store, note, trace="test", now_ms=desk.clock.now_ms(), confidence=confidence
        )


def signal(desk, confidence: float = 0.9) -> None:
    price = execution_price(desk.store, "BTC", desk.clock.now_ms()).price
    with desk.store.atomic():
        learning_repo.insert_signal(
            desk.store,
            {
                "symbol": "BTC",
                "signal_type": "buy",
                "side": "LONG",
                "source": "indicator",
                "confidence": confidence,
                "price": price,
                "timeframe": "5m",
                "bar_time": desk.clock.now_ms() - 5 * MINUTE_MS,
                "metadata": {},
                "step_id": None,
                "created_at": desk.clock.now_ms(),
            },
        )


def test_a_lesson_about_the_symbol_tempers_scouts_plan_and_is_cited(desk):
    desk.allow_trades_alone()
    memory_id = lesson(desk)
    policies.set_policy(desk.store, desk.clock, "memory_influence_policy", '{"probability": 1}')
    signal(desk, confidence=0.9)

    desk.beat()

    [plan] = desk.store.query("SELECT * FROM desk_proposals WHERE source_ref LIKE '%high_conf%'")
    assert plan["confidence"] == pytest.approx(0.85)
    assert f"[memory {memory_id}: scout's lesson, 0.65]" in plan["rationale"]
    [influence] = desk.store.query("SELECT * FROM desk_memory_influences")
    assert (influence["decision"], influence["influenced"], influence["proposal_id"]) == (
        "proposal",
        1,
        plan["id"],
    )
    assert influence["effect"] == "confidence 0.90 → 0.85 (1 lessons)"


def test_a_tempered_plan_below_the_confidence_floor_is_refused_by_its_gate(desk):
    desk.allow_trades_alone()
    policies.set_policy(desk.store, desk.clock, "trade_limits", '{"min_confidence": 0.7}')
    for key in ("a", "b", "c", "d"):
        lesson(desk, key=key)
    policies.set_policy(desk.store, desk.clock, "memory_influence_policy", '{"probability": 1}')
    signal(desk, confidence=0.82)  # a strong signal, but three lessons take 0.15 off (at most)

    desk.beat()

    [plan] = desk.store.query("SELECT * FROM desk_proposals WHERE source_ref LIKE '%high_conf%'")
    assert (plan["status"], plan["gate"]) == ("rejected", "execute_trade.confidence")
    assert plan["reason"] == "confidence 0.67 < min_confidence 0.70"
    assert desk.count("SELECT COUNT(*) FROM desk_missions WHERE kind = 'entry'") == 0


def test_memories_about_another_symbol_or_below_the_floor_do_not_shape_it(desk):
    desk.allow_trades_alone()
    lesson(desk, tag="ETH")
    lesson(desk, key="weak", confidence=0.55)  # the policy's min_confidence is 0.60
    policies.set_policy(desk.store, desk.clock, "memory_influence_policy", '{"probability": 1}')
    signal(desk, confidence=0.9)

    desk.beat()

    [plan] = desk.store.query("SELECT * FROM desk_proposals WHERE source_ref LIKE '%high_conf%'")
    assert plan["confidence"] == pytest.approx(0.9)
    [influence] = desk.store.query("SELECT * FROM desk_memory_influences")
    assert (influence["influenced"], influence["effect"]) == (0, "no memory qualifies")


def test_the_influence_rate_is_measured_from_the_records_not_the_policy(desk):
    influence = load_policies(desk.store).memory_influence_policy  # the seed's 0.30
    now = desk.clock.now_ms()

    def decide(n: int) -> None:
        with desk.store.atomic():
            for i in range(n):
                found = consult(
                    desk.store,
                    influence,
                    decision=InfluenceDecision.PROPOSAL,
                    subject=f"trial:{now}:{i}",
                    about="BTC",
                )
                record(desk.store, found, effect="test", now_ms=now)

    decide(40)  # no memories yet: whatever the draws, nothing can shape a decision
    rate = {m.name: m for m in desk_report(desk.store, desk.clock).metrics}
    assert rate["memory_influence_rate"].value == 0
    lesson(desk)
    desk.clock.advance(ms=1)
    now = desk.clock.now_ms()
    decide(60)

    rows = desk.store.query("SELECT draw, influenced FROM desk_memory_influences")
    drawn = sum(1 for r in rows[40:] if r["draw"] < 0.30)
    assert [r["influenced"] for r in rows[40:]] == [int(r["draw"] < 0.30) for r in rows[40:]]
    measured = desk_report(desk.store, desk.clock).metrics[4]
    assert measured.name == "memory_influence_rate"
    assert measured.value == round(drawn / 100, 4)
    assert measured.detail == {"proposal": {"decisions": 100, "influenced": drawn}}


def test_a_topic_consultation_is_recorded_with_its_roundtable(desk):
    convened = convene(desk.store, desk.clock, load_format(desk.store, "watercooler"))
    [row] = desk.store.query("SELECT * FROM desk_memory_influences")
    assert (row["decision"], row["roundtable_id"]) == ("topic", convened.roundtable_id)
    assert Decimal(str(row["draw"])) >= 0
