"""What ``desk proposals|missions|events|signals show`` print: one record with what it led to."""

from __future__ import annotations

from autotrader.core.db import Store
from autotrader.core.errors import NotFoundError
from autotrader.desk.repo import events as events_repo
from autotrader.desk.repo import learning as learning_repo
from autotrader.desk.repo import loop as repo


def proposal_story(store: Store, proposal_id: int) -> dict:
    """The proposal with its gate results, and its mission's steps when it was accepted."""
    proposal = repo.get_proposal(store, proposal_id)
    if proposal is None:
        raise NotFoundError(
            f"no desk proposal {proposal_id} (see `autotrader desk proposals list`)"
        )
    mission = repo.get_mission(store, proposal["mission_id"]) if proposal["mission_id"] else None
    return {
        "proposal": proposal,
        "mission": mission,
        "steps": repo.mission_steps(store, mission["id"]) if mission else [],
    }


def mission_story(store: Store, mission_id: int) -> dict:
    """The mission, its steps with their outputs, and every event about it, oldest first."""
    mission = repo.get_mission(store, mission_id)
    if mission is None:
        raise NotFoundError(f"no desk mission {mission_id} (see `autotrader desk missions list`)")
    events = events_repo.list_events(store, mission_id=mission_id, limit=500)
    return {
        "mission": mission,
        "steps": repo.mission_steps(store, mission_id),
        "events": events[::-1],
    }


def event(store: Store, event_id: int) -> dict:
    row = events_repo.get_event(store, event_id)
    if row is None:
        raise NotFoundError(f"no desk event {event_id} (see `autotrader desk events list`)")
    return row


def signal(store: Store, signal_id: int) -> dict:
    row = learning_repo.get_signal(store, signal_id)
    if row is None:
        raise NotFoundError(f"no desk signal {signal_id} (see `autotrader desk signals list`)")
    return row
