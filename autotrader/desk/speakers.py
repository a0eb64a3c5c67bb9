"""Who speaks next in a roundtable: weighted by affinity and recency. Pure: the draw is given.

The convener (the format's first participant, or the proposer of the trade on the table) opens.
Until everyone at the table has had the floor, the next speaker is one of those who have not;
after that, anyone but the agent who just had it. Each candidate weighs

    affinity(last speaker, candidate) × (1 + turns since the candidate last had the floor)

(one who has not had it counts as ``len(participants)`` turns ago). So allies answer each other,
every agent at the table speaks once the turns allow, and the weight of one who keeps quiet
grows every turn. A bad turn (prose, a refusal, a timeout) still uses the floor, so the next
speaker is someone else, weighed against the last agent who actually spoke.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from autotrader.desk.vocabulary import AgentId

Affinity = Callable[[AgentId, AgentId], float]


def weights(
    participants: Sequence[AgentId],
    floor: Sequence[AgentId],
    last_spoke: AgentId | None,
    affinity: Affinity,
) -> dict[AgentId, float]:
    """Each candidate's weight for the next turn, given who had the floor at each turn so far
    (``floor``, oldest first) and the last agent whose turn was good (``last_spoke``)."""
    if not floor:
        return {participants[0]: 1.0}
    never = len(participants)
    waiting = [p for p in participants if p not in floor]
    candidates = waiting or [p for p in participants if p != floor[-1]]
    result = {}
    for candidate in candidates:
        turns_ago = next(
            (i for i, agent in enumerate(reversed(floor)) if agent == candidate), never
        )
        closeness = affinity(last_spoke, candidate) if last_spoke not in (None, candidate) else 1
        result[candidate] = closeness * (1 + min(turns_ago, never))
    return result


def next_speaker(
    participants: Sequence[AgentId],
    floor: Sequence[AgentId],
    last_spoke: AgentId | None,
    affinity: Affinity,
    *,
    draw: float,
) -> AgentId:
    """The next speaker for a ``draw`` in [0, 1): a weighted choice (see the module)."""
    weighted = weights(participants, floor, last_spoke, affinity)
    total = sum(weighted.values())
    point, running = draw * total, 0.0
    for candidate, weight in weighted.items():
        running += weight
        if point < running:
            return candidate
    return next(reversed(weighted))  # draw * total rounded up to the total
