"""The pure parts of a roundtable: who speaks next, how relationships drift (a property test over
random conversations), when a format meets on the wall clock, who sits at the table, which memory
candidates are kept, and what memories do to a trade plan's confidence."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autotrader.desk.distill import Candidate, check
from autotrader.desk.drift import Exchange, bounded, drifts, pair
from autotrader.desk.formats import Format
from autotrader.desk.influence import Influence, temper
from autotrader.desk.models import RelationshipDriftPolicy
from autotrader.desk.schedule import due_debates, due_slot
from autotrader.desk.seeds import FORMATS, RELATIONSHIPS
from autotrader.desk.speakers import next_speaker, weights
from autotrader.desk.vocabulary import AgentId, InfluenceDecision, Reaction, RoundtableFormat
from tests.conftest import examples

ATLAS, SAGE, SCOUT, GROWTH, INTEL, OBSERVER = AgentId
SEEDED = {pair(a, b): affinity for a, b, affinity in RELATIONSHIPS}
PACIFIC = ZoneInfo("America/Los_Angeles")


def affinity(a, b) -> float:
    return SEEDED[pair(a, b)]


def seeded(name: RoundtableFormat) -> Format:
    seed = next(f for f in FORMATS if f.format is name)
    return Format(
        seed.format,
        seed.purpose,
        seed.participants,
        seed.pool,
        *seed.seats,
        *seed.turns,
        seed.temperature,
        seed.days,
        seed.at,
        seed.probability,
        seed.conditions,
        True,
    )


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


# -- speakers ---------------------------------------------------------------------------------


def test_the_convener_opens_and_nobody_speaks_twice_in_a_row():
    table = (ATLAS, SAGE, INTEL)
    assert next_speaker(table, [], None, affinity, draw=0.99) is ATLAS
    floor = [ATLAS, SAGE, INTEL]
    for draw in (0.0, 0.5, 0.999):
        assert next_speaker(table, floor, INTEL, affinity, draw=draw) is not INTEL


def test_everyone_at_the_table_has_the_floor_before_anyone_has_it_twice():
    table = (ATLAS, SAGE, INTEL, SCOUT)
    assert set(weights(table, [ATLAS, SAGE], SAGE, affinity)) == {INTEL, SCOUT}


def test_a_close_ally_and_a_long_silence_both_weigh_in():
    table = (ATLAS, SAGE, INTEL)
    after_sage = weights(table, [ATLAS, SAGE, INTEL, SAGE], SAGE, affinity)
    # ATLAS: affinity 0.80 with SAGE, silent 3 turns; INTEL: 0.30, silent 1 turn
    assert after_sage == {ATLAS: pytest.approx(0.80 * 4), INTEL: pytest.approx(0.30 * 2)}


def test_after_a_bad_turn_the_floor_passes_and_weights_follow_the_last_good_speaker():
    table = (ATLAS, SAGE, INTEL)
    # INTEL's turn was bad: INTEL may not speak next; ATLAS is weighed against SAGE, who
    # spoke last (0.80, silent for 2 turns), and SAGE may answer again (silent for 1)
    assert weights(table, [ATLAS, SAGE, INTEL], SAGE, affinity) == {
        ATLAS: pytest.approx(0.80 * 3),
        SAGE: pytest.approx(1 * 2),
    }


# -- drift ------------------------------------------------------------------------------------

affinities = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
agents = st.sampled_from(list(AgentId))
exchanges = st.lists(
    st.builds(Exchange, agents, agents, st.sampled_from(list(Reaction))), max_size=40
)


@st.composite
def policies(draw) -> RelationshipDriftPolicy:
    low = draw(st.floats(min_value=0.0, max_value=0.9))
    high = draw(st.floats(min_value=low + 0.01, max_value=1.0))
    cap = draw(st.floats(min_value=0.0, max_value=0.2))
    return RelationshipDriftPolicy(
        max_drift_per_conversation=cap, min_affinity=low, max_affinity=high
    )


@settings(max_examples=examples(300))
@given(
    start=st.dictionaries(st.sampled_from(sorted(SEEDED)), affinities, min_size=15, max_size=15),
    said=exchanges,
    policy=policies(),
)
def test_drift_never_moves_a_pair_more_than_the_cap_nor_out_of_the_range(start, said, policy):
    rounding = 1e-6  # affinities are kept to six decimals
    for drift in drifts(said, start, policy):
        moved = drift.after - drift.before
        assert abs(moved) <= policy.max_drift_per_conversation + rounding
        low, high = policy.min_affinity, policy.max_affinity
        if low <= drift.before <= high:
            assert low - rounding <= drift.after <= high + rounding
        else:  # outside a narrowed range: it may only come closer
            distance = max(low - drift.before, drift.before - high)
            assert max(low - drift.after, drift.after - high) <= distance + rounding
        assert drift.reason


def test_agreement_brings_a_pair_closer_and_disagreement_apart_with_the_reason():
    policy = RelationshipDriftPolicy()
    said = [
        Exchange(SAGE, INTEL, Reaction.DISAGREE),
        Exchange(INTEL, SAGE, Reaction.DISAGREE),
        Exchange(ATLAS, SAGE, Reaction.AGREE),
    ]
    moved = {d.pair: d for d in drifts(said, SEEDED, policy)}
    assert moved[("intel", "sage")].after == pytest.approx(0.28)
    assert moved[("intel", "sage")].reason == "2 disagreements"
    assert moved[("atlas", "sage")].after == pytest.approx(0.81)
    many = [Exchange(ATLAS, SAGE, Reaction.AGREE)] * 10
    capped = drifts(many, SEEDED, policy)[0]
    assert capped.after == pytest.approx(0.83)
    assert capped.reason == "10 agreements (asked +0.100, bounded to +0.030)"


def test_drift_is_held_at_the_ceiling_and_off_when_the_policy_is():
    policy = RelationshipDriftPolicy()
    assert bounded(0.94, 0.03, policy) == pytest.approx(0.95)
    off = RelationshipDriftPolicy(enabled=False)
    [drift] = drifts([Exchange(ATLAS, SAGE, Reaction.AGREE)], SEEDED, off)
    assert drift.after == drift.before  # the interaction still counts, the affinity holds


# -- schedules --------------------------------------------------------------------------------


def test_the_morning_standup_meets_at_six_thirty_pacific_winter_and_summer():
    standup = seeded(RoundtableFormat.MORNING_STANDUP)
    assert due_slot(standup, ms("2026-01-15T14:29:00"), PACIFIC) is None  # 06:29 PST
    assert due_slot(standup, ms("2026-01-15T14:30:00"), PACIFIC) == "morning_standup@2026-01-15"
    assert due_slot(standup, ms("2026-07-15T13:30:00"), PACIFIC) == "morning_standup@2026-07-15"
    assert due_slot(standup, ms("2026-07-15T15:29:59"), PACIFIC) is not None  # within 2 h
    assert due_slot(standup, ms("2026-07-15T15:30:00"), PACIFIC) is None  # missed: skipped


def test_the_strategy_session_meets_on_sunday_evenings_only():
    session = seeded(RoundtableFormat.STRATEGY_SESSION)
    sunday = ms("2026-02-23T03:05:00")  # Sunday 22 February, 19:05 PST
    assert due_slot(session, sunday, PACIFIC) == "strategy_session@2026-02-22"
    assert due_slot(session, sunday + 86_400_000, PACIFIC) is None
    assert due_slot(session, sunday, ZoneInfo("UTC")) is None  # 03:05 UTC on a Monday


def test_a_pair_below_the_debate_threshold_is_due_a_debate_once_a_day():
    debate = seeded(RoundtableFormat.DEBATE)
    due = due_debates(debate, SEEDED, ms("2026-02-19T20:00:00"), PACIFIC)
    assert [(m.slot, m.first) for m in due] == [
        ("debate:atlas-intel@2026-02-19", (ATLAS, INTEL)),
        ("debate:intel-sage@2026-02-19", (INTEL, SAGE)),
    ]
    assert due_slot(debate, ms("2026-02-19T20:00:00"), PACIFIC) is None


def test_a_table_seats_its_fixed_participants_first_and_a_drawn_number_in_range():
    standup = seeded(RoundtableFormat.MORNING_STANDUP)
    for key in ("a", "b", "c", "d"):
        seated = standup.seat(key)
        assert seated[:3] == (ATLAS, SAGE, INTEL)
        assert 4 <= len(seated) <= 6
        assert len(set(seated)) == len(seated)
        assert standup.seat(key) == seated  # the same roundtable seats the same agents
        assert 6 <= standup.turns(key) <= 12
    debate = seeded(RoundtableFormat.DEBATE)
    assert debate.seat("x", first=(INTEL, SAGE))[:2] == (INTEL, SAGE)


# -- memory candidates and influence ------------------------------------------------------------


def candidate(**fields) -> dict:
    return {
        "type": "insight",
        "key": "weekend_volume",
        "content": "Weekend volume is 60 % lower",
        "confidence": 0.7,
        "tags": ["BTC", " "],
        **fields,
    }


@pytest.mark.parametrize(
    ("fields", "refused"),
    [
        ({"type": "hunch"}, "unknown type 'hunch'"),
        ({"confidence": 0.9}, "confidence 0.90 outside the insight range 0.65–0.85"),
        ({"type": "strategy", "confidence": 0.7}, "confidence 0.70 outside the strategy range"),
        ({"key": "no/slashes"}, "key 'no/slashes': snake_case"),
        ({"content": "meh"}, "content 'meh' says too little"),
    ],
)
def test_refuses_a_memory_candidate_with_its_reason(fields, refused):
    found = check(candidate(**fields), GROWTH)
    assert isinstance(found, str)
    assert found.startswith(refused)


def test_a_valid_candidate_is_the_speakers_memory_with_a_normalised_key():
    found = check(candidate(key="Weekend Volume", type="PATTERN", confidence=0.72), GROWTH)
    assert isinstance(found, Candidate)
    assert (found.note.agent, found.note.type, found.note.key) == (
        GROWTH,
        "pattern",
        "weekend_volume",
    )
    assert found.note.tags == ("BTC",)
    assert found.confidence == 0.72


def test_lessons_temper_a_trade_plans_confidence_and_other_memories_are_only_cited():
    lesson = {"id": 1, "type": "lesson"}
    insight = {"id": 2, "type": "insight"}

    def shaped(*memories) -> Influence:
        return Influence(InfluenceDecision.PROPOSAL, "signal:1", SCOUT, 0.1, memories)

    assert temper(0.86, shaped(lesson)) == (0.81, "confidence 0.86 → 0.81 (1 lessons)")
    assert temper(0.86, shaped(lesson, lesson, lesson, lesson))[0] == 0.71  # at most 0.15
    assert temper(0.86, shaped(insight)) == (0.86, "1 memories cited in the rationale")
