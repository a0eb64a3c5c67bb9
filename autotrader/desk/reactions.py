"""The reaction matrix: agents reacting to each other's events, by chance and with cooldowns.

A pattern (``desk_reaction_patterns``) names a source agent (or ``*``), tags an event must all
carry, the agent who reacts, how (the step kind it proposes), a probability and a cooldown. Two
passes, each in batches until done or out of budget:

1. *match*: every event after the matrix's cursor is matched against the enabled patterns. An
   agent never reacts to its own event. A match inside the pattern's cooldown (measured between
   event times, so a replay decides the same) is passed over; otherwise a draw from an RNG seeded
   by the event and the pattern decides — the same event always makes the same choice — and a
   hit is queued (``desk_reactions``, unique per event and pattern). The cursor moves with the
   batch, in the same transaction.
2. *propose*: each queued reaction becomes the target agent's proposal through
   :func:`autotrader.desk.proposals.submit`, and is marked processed with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from autotrader.core.clock import MINUTE_MS, Clock
from autotrader.core.db import Store
from autotrader.desk import proposals
from autotrader.desk.chance import draw
from autotrader.desk.models import ProposalDraft, StepDraft
from autotrader.desk.repo import config as config_repo
from autotrader.desk.repo import events as events_repo
from autotrader.desk.vocabulary import AgentId, ProposalSource, ReactionStatus, StepKind

CURSOR = "reactions"
MATCH_BATCH = 2000
PROPOSE_BATCH = 50


def matches(pattern: dict, event: dict) -> bool:
    if pattern["source"] not in ("*", event["agent_id"]):
        return False
    if pattern["target_agent"] == event["agent_id"]:
        return False  # an agent does not react to itself
    return set(pattern["tags"]) <= set(event["tags"])


@dataclass
class ReactionReport:
    events: int = 0
    queued: int = 0
    cooled: int = 0
    missed: int = 0  # matched, but the draw said no
    proposed: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stopped_at_budget: bool = False


def process_reactions(
    store: Store, clock: Clock, *, should_stop: Callable[[], bool]
) -> ReactionReport:
    report = ReactionReport()
    patterns = config_repo.patterns(store, enabled_only=True)
    while not should_stop():
        if not _match_batch(store, clock, patterns, report):
            break
    after = 0
    while not should_stop():
        after = _propose_batch(store, clock, report, after)
        if after is None:
            break
    report.stopped_at_budget = should_stop()
    return report


def _match_batch(store: Store, clock: Clock, patterns: list[dict], report: ReactionReport) -> bool:
    """Match one batch of new events; False when there was none."""
    now = clock.now_ms()
    with store.atomic():
        after = events_repo.get_cursor(store, CURSOR)
        events = events_repo.events_after(store, after, limit=MATCH_BATCH)
        if not events:
            return False
        last_time = events_repo.last_reaction_times(store)
        for event in events:
            for pattern in patterns:
                if not matches(pattern, event):
                    continue
                previous = last_time.get(pattern["id"])
                cooldown = pattern["cooldown_minutes"] * MINUTE_MS
                if previous is not None and event["created_at"] - previous < cooldown:
                    report.cooled += 1
                    continue
                if (
                    draw(event["id"], event["created_at"], pattern["name"])
                    >= pattern["probability"]
                ):
                    report.missed += 1
                    continue
                queued = events_repo.insert_reaction(
                    store,
                    {
                        "pattern_id": pattern["id"],
                        "event_id": event["id"],
                        "event_time": event["created_at"],
                        "source_agent": event["agent_id"],
                        "target_agent": pattern["target_agent"],
                        "reaction_type": pattern["reaction_type"],
                        "status": ReactionStatus.QUEUED.value,
                        "created_at": now,
                    },
                )
                if queued is not None:
                    report.queued += 1
                    last_time[pattern["id"]] = event["created_at"]
        events_repo.set_cursor(store, CURSOR, events[-1]["id"], now_ms=now)
        report.events += len(events)
    return len(events) == MATCH_BATCH


def _propose_batch(store: Store, clock: Clock, report: ReactionReport, after: int) -> int | None:
    """Turn the queued reactions after id ``after`` into proposals; the last id handled, or
    None when none was left."""
    reactions = events_repo.queued_reactions(store, after_id=after, limit=PROPOSE_BATCH)
    for reaction in reactions:
        try:
            with store.atomic():
                event = events_repo.get_event(store, reaction["event_id"])
                outcome = proposals.submit(store, clock, _draft(reaction, event or {}))
                events_repo.mark_reaction_processed(
                    store, reaction["id"], proposal_id=outcome.proposal_id, now_ms=clock.now_ms()
                )
            report.proposed.append(outcome.proposal_id)
        except Exception as exc:  # recorded; the reaction stays queued for the next heartbeat
            report.errors.append(f"reaction {reaction['id']}: {type(exc).__name__}: {exc}")
    return reactions[-1]["id"] if reactions else None


def _draft(reaction: dict, event: dict) -> ProposalDraft:
    kind = StepKind(reaction["step_kind"])
    target = AgentId(reaction["target_agent"])
    fields: dict = {"kind": kind, "topics": (reaction["reaction_type"],)}
    if kind in (StepKind.REVIEW_PERFORMANCE, StepKind.MONITOR_POSITION):
        fields["position_id"] = event.get("position_id")
        if fields["position_id"] is None and kind is StepKind.MONITOR_POSITION:
            fields["symbol"] = event.get("symbol")
    elif kind in (StepKind.CALCULATE_RISK, StepKind.ANALYZE_SIGNAL):
        fields["symbol"] = event.get("symbol")
        if kind is StepKind.CALCULATE_RISK and event.get("side"):
            fields["side"] = event["side"]
    about = event.get("title", f"event {reaction['event_id']}")
    return ProposalDraft(
        agent_id=target,
        title=f"{target.value.upper()} ({reaction['reaction_type']}): {about}"[:200],
        rationale=f"reaction {reaction['pattern']} to {reaction['source_agent']}'s event "
        f"{reaction['event_id']}",
        steps=(StepDraft(**fields),),
        source=ProposalSource.REACTION,
        source_ref=f"reaction:{reaction['id']}",
    )
