"""Experiment memory: every executed or rejected policy outcome, summarised per policy.

``read_posteriors`` gives, per ``policy_id``: trades closed, wins, mean return (net PnL over
the position's entry value) and a Beta(1 + wins, 1 + losses) posterior of its win rate — what
the Planner reads, and what Thompson sampling draws from when a Plan asks to explore.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from autotrader.core.db import Store
from autotrader.decisions import repo
from autotrader.decisions.engines.base import Posterior
from autotrader.prop import repo as prop_repo


def read_posteriors(store: Store, clone_id: int) -> dict[str, Posterior]:
    stats: dict[str, dict] = defaultdict(lambda: {"trades": 0, "wins": 0, "returns": []})
    experiments = repo.clone_experiments(store, clone_id)
    # A trade is counted once, on the OPEN that started it, when its position has closed.
    trades = [
        row for row in experiments if row["action"] == "OPEN" and row["outcome"] == "executed"
    ]
    positions = prop_repo.positions_by_id(
        store, [row["position_id"] for row in trades if row["position_id"] is not None]
    )
    for row in experiments:
        entry = stats[row["policy_id"]]
        if row["action"] != "OPEN" or row["outcome"] != "executed":
            continue
        position = positions.get(row["position_id"])
        if position is None or position["status"] != "CLOSED":
            continue
        value = Decimal(position["entry_price"]) * Decimal(position["max_qty"])
        net = (
            Decimal(position["realized_pnl"])
            - Decimal(position["fees_paid"])
            + Decimal(position["funding_paid"])
        )
        entry["trades"] += 1
        entry["wins"] += int(net > 0)
        entry["returns"].append(float(net / value) if value else 0.0)
    posteriors = {}
    for policy_id in sorted(stats):
        s = stats[policy_id]
        losses = s["trades"] - s["wins"]
        mean = sum(s["returns"]) / len(s["returns"]) if s["returns"] else 0.0
        posteriors[policy_id] = Posterior(
            policy_id, s["trades"], s["wins"], round(mean, 6), 1.0 + s["wins"], 1.0 + losses
        )
    return posteriors


@dataclass(frozen=True)
class CloneMemory:
    """What one clone's Planner reads (its posteriors per policy) and the experiments behind
    them, newest first."""

    clone_id: int
    posteriors: list[Posterior]
    experiments: list[dict]


def memory_view(
    store: Store, *, clone_id: int | None = None, policy_id: str | None = None, limit: int = 50
) -> list[CloneMemory]:
    """Each clone's memory (one clone's with ``clone_id``; one policy's with ``policy_id``):
    posteriors exactly as :func:`read_posteriors` gives them, and its latest ``limit``
    experiments."""
    clone_ids = [clone_id] if clone_id is not None else repo.clones_with_experiments(store)
    views = []
    for cid in clone_ids:
        posteriors = [
            p
            for p in read_posteriors(store, cid).values()
            if policy_id is None or p.policy_id == policy_id
        ]
        experiments = repo.recent_experiments(store, clone_id=cid, policy_id=policy_id, limit=limit)
        views.append(CloneMemory(cid, posteriors, experiments))
    return views


def thompson_pick(policies: Sequence[str], posteriors: dict[str, Posterior], *, seed: str) -> str:
    """Draw each policy's win rate from its Beta posterior and pick the best draw.

    Seeded (by the run's trace id), so a replay explores exactly as the original run did. A
    policy with no history draws from Beta(1, 1).
    """
    if not policies:
        raise ValueError("no policies to choose from")
    rng = random.Random(seed)
    draws = []
    for policy in sorted(policies):
        p = posteriors.get(policy)
        draws.append((rng.betavariate(p.alpha if p else 1.0, p.beta if p else 1.0), policy))
    return max(draws)[1]
