"""``desk report``: the seed's week-by-week success metrics, each computed from the tables.

=========================  ==================================================  ===============
metric                     computed from                                       the seed asks
=========================  ==================================================  ===============
roundtables_per_day        roundtables that succeeded in the window ÷ days      5+ a day (wk 1)
autonomous_trades          execute_trade and scale_position steps that           3+ (wk 1)
                           succeeded (filled) in the window
memories                   memories held now (per type; new in the window;       30+ (wk 1)
                           promoted)
drift                      drift log rows in the window: pairs moved, total     visible (wk 1)
                           movement, the largest; pairs away from their seed
memory_influence_rate      influenced ÷ all memory-influence consultations in    30 % (wk 2)
                           the window (topics and proposals)
win_rate                   trade outcomes closed in the window with a positive   60 %+ (wk 3)
                           net PnL ÷ all of them; their net PnL
stale_recoveries           steps and roundtables the heartbeat failed as stale   self-healing
                           in the window                                         (wk 3)
model_cost                 the desk's model calls (traces ``desk:``) in the      —
                           window: calls, cached calls, tokens, USD
=========================  ==================================================  ===============

The window is the ``days`` before the clock; days are UTC days. A metric whose target the seed
states as a threshold says whether it is met.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from autotrader.core.clock import DAY_MS, Clock, iso_utc
from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError
from autotrader.core.money import ZERO
from autotrader.desk.repo import conversations as repo
from autotrader.desk.repo import learning as learning_repo
from autotrader.desk.repo import loop as loop_repo
from autotrader.desk.seeds import RELATIONSHIPS
from autotrader.desk.setup import desk_clone_id
from autotrader.desk.vocabulary import OutcomeType, RoundtableStatus, StepKind, StepStatus
from autotrader.ledger import metrics
from autotrader.llm import repo as llm_repo

MAX_DAYS = 365
TRACE_PREFIX = "desk:"


@dataclass(frozen=True)
class Metric:
    name: str
    value: Any  # a number, or None when there is nothing to measure
    unit: str  # what the value counts: "a day", "trades", ..., "rate" (a fraction), "USD"
    target: str
    met: bool | None  # None: the seed states no threshold, or nothing to measure
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeskReport:
    as_of: str
    days: int
    since: str
    metrics: list[Metric]


def desk_report(store: Store, clock: Clock, *, days: int = 7) -> DeskReport:
    """The eight metrics over the ``days`` before now (see the module)."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInputError(f"--days: 1 to {MAX_DAYS}")
    desk_clone_id(store)  # a desk that is not set up is one clear error
    now = clock.now_ms()
    since = now - days * DAY_MS
    with store.read():
        found = [
            _roundtables(store, since, days),
            _trades(store, since),
            _memories(store, since),
            _drift(store, since),
            _influence(store, since),
            _win_rate(store, since),
            _stale(store, since),
            _cost(store, since),
        ]
    return DeskReport(iso_utc(now), days, iso_utc(since), found)


def _roundtables(store: Store, since: int, days: int) -> Metric:
    per_day: dict[str, dict[str, int]] = defaultdict(dict)
    succeeded = 0
    for day, status, count in repo.roundtables_by_day(store, since_ms=since, day_ms=DAY_MS):
        per_day[iso_utc(day)[:10]][status] = count
        succeeded += count if status == RoundtableStatus.SUCCEEDED else 0
    rate = round(succeeded / days, 2)
    detail = {"per_day": dict(per_day), "turns": repo.turn_counts_since(store, since_ms=since)}
    return Metric("roundtables_per_day", rate, "a day", "5+ a day (week 1)", rate >= 5, detail)


def _trades(store: Store, since: int) -> Metric:
    finished = loop_repo.finished_steps_since(store, since_ms=since)
    kinds = (StepKind.EXECUTE_TRADE, StepKind.SCALE_POSITION)
    filled = {
        kind.value: finished.get((kind.value, StepStatus.SUCCEEDED.value), 0) for kind in kinds
    }
    total = sum(filled.values())
    return Metric("autonomous_trades", total, "trades", "3+ (week 1)", total >= 3, filled)


def _memories(store: Store, since: int) -> Metric:
    held = learning_repo.memory_counts(store)
    total = sum(held.values())
    detail = {
        "by_type": held,
        "new": learning_repo.memories_created_since(store, since_ms=since),
        "promoted": learning_repo.promoted_count(store),
    }
    return Metric("memories", total, "memories", "30+ (week 1)", total >= 30, detail)


def _drift(store: Store, since: int) -> Metric:
    entries = repo.drift_log(store, since_ms=since, limit=1_000_000)
    pairs = {(d["agent_a"], d["agent_b"]) for d in entries}
    largest = max(entries, key=lambda d: abs(d["after"] - d["before"]), default=None)
    seeded = {tuple(sorted((a.value, b.value))): affinity for a, b, affinity in RELATIONSHIPS}
    away = [
        row
        for row in repo.relationships(store)
        if abs(row["affinity"] - seeded.get((row["agent_a"], row["agent_b"]), row["affinity"]))
        > 1e-9
    ]
    detail = {
        "entries": len(entries),
        "total": round(sum(abs(d["after"] - d["before"]) for d in entries), 4),
        "largest": None
        if largest is None
        else {k: largest[k] for k in ("agent_a", "agent_b", "before", "after", "reason")},
        "pairs_off_seed": len(away),
    }
    return Metric("drift", len(pairs), "pairs moved", "visible (week 1)", bool(pairs), detail)


def _influence(store: Store, since: int) -> Metric:
    counts = repo.influence_counts_since(store, since_ms=since)
    decisions = sum(n for n, _ in counts.values())
    influenced = sum(hit for _, hit in counts.values())
    rate = round(influenced / decisions, 4) if decisions else None
    detail = {kind: {"decisions": n, "influenced": hit} for kind, (n, hit) in counts.items()}
    met = None if rate is None else rate >= 0.30
    return Metric("memory_influence_rate", rate, "rate", "30 % of decisions (week 2)", met, detail)


def _win_rate(store: Store, since: int) -> Metric:
    outcomes = learning_repo.outcomes(store, closed_since=since, limit=1_000_000)
    pnls = [o["pnl"] for o in outcomes]
    rate = metrics.win_rate(pnls)
    detail = {
        kind.value: sum(1 for o in outcomes if o["outcome_type"] == kind) for kind in OutcomeType
    }
    detail["net_pnl"] = sum(pnls, ZERO)
    if rate is None:
        return Metric("win_rate", None, "rate", "60 %+ (week 3)", None, detail)
    return Metric("win_rate", round(rate, 4), "rate", "60 %+ (week 3)", rate >= 0.60, detail)


def _stale(store: Store, since: int) -> Metric:
    steps = loop_repo.stale_steps_since(store, since_ms=since)
    roundtables = repo.stale_roundtables_since(store, since_ms=since)
    detail = {"steps": steps, "roundtables": roundtables}
    return Metric(
        "stale_recoveries", steps + roundtables, "recoveries", "self-healing (week 3)", None, detail
    )


def _cost(store: Store, since: int) -> Metric:
    totals = llm_repo.invocation_totals(store, trace_prefix=TRACE_PREFIX, since_ms=since)
    cost: Decimal = totals.pop("cost_usd")
    return Metric("model_cost", cost, "USD", "—", None, totals)
