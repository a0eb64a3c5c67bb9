"""The memory influence policy: when memories shape a decision, and the record that they did.

Two kinds of decision consult it: a conversation's *topic* (each roundtable a schedule or a
command convenes: a memory to revisit becomes the topic, and every turn is shown the memory) and
a *proposal* (SCOUT's execution plan for a signal: lessons about the symbol temper its confidence,
see :func:`temper`; an agent's initiative: its memories go into the model's prompt).
Each consultation draws a number seeded by the decision and its subject — a replay decides the
same — and, when it falls below ``probability``, takes the strongest memories of the
``types_used`` at ``min_confidence`` or more (about the decision's symbol, when it has one).
The decision is *influenced* when at least one memory qualifies; what the memories changed is the
caller's ``effect``.

Every consultation is a ``desk_memory_influences`` row, influenced or not, with its draw, its
memories and its effect: the report's memory-influence rate is influenced rows over all rows — a
measurement, where the policy's 0.30 is only the chance a draw asks for memories at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from autotrader.core.db import Store
from autotrader.desk.chance import draw
from autotrader.desk.models import MemoryInfluencePolicy
from autotrader.desk.repo import conversations as repo
from autotrader.desk.repo import learning as learning_repo
from autotrader.desk.vocabulary import AgentId, InfluenceDecision, MemoryType

MAX_MEMORIES = 3
LESSON_PENALTY = 0.05
MAX_PENALTY = 0.15


@dataclass(frozen=True)
class Influence:
    decision: InfluenceDecision
    subject: str  # what is decided: a roundtable slot, a signal, an agent's initiative hour
    agent: AgentId | None  # who decides (None: the desk as a whole)
    draw: float
    memories: tuple[dict, ...]  # the memories that shape it; empty when none do
    why_not: str = ""  # when none do: the policy is off, the draw said no, nothing qualifies

    @property
    def influenced(self) -> bool:
        return bool(self.memories)


def consult(
    store: Store,
    policy: MemoryInfluencePolicy,
    *,
    decision: InfluenceDecision,
    subject: str,
    decided_by: AgentId | None = None,
    memories_of: Sequence[AgentId] | None = None,
    about: str | None = None,
    limit: int = MAX_MEMORIES,
) -> Influence:
    """Whether memories (of ``memories_of``; default: anyone's) shape this decision; see the
    module. Reads only: :func:`record` writes the consultation once its effect is known."""
    drawn = draw("memory_influence", decision.value, subject)
    if not policy.enabled:
        return Influence(decision, subject, decided_by, drawn, (), "the policy is disabled")
    if drawn >= policy.probability:
        why_not = f"drew {drawn:.2f} ≥ probability {policy.probability:.2f}"
        return Influence(decision, subject, decided_by, drawn, (), why_not)
    memories = learning_repo.eligible_memories(
        store,
        types=[t.value for t in policy.types_used],
        min_confidence=policy.min_confidence,
        agent_ids=None if memories_of is None else [a.value for a in memories_of],
        tag=about,
        limit=limit,
    )
    why_not = "" if memories else "no memory qualifies"
    return Influence(decision, subject, decided_by, drawn, tuple(memories), why_not)


def record(
    store: Store,
    influence: Influence,
    *,
    effect: str,
    now_ms: int,
    roundtable_id: int | None = None,
    proposal_id: int | None = None,
) -> int:
    """Write the consultation (inside the caller's unit of work); ``effect`` says what the
    memories changed (ignored, and the reason recorded instead, when none shaped it)."""
    return repo.insert_influence(
        store,
        {
            "decision": influence.decision.value,
            "subject": influence.subject,
            "agent_id": influence.agent.value if influence.agent else None,
            "draw": influence.draw,
            "influenced": int(influence.influenced),
            "memory_ids": [m["id"] for m in influence.memories],
            "effect": (effect if influence.influenced else influence.why_not)[:500],
            "roundtable_id": roundtable_id,
            "proposal_id": proposal_id,
            "created_at": now_ms,
        },
    )


def cite(memory: dict) -> str:
    """A memory as a prompt or a rationale quotes it."""
    return (
        f"[memory {memory['id']}: {memory['agent_id']}'s {memory['type']}, "
        f"{memory['confidence']:.2f}] {memory['content']}"
    )


def temper(confidence: float, influence: Influence) -> tuple[float, str]:
    """A trade plan's confidence after the memories that shape it, and what they did: each
    lesson lowers it by :data:`LESSON_PENALTY` (at most :data:`MAX_PENALTY` in all; the
    confidence gate may then refuse the trade); the others are cited in its rationale. Memories
    make the desk more careful, never bolder."""
    lessons = sum(1 for m in influence.memories if m["type"] == MemoryType.LESSON)
    cut = min(MAX_PENALTY, LESSON_PENALTY * lessons)
    if not cut:
        return confidence, f"{len(influence.memories)} memories cited in the rationale"
    tempered = round(max(0.0, confidence - cut), 4)
    return tempered, f"confidence {confidence:.2f} → {tempered:.2f} ({lessons} lessons)"
