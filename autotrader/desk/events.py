"""Agent events: every transition of the loop, a signal, a trade, a lesson — with tags.

Events are what the reaction matrix reads (an event's agent and tags), what ``desk events``
lists, and the audit of why the company did what it did. Writing one is part of the caller's
unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from autotrader.core.db import Store
from autotrader.core.money import to_text
from autotrader.desk.repo import events as events_repo
from autotrader.desk.vocabulary import AgentId


@dataclass(frozen=True)
class Event:
    agent: AgentId
    kind: str  # proposal, mission, step, signal, trade, position, outcome, memory, ...
    title: str
    tags: tuple[str, ...]
    summary: str = ""
    proposal_id: int | None = None
    mission_id: int | None = None
    step_id: int | None = None
    signal_id: int | None = None
    position_id: int | None = None
    symbol: str | None = None
    side: str | None = None
    pnl: Decimal | None = field(default=None)

    def row(self, now_ms: int) -> dict:
        return {
            "agent_id": self.agent.value,
            "kind": self.kind,
            "title": self.title[:300],
            "summary": self.summary[:2000],
            "tags": list(dict.fromkeys(self.tags)),
            "proposal_id": self.proposal_id,
            "mission_id": self.mission_id,
            "step_id": self.step_id,
            "signal_id": self.signal_id,
            "position_id": self.position_id,
            "symbol": self.symbol,
            "side": self.side,
            "pnl": None if self.pnl is None else to_text(self.pnl),
            "created_at": now_ms,
        }


def emit(store: Store, event: Event, *, now_ms: int) -> int:
    """Record ``event`` (inside the caller's transaction); its id."""
    return events_repo.insert_event(store, event.row(now_ms))
