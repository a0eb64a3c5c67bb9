"""The position-monitor: TP/SL thresholds, closes, positions at risk, and monitor_position steps.

Every tick it marks the desk's account to market (prop's own exits: stop, target, time,
liquidation — the same rules every account trades under), reports each close once, and flags
each open position once when it falls below the ``position_at_risk`` rule's threshold. A
``monitor_position`` step reports where the named position (or every open one) stands; one found
at risk gets an exit suggested: a close_position proposal by the mission's agent, gated like any.
"""

from __future__ import annotations

from decimal import Decimal

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.money import to_text
from autotrader.desk import proposals
from autotrader.desk.events import Event, emit
from autotrader.desk.missions import Handler, StepResult
from autotrader.desk.models import ProposalDraft, StepDraft
from autotrader.desk.repo import events as events_repo
from autotrader.desk.repo import loop as loop_repo
from autotrader.desk.risk import BookPosition, read_book
from autotrader.desk.setup import desk_account_id
from autotrader.desk.triggers import at_risk_below
from autotrader.desk.vocabulary import AgentId, ProposalSource, StepKind
from autotrader.ledger.queries import TradeFilter, trades
from autotrader.prop.mtm import MarkToMarket

CLOSES_CURSOR = "monitor_closes"


class PositionMonitor:
    def __init__(self, store: Store, clock: Clock, mtm: MarkToMarket) -> None:
        self.store = store
        self.clock = clock
        self.mtm = mtm

    def handlers(self) -> dict[StepKind, Handler]:
        return {StepKind.MONITOR_POSITION: self.monitor_position}

    def watch(self) -> dict[str, int]:
        """One pass over the book: exits, closes reported, positions newly at risk."""
        account_id = desk_account_id(self.store)
        marked = self.mtm.run([account_id])
        now = self.clock.now_ms()
        with self.store.atomic():
            closes = self._report_closes(account_id, now)
            flagged = self._flag_at_risk(account_id, now)
        return {"exits": sum(marked.exits.values()), "closes": closes, "at_risk": flagged}

    def _report_closes(self, account_id: int, now: int) -> int:
        since = events_repo.get_cursor(self.store, CLOSES_CURSOR)
        closed = trades(
            self.store,
            TradeFilter(account_id=account_id, since_ms=since, status="closed"),
            now_ms=now,
        ).closed
        reported = 0
        for trade in sorted(closed, key=lambda t: (t.closed_at or 0, t.position_id)):
            if events_repo.event_exists(
                self.store, kind="trade_closed", position_id=trade.position_id
            ):
                continue
            trigger = (trade.close_trigger or "MANUAL").lower()
            pct = f" ({trade.return_pct:+}%)" if trade.return_pct is not None else ""
            emit(
                self.store,
                Event(
                    AgentId.SCOUT,
                    "trade_closed",
                    f"{trade.symbol} {trade.side} closed by {trade.close_trigger} @ "
                    f"{to_text(trade.exit_price) if trade.exit_price else '?'}: net "
                    f"{to_text(trade.net_pnl)} USD{pct}",
                    ("trade", "closed", trigger) + (("stop_loss",) if trigger == "stop" else ()),
                    position_id=trade.position_id,
                    symbol=trade.symbol,
                    side=trade.side,
                    pnl=trade.net_pnl,
                ),
                now_ms=now,
            )
            reported += 1
        if closed:
            newest = max(t.closed_at or 0 for t in closed)
            events_repo.set_cursor(self.store, CLOSES_CURSOR, newest, now_ms=now)
        return reported

    def _flag_at_risk(self, account_id: int, now: int) -> int:
        below = at_risk_below(self.store)
        flagged = 0
        for held in read_book(self.store, account_id, now).positions:
            if held.pnl_pct >= below or events_repo.event_exists(
                self.store, kind="position_at_risk", position_id=held.id
            ):
                continue
            emit(
                self.store,
                Event(
                    AgentId.SCOUT,
                    "position_at_risk",
                    f"{held.symbol} {held.side} at {held.pnl_pct:+.1%} (below {below:+.0%}): "
                    f"mark {to_text(held.mark)}",
                    ("position", "at_risk"),
                    position_id=held.id,
                    symbol=held.symbol,
                    side=held.side.value,
                    pnl=held.unrealized,
                ),
                now_ms=now,
            )
            flagged += 1
        return flagged

    def monitor_position(self, step: dict) -> StepResult:
        draft = StepDraft.model_validate(step["payload"])
        now = self.clock.now_ms()
        book = read_book(self.store, desk_account_id(self.store), now)
        if draft.position_id is None and draft.symbol is None:
            watched = list(book.positions)
        else:
            found = book.position(position_id=draft.position_id, symbol=draft.symbol)
            if found is None:
                return StepResult(
                    title=f"position {draft.position_id or draft.symbol} is no longer open",
                    output={"open": False},
                )
            watched = [found]
        below = at_risk_below(self.store)
        lines, suggested = {}, {}
        for held in watched:
            lines[str(held.id)] = _line(held)
            if held.pnl_pct < below:
                suggested[str(held.id)] = self._suggest_exit(step, held, below)
        summary = "; ".join(lines.values()) or "no open positions"
        return StepResult(
            title=f"{len(watched)} positions reviewed"
            + (f", {len(suggested)} exits suggested" if suggested else ""),
            output={"positions": lines, "exits_suggested": suggested},
            summary=summary,
            tags=("position", "review"),
            position_id=watched[0].id if len(watched) == 1 else None,
            symbol=watched[0].symbol if len(watched) == 1 else None,
        )

    def _suggest_exit(self, step: dict, held: BookPosition, below: Decimal) -> dict:
        mission = loop_repo.get_mission(self.store, step["mission_id"])
        agent = AgentId(mission["agent_id"]) if mission else AgentId.ATLAS
        draft = ProposalDraft(
            agent_id=agent,
            title=f"{agent.value.upper()}: cut {held.symbol} {held.side} at {held.pnl_pct:+.1%}",
            rationale=f"below the at-risk threshold {below:+.0%} on review (step {step['id']})",
            steps=(StepDraft(kind=StepKind.CLOSE_POSITION, position_id=held.id),),
            source=ProposalSource.WORKER,
            source_ref=f"step:{step['id']}",
        )
        outcome = proposals.submit(self.store, self.clock, draft)
        return {"proposal_id": outcome.proposal_id, "status": outcome.status.value}


def _line(held: BookPosition) -> str:
    stop = f"stop {to_text(held.stop)}" if held.stop is not None else "no stop"
    target = f"target {to_text(held.target)}" if held.target is not None else "no target"
    return (
        f"{held.symbol} {held.side} {to_text(held.qty)} @ {to_text(held.entry_price)} → "
        f"{to_text(held.mark)} ({held.pnl_pct:+.2%}), {stop}, {target}"
    )
