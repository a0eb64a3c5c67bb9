"""Relationship drift: after each conversation, affinities move by what was said, within bounds.

Every good turn says what its speaker makes of the previous speaker's turn (agree, disagree,
neutral). Per pair, each agreement pulls the pair together by :data:`STEP` and each
disagreement pushes it apart by as much; the net is then bounded by the
``relationship_drift_policy``: at most ``max_drift_per_conversation`` either way, never out of
``[min_affinity, max_affinity]`` — and a pair outside the range (the policy was narrowed) moves
toward it by at most the same step. Affinities are kept to six decimals. Each change is a drift
log row saying why; every exchange counts as an interaction whether or not the affinity moved.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from autotrader.core.db import Store
from autotrader.desk.models import RelationshipDriftPolicy
from autotrader.desk.repo import conversations as repo
from autotrader.desk.vocabulary import AgentId, Reaction

STEP = 0.01
"""What one agreement (or disagreement) asks of a pair's affinity."""


@dataclass(frozen=True)
class Exchange:
    """One good turn's reaction to the turn before it."""

    speaker: AgentId
    to: AgentId
    reaction: Reaction


Pair = tuple[str, str]


def pair(a: AgentId | str, b: AgentId | str) -> Pair:
    """A relationship's key: the two ids in order (one row per pair)."""
    first, second = sorted((str(a), str(b)))
    return first, second


@dataclass(frozen=True)
class Drift:
    pair: Pair
    before: float
    after: float
    exchanges: int
    reason: str


def bounded(before: float, wanted: float, policy: RelationshipDriftPolicy) -> float:
    """``before`` moved by ``wanted`` within the policy's bounds (see the module), to six
    decimals (so 0.80 + 0.02 is stored as 0.82, not 0.8200000000000001)."""
    cap = policy.max_drift_per_conversation
    target = min(max(before + wanted, policy.min_affinity), policy.max_affinity)
    return round(before + min(max(target - before, -cap), cap), 6)


def drifts(
    exchanges: Iterable[Exchange], affinities: dict[Pair, float], policy: RelationshipDriftPolicy
) -> list[Drift]:
    """What a conversation's exchanges do to each pair that had one (pairs in key order)."""
    agrees: Counter[Pair] = Counter()
    disagrees: Counter[Pair] = Counter()
    talked: Counter[Pair] = Counter()
    for exchange in exchanges:
        key = pair(exchange.speaker, exchange.to)
        if key[0] == key[1] or key not in affinities:
            continue
        talked[key] += 1
        if exchange.reaction is Reaction.AGREE:
            agrees[key] += 1
        elif exchange.reaction is Reaction.DISAGREE:
            disagrees[key] += 1
    result = []
    for key in sorted(talked):
        before = affinities[key]
        wanted = STEP * (agrees[key] - disagrees[key])
        after = bounded(before, wanted, policy) if policy.enabled else before
        why = _why(agrees[key], disagrees[key], wanted, after - before)
        result.append(Drift(key, before, after, talked[key], why))
    return result


def _why(agrees: int, disagrees: int, wanted: float, moved: float) -> str:
    said = (
        ", ".join(
            f"{n} {word}{'s' * (n != 1)}"
            for n, word in ((agrees, "agreement"), (disagrees, "disagreement"))
            if n
        )
        or "no agreement or disagreement"
    )
    if abs(moved - wanted) > 1e-12:
        said += f" (asked {wanted:+.3f}, bounded to {moved:+.3f})"
    return said


def apply_drift(
    store: Store,
    exchanges: Iterable[Exchange],
    policy: RelationshipDriftPolicy,
    *,
    roundtable_id: int,
    now_ms: int,
) -> list[Drift]:
    """Apply a conversation's drift (inside the caller's unit of work); the pairs that moved."""
    affinities = repo.affinities(store)
    moved = []
    for drift in drifts(exchanges, affinities, policy):
        changed = drift.after != drift.before
        repo.update_relationship(
            store,
            drift.pair,
            affinity=drift.after,
            interactions=drift.exchanges,
            now_ms=now_ms,
        )
        if changed:
            repo.insert_drift(
                store,
                {
                    "agent_a": drift.pair[0],
                    "agent_b": drift.pair[1],
                    "roundtable_id": roundtable_id,
                    "before": drift.before,
                    "after": drift.after,
                    "reason": drift.reason,
                    "created_at": now_ms,
                },
            )
            moved.append(drift)
    return moved
