"""Trigger rules: facts and schedules that make an agent propose.

A rule is data (``desk_trigger_rules``): its conditions, target agent, cooldown, fire count and
when it last fired. Reactive rules read facts newer than their cursor (trade outcomes, signals)
or the book as it stands (positions at risk, how many are open); proactive rules fire on their
schedule. A firing is a proposal through :func:`autotrader.desk.proposals.submit` (the gates
judge it like any other) and an event tagged with the rule's tags. Facts that arrive while a
rule cools down are passed over, not saved for later: a signal 15 minutes old is no longer one.
SCOUT's execution plan for a signal consults the memory influence policy
(:mod:`autotrader.desk.influence`): lessons about the symbol temper its confidence.

Each rule is evaluated in a transaction of its own, so an error in one is recorded and the next
still runs, and two heartbeats never fire one rule twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from autotrader.core.clock import MINUTE_MS, Clock
from autotrader.core.db import Store
from autotrader.desk import proposals
from autotrader.desk.events import Event, emit
from autotrader.desk.influence import Influence, cite, consult, record, temper
from autotrader.desk.models import Policies, ProposalDraft, StepDraft
from autotrader.desk.policies import load_policies
from autotrader.desk.repo import config as repo
from autotrader.desk.repo import learning as learning_repo
from autotrader.desk.risk import Book, default_stop, read_book, size_entry, target_price
from autotrader.desk.seeds import HIGH_CONFIDENCE
from autotrader.desk.setup import desk_account_id
from autotrader.desk.vocabulary import (
    AgentId,
    InfluenceDecision,
    ProposalSource,
    SignalType,
    StepKind,
    TriggerKind,
)
from autotrader.market.view import execution_price
from autotrader.prop.models import Side

REWARD_RISK = Decimal(2)
"""SCOUT's execution plan puts the target twice the stop's distance away (ATLAS asks about the
risk-reward ratio): with the seed's 30 % stop, +60 % — a big win."""


@dataclass(frozen=True)
class Firing:
    """What a rule saw that makes its agent propose."""

    title: str
    steps: tuple[StepDraft, ...]
    summary: str = ""
    confidence: float | None = None
    signal_id: int | None = None
    position_id: int | None = None
    symbol: str | None = None
    influence: Influence | None = None  # whether memories shaped it
    effect: str = ""  # and what they changed


@dataclass
class _Context:
    store: Store
    now: int
    watchlist: tuple[str, ...]

    @cached_property
    def policies(self) -> Policies:
        return load_policies(self.store)

    @cached_property
    def book(self) -> Book:
        return read_book(self.store, desk_account_id(self.store), self.now)


Checker = Callable[[_Context, dict], tuple[Firing | None, int]]
"""A reactive rule's check: what fires (or None) and the rule's new cursor."""


@dataclass
class TriggerReport:
    evaluated: int = 0
    fired: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stopped_at_budget: bool = False


def evaluate_triggers(
    store: Store, clock: Clock, *, watchlist: tuple[str, ...], should_stop: Callable[[], bool]
) -> TriggerReport:
    """Evaluate every enabled rule once (until ``should_stop()``)."""
    report = TriggerReport()
    ctx = _Context(store, clock.now_ms(), watchlist)
    for rule in repo.triggers(store, enabled_only=True):
        if should_stop():
            report.stopped_at_budget = True
            break
        report.evaluated += 1
        try:
            with store.atomic():
                if _evaluate(store, clock, ctx, rule["name"]):
                    report.fired.append(rule["name"])
        except Exception as exc:  # one rule's error never stops the others
            report.errors.append(f"{rule['name']}: {type(exc).__name__}: {exc}")
    return report


def _evaluate(store: Store, clock: Clock, ctx: _Context, name: str) -> bool:
    rule = repo.get_trigger(store, name)  # re-read under the write lock
    if rule is None or not rule["enabled"]:
        return False
    cooling = rule["last_fired_at"] is not None and (
        ctx.now - rule["last_fired_at"] < rule["cooldown_minutes"] * MINUTE_MS
    )
    if rule["kind"] == TriggerKind.PROACTIVE:
        firing, cursor = (None if cooling else _scheduled(ctx, rule)), rule["cursor"]
    else:
        firing, cursor = _REACTIVE[name](ctx, rule)
    if firing is None or cooling:
        if cursor != rule["cursor"]:
            repo.update_trigger(store, rule["id"], cursor=cursor, now_ms=ctx.now)
        return False
    agent = AgentId(rule["agent_id"])
    draft = ProposalDraft(
        agent_id=agent,
        title=firing.title,
        rationale=f"trigger {name}: {firing.summary}".strip(": "),
        steps=firing.steps,
        confidence=firing.confidence,
        source=ProposalSource.TRIGGER,
        source_ref=f"trigger:{name}",
        signal_id=firing.signal_id,
    )
    outcome = proposals.submit(store, clock, draft)
    if firing.influence is not None:
        influence, effect = firing.influence, firing.effect
        record(store, influence, effect=effect, proposal_id=outcome.proposal_id, now_ms=ctx.now)
    repo.record_firing(store, rule["id"], cursor=cursor, now_ms=ctx.now)
    emit(
        store,
        Event(
            agent,
            "trigger",
            f"trigger {name} fired: {firing.title}",
            ("trigger", name, *rule["tags"]),
            summary=f"proposal {outcome.proposal_id} {outcome.status}: {outcome.reason}",
            proposal_id=outcome.proposal_id,
            signal_id=firing.signal_id,
            position_id=firing.position_id,
            symbol=firing.symbol,
        ),
        now_ms=ctx.now,
    )
    return True


# -- proactive -----------------------------------------------------------------------------


def _scheduled(ctx: _Context, rule: dict) -> Firing | None:
    last, interval = rule["last_fired_at"], (rule["interval_minutes"] or 0) * MINUTE_MS
    if last is not None and ctx.now - last < interval:
        return None
    conditions = rule["conditions"]
    needed = conditions.get("open_positions_at_least")
    if needed is not None and len(ctx.book.positions) < needed:
        return None
    kind = StepKind(rule["step_kind"])
    fields: dict = {"kind": kind, "topics": tuple(rule["topics"])}
    if kind is StepKind.ANALYZE_SIGNAL:
        fields |= {"symbols": ctx.watchlist, "timeframe": conditions.get("timeframe")}
    agent = rule["agent_id"].upper()
    return Firing(
        title=f"{agent}: {rule['name'].removeprefix('proactive_').replace('_', ' ')}",
        steps=(StepDraft(**fields),),
        summary=f"every {rule['interval_minutes']} minutes",
    )


# -- reactive ------------------------------------------------------------------------------


def _outcomes(ctx: _Context, rule: dict, matches: Callable[[dict], bool], verb: str):
    """Fire about the most extreme new trade outcome that ``matches``."""
    new = learning_repo.outcomes_after(ctx.store, rule["cursor"])
    cursor = new[-1]["id"] if new else rule["cursor"]
    hits = [o for o in new if matches(o)]
    if not hits:
        return None, cursor
    outcome = max(hits, key=lambda o: abs(o["pnl_pct"]))
    title = (
        f"{rule['agent_id'].upper()}: {outcome['symbol']} {outcome['side']} {verb} "
        f"{outcome['pnl_pct']:+.1%}"
    )
    step = StepDraft(
        kind=StepKind(rule["step_kind"]),
        position_id=outcome["position_id"],
        topics=tuple(rule["topics"]),
    )
    firing = Firing(
        title,
        (step,),
        summary=f"position {outcome['position_id']} closed by {outcome['close_trigger']}",
        position_id=outcome["position_id"],
        symbol=outcome["symbol"],
    )
    return firing, cursor


def _big_win(ctx: _Context, rule: dict):
    above = Decimal(str(rule["conditions"]["pnl_pct_above"]))
    return _outcomes(ctx, rule, lambda o: o["pnl_pct"] > above, "won")


def _big_loss(ctx: _Context, rule: dict):
    below = Decimal(str(rule["conditions"]["pnl_pct_below"]))
    return _outcomes(ctx, rule, lambda o: o["pnl_pct"] < below, "lost")


def _stop_loss_hit(ctx: _Context, rule: dict):
    trigger = rule["conditions"].get("close_trigger", "STOP")
    return _outcomes(ctx, rule, lambda o: o["close_trigger"] == trigger, "stopped out at")


def _position_at_risk(ctx: _Context, rule: dict):
    below = Decimal(str(rule["conditions"]["pnl_pct_below"]))
    at_risk = [p for p in ctx.book.positions if p.pnl_pct < below]
    if not at_risk:
        return None, rule["cursor"]
    worst = min(at_risk, key=lambda p: p.pnl_pct)
    step = StepDraft(
        kind=StepKind(rule["step_kind"]), position_id=worst.id, topics=tuple(rule["topics"])
    )
    title = f"ATLAS: review {worst.symbol} {worst.side} at {worst.pnl_pct:+.1%}: hold or cut?"
    return Firing(title, (step,), position_id=worst.id, symbol=worst.symbol), rule["cursor"]


def _max_positions(ctx: _Context, rule: dict):
    needed = rule["conditions"]["open_positions_at_least"]
    held = len(ctx.book.positions)
    if held < needed:
        return None, rule["cursor"]
    step = StepDraft(kind=StepKind(rule["step_kind"]), topics=tuple(rule["topics"]))
    title = f"OBSERVER: {held} positions open (limit {needed}): exposure review"
    return Firing(title, (step,), summary=f"{held} open positions"), rule["cursor"]


def _high_confidence(ctx: _Context, rule: dict):
    """The most confident new signal above the threshold becomes SCOUT's execution plan."""
    above = float(rule["conditions"]["confidence_above"])
    new = learning_repo.signals_after(ctx.store, rule["cursor"])
    cursor = new[-1]["id"] if new else rule["cursor"]
    hits = [s for s in new if s["confidence"] > above]
    if not hits:
        return None, cursor
    signal = max(hits, key=lambda s: (s["confidence"], s["id"]))
    return _execution_plan(ctx, rule, signal), cursor


def _execution_plan(ctx: _Context, rule: dict, signal: dict) -> Firing:
    policies, book = ctx.policies, ctx.book
    side, symbol = Side(signal["side"]), signal["symbol"]
    now = execution_price(ctx.store, symbol, ctx.now)
    price = now.price if now else signal["price"]  # the plan is made at today's price
    pct = policies.risk_controls.default_stop_loss_pct
    stop = default_stop(price, side, pct) if pct is not None else None
    size = size_entry(
        equity=book.equity,
        entry=price,
        stop=stop,
        open_risk=book.open_risk,
        limits=policies.trade_limits,
        controls=policies.risk_controls,
    )
    held = book.position(symbol=symbol)
    if signal["signal_type"] == SignalType.SCALE and held is not None:
        room = policies.trade_limits.max_position_size_usd - held.notional
        add = min(size, room) if room > 0 else size
        steps = (StepDraft(kind=StepKind.SCALE_POSITION, position_id=held.id, notional_usd=add),)
        what = f"scale {symbol} {side} by {add} USD"
    else:
        trade = StepDraft(
            kind=StepKind.EXECUTE_TRADE,
            symbol=symbol,
            side=side,
            notional_usd=size,
            stop_loss=stop,
            take_profit=target_price(price, stop, REWARD_RISK) if stop is not None else None,
        )
        steps = (trade, StepDraft(kind=StepKind.MONITOR_POSITION, symbol=symbol))
        what = f"{side} {symbol} {size} USD"
    influence = consult(
        ctx.store,
        policies.memory_influence_policy,
        decision=InfluenceDecision.PROPOSAL,
        subject=f"signal:{signal['id']}",
        decided_by=AgentId(rule["agent_id"]),
        about=symbol,
    )
    confidence, effect = temper(signal["confidence"], influence)
    summary = f"signal {signal['id']} at {signal['price']}, now {price}"
    if influence.influenced:
        summary += f"; {effect}; " + "; ".join(cite(m) for m in influence.memories)
    return Firing(
        title=f"SCOUT: {what} on a {signal['confidence']:.0%} {signal['source']} signal",
        steps=steps,
        summary=summary,
        confidence=confidence,
        signal_id=signal["id"],
        symbol=symbol,
        influence=influence,
        effect=effect,
    )


_REACTIVE: dict[str, Checker] = {
    "trade_big_win": _big_win,
    "trade_big_loss": _big_loss,
    "position_at_risk": _position_at_risk,
    "signal_high_confidence": _high_confidence,
    "max_positions_reached": _max_positions,
    "stop_loss_hit": _stop_loss_hit,
}


def high_confidence(store: Store) -> float:
    """The confidence above which a signal is "high confidence": the signal_high_confidence
    rule's threshold (the seed's 0.80 when the rule is gone)."""
    rule = repo.get_trigger(store, "signal_high_confidence")
    return float(rule["conditions"]["confidence_above"]) if rule else HIGH_CONFIDENCE


def at_risk_below(store: Store) -> Decimal:
    """The PnL (a fraction of margin) below which a position is "at risk": the
    position_at_risk rule's threshold."""
    rule = repo.get_trigger(store, "position_at_risk")
    return Decimal(str(rule["conditions"]["pnl_pct_below"])) if rule else Decimal("-0.20")
