"""One state machine: every legal move leads where the diagram says, every other is refused
with a line naming the current stage, and every move is one timeline row."""

from __future__ import annotations

import pytest

from autotrader.core.errors import ConflictError
from autotrader.lifecycle import state
from autotrader.lifecycle.vocabulary import EventKind, Stage
from tests.fakes.lifecycle import CLONE_ID, lifecycle_store

PATH = [
    (EventKind.FEE_REQUESTED, Stage.FEE_PENDING),
    (EventKind.AUDITION_STARTED, Stage.AUDITIONING),
    (EventKind.AUDITION_PASSED, Stage.PASSED),
    (EventKind.QUEUED, Stage.QUEUED),
    (EventKind.ADMITTED, Stage.ARENA),
    (EventKind.RETIRED, Stage.RETIRED),
]


@pytest.fixture
def store(tmp_path):
    store, _ = lifecycle_store(tmp_path / "state.db")
    yield store
    store.close()


def move(store, event, now=1):
    return state.transition(store, CLONE_ID, event, actor="t", reason="why", now_ms=now)


def test_a_clone_starts_in_the_sandbox(store):
    assert state.stage_of(store, CLONE_ID) == Stage.SANDBOX


def test_the_happy_path_leads_from_sandbox_to_retirement_one_event_each(store):
    for n, (event, stage) in enumerate(PATH, 1):
        assert move(store, event, n) == stage
    rows = state.timeline(store, CLONE_ID)
    assert [(r["event"], r["from_stage"], r["to_stage"]) for r in rows] == [
        (e.value, before.value, after.value)
        for (e, after), before in zip(PATH, [Stage.SANDBOX] + [s for _, s in PATH], strict=False)
    ]


@pytest.mark.parametrize("event", sorted(set(state.TRANSITIONS) - {EventKind.FEE_REQUESTED}))
def test_refuses_every_move_the_sandbox_does_not_allow_naming_the_stage(store, event):
    with pytest.raises(ConflictError, match=r"^clone 42 is sandbox: it cannot"):
        move(store, event)
    assert state.timeline(store, CLONE_ID) == []


def test_an_expired_fee_returns_the_clone_where_it_asked_from(store):
    move(store, EventKind.FEE_REQUESTED)
    assert move(store, EventKind.FEE_EXPIRED) == Stage.SANDBOX
    for event in (EventKind.FEE_REQUESTED, EventKind.AUDITION_STARTED, EventKind.AUDITION_FAILED):
        move(store, event)
    move(store, EventKind.FEE_REQUESTED)
    assert move(store, EventKind.FEE_EXPIRED) == Stage.FAILED


def test_notes_change_no_stage_and_transitions_are_not_notes(store):
    state.note(store, CLONE_ID, EventKind.PROFILE_SUBMITTED, actor="t", reason=None, now_ms=1)
    assert state.stage_of(store, CLONE_ID) == Stage.SANDBOX
    with pytest.raises(ValueError, match="is a transition"):
        state.note(store, CLONE_ID, EventKind.ADMITTED, actor="t", reason=None, now_ms=1)


def test_the_timeline_is_append_only_in_the_database(store):
    from autotrader.core.errors import OperationalError

    move(store, EventKind.FEE_REQUESTED)
    with pytest.raises(OperationalError, match="append-only"):
        store.execute("UPDATE lifecycle_events SET reason = 'rewritten'")
    with pytest.raises(OperationalError, match="append-only"):
        store.execute("DELETE FROM lifecycle_events")


def test_every_stage_but_the_ends_can_be_left():
    leavable = {s for allowed, _ in state.TRANSITIONS.values() for s in allowed}
    assert set(Stage) - leavable == {Stage.REMOVED, Stage.RETIRED}
