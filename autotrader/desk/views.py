"""What ``desk proposals|missions|events|signals|memory show`` and ``desk relationships`` print:
one record with what it led to."""

from __future__ import annotations

from autotrader.core.db import Store
from autotrader.core.errors import NotFoundError
from autotrader.desk.repo import conversations as conversations_repo
from autotrader.desk.repo import events as events_repo
from autotrader.desk.repo import learning as learning_repo
from autotrader.desk.repo import loop as repo
from autotrader.desk.seeds import RELATIONSHIPS


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


def memory_story(store: Store, memory_id: int) -> dict:
    """A memory, and every decision it shaped (the memory influence log)."""
    memory = learning_repo.get_memory_by_id(store, memory_id)
    if memory is None:
        raise NotFoundError(f"no desk memory {memory_id} (see `autotrader desk memory list`)")
    return {
        "memory": memory,
        "influenced": conversations_repo.influences(store, memory_id=memory_id),
    }


def relationships(store: Store, *, history: int = 5) -> list[dict]:
    """Every pair: its affinity now and as seeded, its interactions and its latest drift."""
    rows = conversations_repo.relationships(store)
    if not rows:
        raise NotFoundError("the desk is not set up: run `autotrader desk init`")
    seeded = {tuple(sorted((a.value, b.value))): affinity for a, b, affinity in RELATIONSHIPS}
    for row in rows:
        pair = (row["agent_a"], row["agent_b"])
        row["initial_affinity"] = seeded.get(pair)
        row["drift"] = conversations_repo.drift_log(store, pair=pair, limit=history)
    return rows
