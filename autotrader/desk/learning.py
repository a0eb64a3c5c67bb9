"""Rule-based learning: closed trades → outcomes → memories; confident memories promoted; the
portfolio's history. (Memories from conversations: :mod:`autotrader.desk.distill`.)

Each closed desk position becomes one trade outcome — win, loss or breakeven (within ±0.5 % of
margin), net PnL and its fraction of the initial margin (the ledger's return on a trade), hold
time — linked to the mission, agent and signal that opened it. Rules turn outcomes into memories
keyed by what they are about, so evidence adds up: a losing trade is a *lesson* for the agent
who proposed it (0.55, +0.05 per repeat, at most 0.75), a winning one an *insight* for GROWTH
(0.65 → 0.85), and once a signal source has three outcomes on one side GROWTH keeps its record
as a *pattern* (0.70, +0.02 per further trade, at most 0.90). A memory with confidence ≥ 0.80
backed by three pieces of evidence is promoted: permanent, and announced as an insight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from autotrader.core.clock import DAY_MS, HOUR_MS, MINUTE_MS, Clock
from autotrader.core.db import Store
from autotrader.core.money import ZERO
from autotrader.desk.events import Event, emit
from autotrader.desk.models import MEMORY_RANGES
from autotrader.desk.repo import learning as repo
from autotrader.desk.repo import loop as loop_repo
from autotrader.desk.risk import read_book
from autotrader.desk.setup import desk_account_id, desk_clone_id
from autotrader.desk.vocabulary import AgentId, MemoryType, OutcomeType
from autotrader.ledger import metrics
from autotrader.ledger.queries import Trade, TradeFilter, trades

BREAKEVEN_BAND = Decimal("0.005")
PROMOTE_CONFIDENCE = 0.80
PROMOTE_EVIDENCE = 3
PATTERN_MIN_TRADES = 3
HISTORY_SLOT_MS = 5 * MINUTE_MS  # one portfolio row per heartbeat slot
SHARPE_WINDOW_MS = 7 * DAY_MS


@dataclass(frozen=True)
class MemoryNote:
    agent: AgentId
    type: MemoryType
    key: str
    content: str
    tags: tuple[str, ...]


@dataclass
class LearningReport:
    outcomes: list[int] = field(default_factory=list)
    memories: int = 0
    history_written: bool = False
    stopped_at_budget: bool = False


def learn_from_outcomes(
    store: Store, clock: Clock, *, should_stop: Callable[[], bool]
) -> LearningReport:
    """Record every desk trade closed since the last one recorded, then the portfolio row."""
    report = LearningReport()
    now = clock.now_ms()
    since = repo.latest_outcome_close(store) or 0
    closed = trades(
        store,
        TradeFilter(clone_id=desk_clone_id(store), since_ms=since, status="closed"),
        now_ms=now,
    ).closed
    recorded = repo.recorded_positions(store, closed_since=since)
    for trade in sorted(closed, key=lambda t: (t.closed_at or 0, t.position_id)):
        if trade.position_id in recorded:
            continue
        if should_stop():
            report.stopped_at_budget = True
            return report
        with store.atomic():
            outcome_id, notes = _record_outcome(store, trade, now)
            if outcome_id is not None:
                report.outcomes.append(outcome_id)
                report.memories += len(notes)
    with store.atomic():
        report.history_written = record_portfolio(store, now)
    return report


def _record_outcome(store: Store, trade: Trade, now: int) -> tuple[int | None, list[MemoryNote]]:
    step = loop_repo.step_for_position(store, trade.position_id)
    mission = loop_repo.get_mission(store, step["mission_id"]) if step else None
    proposal = loop_repo.get_proposal(store, mission["proposal_id"]) if mission else None
    signal = (
        repo.get_signal(store, proposal["signal_id"])
        if proposal and proposal["signal_id"]
        else None
    )
    pct = (trade.return_pct or ZERO) / 100
    kind = (
        OutcomeType.BREAKEVEN
        if abs(pct) < BREAKEVEN_BAND
        else OutcomeType.WIN
        if pct > 0
        else OutcomeType.LOSS
    )
    agent = AgentId(mission["agent_id"]) if mission else AgentId.SCOUT
    source = signal["source"] if signal else None
    notes = _notes(trade, pct, kind, agent, source)
    outcome_id = repo.insert_outcome(
        store,
        {
            "position_id": trade.position_id,
            "mission_id": mission["id"] if mission else None,
            "agent_id": agent.value,
            "symbol": trade.symbol,
            "side": trade.side,
            "entry_price": trade.entry_price,
            "exit_price": trade.exit_price,
            "qty": trade.qty,
            "pnl": trade.net_pnl,
            "pnl_pct": pct,
            "hold_time_ms": trade.holding_ms,
            "outcome_type": kind.value,
            "close_trigger": trade.close_trigger,
            "signal_source": source,
            "lessons_learned": [note.content for note in notes],
            "opened_at": trade.opened_at,
            "closed_at": trade.closed_at,
            "created_at": now,
        },
    )
    if outcome_id is None:  # another heartbeat recorded it first
        return None, []
    for note in notes:
        remember(store, note, trace=f"outcome:{outcome_id}", now_ms=now)
    if source is not None:
        pattern = _record_pattern(store, source, trade.side)
        if pattern is not None:
            remember(store, pattern, trace=f"outcome:{outcome_id}", now_ms=now)
    emit(
        store,
        Event(
            AgentId.GROWTH,
            "outcome",
            f"{trade.symbol} {trade.side} closed: {kind} {pct:+.2%} ({trade.close_trigger})",
            ("trade", "outcome", kind.value),
            summary="; ".join(note.content for note in notes),
            mission_id=mission["id"] if mission else None,
            position_id=trade.position_id,
            symbol=trade.symbol,
            side=trade.side,
            pnl=trade.net_pnl,
        ),
        now_ms=now,
    )
    return outcome_id, notes


def _hold(ms: int) -> str:
    return f"{ms / HOUR_MS:.1f} h" if ms >= HOUR_MS else f"{ms // MINUTE_MS} min"


def _notes(
    trade: Trade, pct: Decimal, kind: OutcomeType, agent: AgentId, source: str | None
) -> list[MemoryNote]:
    what = f"{trade.side} {trade.symbol} ({source + ' signal' if source else 'no signal'})"
    subject = f"{source or 'unsignalled'}:{trade.side}:{trade.symbol}"
    stopped = trade.close_trigger == "STOP"
    notes = []
    if kind is OutcomeType.LOSS:
        notes.append(
            MemoryNote(
                agent,
                MemoryType.LESSON,
                f"loss:{subject}",
                f"{what} lost {pct:.1%} in {_hold(trade.holding_ms)}"
                + (", stopped out" if stopped else ""),
                ("trade", "loss", trade.symbol),
            )
        )
        if stopped and trade.holding_ms < HOUR_MS:
            notes.append(
                MemoryNote(
                    AgentId.GROWTH,
                    MemoryType.LESSON,
                    f"early_stop:{trade.symbol}",
                    f"{trade.symbol} stops hit within an hour of entry: timing or stop distance "
                    "is off",
                    ("trade", "stop_loss", trade.symbol),
                )
            )
    elif kind is OutcomeType.WIN:
        notes.append(
            MemoryNote(
                AgentId.GROWTH,
                MemoryType.INSIGHT,
                f"win:{subject}",
                f"{what} won {pct:.1%} in {_hold(trade.holding_ms)}",
                ("trade", "win", trade.symbol),
            )
        )
    return notes


def _record_pattern(store: Store, source: str, side: str) -> MemoryNote | None:
    """GROWTH's record of one signal source on one side, once it has enough trades."""
    rows = [o for o in repo.outcomes(store, signal_source=source) if o["side"] == side]
    if len(rows) < PATTERN_MIN_TRADES:
        return None
    wins = sum(1 for o in rows if o["outcome_type"] == OutcomeType.WIN)
    average = sum((o["pnl_pct"] for o in rows), ZERO) / len(rows)
    return MemoryNote(
        AgentId.GROWTH,
        MemoryType.PATTERN,
        f"record:{source}:{side}",
        f"{source} {side} signals: {wins} of {len(rows)} won, {average:+.1%} on average",
        ("pattern", source, side.lower()),
    )


def remember(
    store: Store,
    note: MemoryNote,
    *,
    trace: str,
    now_ms: int,
    confidence: float | None = None,
) -> int:
    """Write ``note`` at ``confidence`` (default: its type's low end), or add its evidence to
    the memory with the same key (one step up its type's range); the memory id."""
    span = MEMORY_RANGES[note.type]
    existing = repo.get_memory(store, note.agent.value, note.type.value, note.key)
    if existing is None:
        return repo.insert_memory(
            store,
            {
                "agent_id": note.agent.value,
                "type": note.type.value,
                "key": note.key,
                "content": note.content,
                "confidence": span.low if confidence is None else confidence,
                "evidence_count": 1,
                "tags": note.tags,
                "source_trace": trace,
                "created_at": now_ms,
                "updated_at": now_ms,
            },
        )
    repo.update_memory(
        store,
        existing["id"],
        content=note.content,
        confidence=round(min(span.high, existing["confidence"] + span.step), 4),
        evidence_count=existing["evidence_count"] + 1,
        source_trace=trace,
        updated_at=now_ms,
    )
    return existing["id"]


def promote_insights(store: Store, clock: Clock, *, should_stop: Callable[[], bool]) -> list[int]:
    """Promote confident, corroborated memories (a batch at a time); their ids."""
    promoted: list[int] = []
    now = clock.now_ms()
    while not should_stop():
        with store.atomic():
            rows = repo.promote_memories(
                store,
                min_confidence=PROMOTE_CONFIDENCE,
                min_evidence=PROMOTE_EVIDENCE,
                now_ms=now,
                limit=100,
            )
            for row in rows:
                emit(
                    store,
                    Event(
                        AgentId(row["agent_id"]),
                        "memory",
                        f"{row['type']} promoted: {row['content']}",
                        ("insight", row["type"], "promoted"),
                        summary=f"confidence {row['confidence']:.2f} from "
                        f"{row['evidence_count']} pieces of evidence",
                    ),
                    now_ms=now,
                )
        promoted += [row["id"] for row in rows]
        if len(rows) < 100:
            break
    return promoted


def record_portfolio(store: Store, now_ms: int) -> bool:
    """The portfolio row of the current heartbeat slot (once per slot): equity, 24 h PnL, open
    positions, trades, win rate and the annualised Sharpe ratio of the last seven days."""
    slot = now_ms - now_ms % HISTORY_SLOT_MS
    latest = repo.latest_history(store)
    if latest is not None and latest["time"] >= slot:
        return False
    book = read_book(store, desk_account_id(store), now_ms)
    value = book.equity
    day_ago = repo.value_at(store, at_or_before=slot - DAY_MS)
    pnls = [o["pnl"] for o in repo.outcomes(store)]
    history = [*repo.history_since(store, since_ms=slot - SHARPE_WINDOW_MS), (slot, value)]
    times = [t for t, _ in history]
    sharpe = metrics.sharpe(
        metrics.simple_returns([v for _, v in history]), metrics.periods_per_year(times)
    )
    return repo.insert_history(
        store,
        {
            "time": slot,
            "total_value": value,
            "pnl_24h": None if day_ago is None else value - day_ago,
            "open_positions": len(book.positions),
            "trades": len(pnls),
            "win_rate": metrics.win_rate(pnls),
            "sharpe": None if sharpe is None else round(sharpe, 4),
            "created_at": now_ms,
        },
    )
