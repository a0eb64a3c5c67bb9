"""The one way anything becomes work: create a proposal and maybe auto-approve it.

:func:`submit` runs in one unit of work: it reads the policies and the desk's state, fills in
the default stop of a trade without one, runs the cap gates (:mod:`autotrader.desk.gates`) and
then routes the proposal — rejected with the failing gate and its numbers, accepted with its
mission queued, or pending with a roundtable queued. Triggers, reactions, workers and the LLM
initiative and roundtables all come through here. :func:`submit_raw` is the entry for
untrusted input (a model's answer): a payload that is not even a valid draft is still recorded,
as rejected by the ``proposal.schema`` gate, and nothing executes. :func:`decide_pending` is a
roundtable's verdict on a proposal that waited for one: approved, it faces the gates again.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from autotrader.core.clock import DAY_MS, Clock
from autotrader.core.db import Store
from autotrader.core.errors import ConflictError
from autotrader.core.money import to_text
from autotrader.desk import gates
from autotrader.desk.events import Event, emit
from autotrader.desk.gates import DeskFacts, InFlight, SymbolFacts
from autotrader.desk.missions import open_mission
from autotrader.desk.models import GateCheck, Policies, ProposalDraft, StepDraft
from autotrader.desk.policies import load_policies
from autotrader.desk.repo import conversations as conversations_repo
from autotrader.desk.repo import loop as repo
from autotrader.desk.risk import Book, default_stop, entry_risk, position_risk, read_book
from autotrader.desk.roundtables import queue_for_proposal
from autotrader.desk.setup import desk_account_id
from autotrader.desk.vocabulary import AgentId, ProposalSource, ProposalStatus, StepKind
from autotrader.market import repo as market_repo
from autotrader.market.view import execution_price
from autotrader.prop.models import Side, validation_summary


@dataclass(frozen=True)
class ProposalOutcome:
    proposal_id: int
    status: ProposalStatus
    gate: str | None  # the gate that refused it
    reason: str
    checks: tuple[GateCheck, ...] = ()
    mission_id: int | None = None
    roundtable_id: int | None = None

    @property
    def accepted(self) -> bool:
        return self.status is ProposalStatus.ACCEPTED


def submit(store: Store, clock: Clock, draft: ProposalDraft) -> ProposalOutcome:
    """Gate ``draft`` and route it; see the module docstring. Raises NotFoundError when the
    desk is not set up."""
    now = clock.now_ms()
    with store.atomic():
        policies = load_policies(store)
        facts = gather_facts(store, draft, now)
        draft = _with_default_stops(draft, facts, policies)
        checks = gates.evaluate(draft, facts, policies)
        failure = next((c for c in checks if not c.passed), None)
        if failure is not None:
            return _record(store, draft, facts, checks, ProposalStatus.REJECTED, failure, now)
        why = gates.roundtable_route(draft, policies)
        if why is None:
            return _record(store, draft, facts, checks, ProposalStatus.ACCEPTED, None, now)
        checks += gates.roundtable_gates(facts.roundtables_today, policies)
        failure = next((c for c in checks if not c.passed), None)
        if failure is not None:
            return _record(store, draft, facts, checks, ProposalStatus.REJECTED, failure, now)
        checks.append(GateCheck("roundtable.route", True, why))
        return _record(store, draft, facts, checks, ProposalStatus.PENDING, None, now)


def submit_raw(
    store: Store,
    clock: Clock,
    data: dict[str, Any],
    *,
    agent: AgentId,
    source: ProposalSource,
    source_ref: str | None = None,
) -> ProposalOutcome:
    """Validate an untrusted payload as the draft of ``agent`` and :func:`submit` it; an
    invalid payload is recorded as rejected by ``proposal.schema`` (nothing executes)."""
    payload = {**data, "agent_id": agent.value, "source": source.value, "source_ref": source_ref}
    try:
        draft = ProposalDraft.model_validate(payload)
    except ValidationError as exc:
        return _record_invalid(store, payload, validation_summary(exc), clock.now_ms())
    return submit(store, clock, draft)


def decide_pending(
    store: Store, clock: Clock, proposal_id: int, *, approved: bool, verdict: str
) -> ProposalOutcome:
    """A roundtable's verdict on a pending proposal, in one unit of work.

    Rejected, it is refused by ``roundtable.verdict``. Approved, the cap gates judge it again as
    things stand now (a day's trades or the book may have moved while it waited) and it is
    accepted, its mission opened, only when every gate passes. Its gate results keep what was
    found at the proposal, then the verdict, then the second judgement. Raises ConflictError
    when the proposal is no longer pending.
    """
    now = clock.now_ms()
    with store.atomic():
        row = repo.get_proposal(store, proposal_id)
        if row is None or row["status"] != ProposalStatus.PENDING:
            raise ConflictError(f"proposal {proposal_id} is not waiting for a roundtable")
        earlier = row["gate_results"]
        draft = _stored_draft(row)
        said = GateCheck("roundtable.verdict", approved, verdict)
        if not approved:
            return _settle(store, row, draft, [said], ProposalStatus.REJECTED, said, earlier, now)
        facts = gather_facts(store, draft, now, excluding=proposal_id)
        checks = [said, *gates.evaluate(draft, facts, load_policies(store))]
        failure = next((c for c in checks if not c.passed), None)
        status = ProposalStatus.ACCEPTED if failure is None else ProposalStatus.REJECTED
        return _settle(store, row, draft, checks, status, failure, earlier, now)


# -- facts -------------------------------------------------------------------------------------


def gather_facts(
    store: Store, draft: ProposalDraft, now_ms: int, *, excluding: int = 0
) -> DeskFacts:
    """What the gates compare against, read inside the caller's unit of work; ``excluding``
    leaves a pending proposal judged again out of its own counts."""
    book = read_book(store, desk_account_id(store), now_ms)
    midnight = now_ms - now_ms % DAY_MS
    wanted = {s.symbol for s in draft.steps if s.symbol} | {
        x for s in draft.steps for x in s.symbols
    }
    prices: dict[str, Decimal | None] = {}
    symbols = {}
    for symbol in sorted(wanted):
        known = market_repo.get_asset(store, symbol) is not None
        prices[symbol] = _price(store, symbol, now_ms) if known else None
        symbols[symbol] = SymbolFacts(known, prices[symbol])
    return DeskFacts(
        book=book,
        symbols=symbols,
        trades_today=repo.count_proposed_steps(
            store,
            (StepKind.EXECUTE_TRADE, StepKind.SCALE_POSITION),
            since_ms=midnight,
            excluding=excluding,
        ),
        analyses_today=repo.count_proposed_steps(
            store, (StepKind.ANALYZE_SIGNAL,), since_ms=midnight, excluding=excluding
        ),
        roundtables_today=conversations_repo.roundtables_since(store, since_ms=midnight),
        in_flight=_in_flight(store, book, prices, now_ms, excluding),
        duplicate_of=repo.open_duplicate(store, draft.dedupe_key, excluding=excluding),
    )


def _price(store: Store, symbol: str, now_ms: int) -> Decimal | None:
    price = execution_price(store, symbol, now_ms)
    return price.price if price else None


def _in_flight(
    store: Store, book: Book, prices: dict[str, Decimal | None], now_ms: int, excluding: int
) -> tuple[InFlight, ...]:
    """Trade steps queued, running or waiting for a roundtable, with what each will risk."""
    payloads = [step["payload"] for step in repo.active_trade_steps(store)]
    payloads += [
        p
        for p in repo.pending_steps(store, excluding=excluding)
        if p["kind"] in gates.TRADE_OPENING | {StepKind.CLOSE_POSITION}
    ]
    flights = []
    for payload in payloads:
        step = StepDraft.model_validate(payload)
        risk = Decimal(0)
        if step.kind is StepKind.EXECUTE_TRADE and step.symbol and step.notional_usd:
            if step.symbol not in prices:
                prices[step.symbol] = _price(store, step.symbol, now_ms)
            price = prices[step.symbol]
            risk = (
                entry_risk(step.notional_usd, price, step.stop_loss) if price else step.notional_usd
            )
        elif step.kind is StepKind.SCALE_POSITION and step.notional_usd:
            held = book.position(position_id=step.position_id, symbol=step.symbol)
            if held is not None:
                risk = position_risk(held.side, step.notional_usd / held.mark, held.mark, held.stop)
        flights.append(InFlight(step.kind, step.symbol, step.position_id, risk))
    return tuple(flights)


def _with_default_stops(
    draft: ProposalDraft, facts: DeskFacts, policies: Policies
) -> ProposalDraft:
    """Trades without a stop get the risk_controls default, so the gates judge the real risk."""
    pct = policies.risk_controls.default_stop_loss_pct
    if pct is None:
        return draft
    steps = []
    for step in draft.steps:
        symbol = facts.symbols.get(step.symbol or "")
        if (
            step.kind is StepKind.EXECUTE_TRADE
            and step.stop_loss is None
            and symbol is not None
            and symbol.price is not None
        ):
            stop = default_stop(symbol.price, Side(step.side), pct)
            step = step.model_copy(update={"stop_loss": stop})
        steps.append(step)
    return draft.model_copy(update={"steps": tuple(steps)})


# -- recording ---------------------------------------------------------------------------------


def _record(
    store: Store,
    draft: ProposalDraft,
    facts: DeskFacts,
    checks: list[GateCheck],
    status: ProposalStatus,
    failure: GateCheck | None,
    now: int,
) -> ProposalOutcome:
    trade = next((s for s in draft.steps if s.kind is StepKind.EXECUTE_TRADE), None)
    first = trade or draft.steps[0]
    if failure is not None:
        reason = failure.reason
    elif status is ProposalStatus.PENDING:
        reason = checks[-1].reason
    else:
        reason = f"passed {len(checks)} gates; auto-approved"
    proposal_id = repo.insert_proposal(
        store,
        {
            "agent_id": draft.agent_id.value,
            "title": draft.title,
            "rationale": draft.rationale,
            "source": draft.source.value,
            "source_ref": draft.source_ref,
            "signal_id": draft.signal_id,
            "mission_kind": draft.kind.value,
            "symbol": first.symbol or (first.symbols[0] if first.symbols else None),
            "side": first.side.value if first.side else None,
            "entry_price": _text(facts.symbols[trade.symbol].price)
            if trade and trade.symbol
            else None,
            "notional_usd": _text(first.notional_usd),
            "stop_loss": _text(first.stop_loss),
            "take_profit": _text(first.take_profit),
            "confidence": draft.confidence,
            "steps": [s.model_dump(mode="json", exclude_defaults=True) for s in draft.steps],
            "dedupe_key": draft.dedupe_key,
            "status": status.value,
            "gate": failure.gate if failure else None,
            "reason": reason,
            "gate_results": [c.as_dict() for c in checks],
            "created_at": now,
            "decided_at": None if status is ProposalStatus.PENDING else now,
        },
    )
    mission_id = roundtable_id = None
    if status is ProposalStatus.ACCEPTED:
        mission_id = open_mission(store, draft, proposal_id=proposal_id, now_ms=now)
        repo.update_proposal(store, proposal_id, mission_id=mission_id)
    elif status is ProposalStatus.PENDING:
        roundtable_id = queue_for_proposal(store, draft, proposal_id=proposal_id, now_ms=now)
        repo.update_proposal(store, proposal_id, roundtable_id=roundtable_id)
    tags = ("proposal", status.value) + ((failure.gate,) if failure else ())
    emit(
        store,
        Event(
            draft.agent_id,
            "proposal",
            f"proposal {proposal_id} {status}: {draft.title}",
            tags,
            summary=reason,
            proposal_id=proposal_id,
            mission_id=mission_id,
            signal_id=draft.signal_id,
            symbol=first.symbol,
        ),
        now_ms=now,
    )
    return ProposalOutcome(
        proposal_id, status, failure.gate if failure else None, reason, tuple(checks),
        mission_id, roundtable_id,
    )  # fmt: skip


def _stored_draft(row: dict) -> ProposalDraft:
    """A stored proposal as the draft it was (its steps as the gates last saw them)."""
    return ProposalDraft.model_validate(
        {
            key: row[key]
            for key in ("agent_id", "title", "rationale", "steps", "mission_kind", "confidence",
                        "source", "source_ref", "signal_id")
        }
    )  # fmt: skip


def _settle(
    store: Store,
    row: dict,
    draft: ProposalDraft,
    checks: list[GateCheck],
    status: ProposalStatus,
    failure: GateCheck | None,
    earlier: list[dict],
    now: int,
) -> ProposalOutcome:
    """Decide a pending proposal: its status, its gate results, its mission when accepted."""
    proposal_id = row["id"]
    if failure is None:
        reason = f"{checks[0].reason}; passed {len(checks) - 1} gates again"
    elif failure is checks[0]:
        reason = failure.reason
    else:
        reason = f"approved, then refused: {failure.reason}"
    mission_id = None
    if status is ProposalStatus.ACCEPTED:
        mission_id = open_mission(store, draft, proposal_id=proposal_id, now_ms=now)
    repo.update_proposal(
        store,
        proposal_id,
        status=status.value,
        gate=failure.gate if failure else None,
        reason=reason,
        gate_results=[*earlier, *(c.as_dict() for c in checks)],
        mission_id=mission_id,
        decided_at=now,
    )
    tags = ("proposal", status.value) + ((failure.gate,) if failure else ())
    emit(
        store,
        Event(
            draft.agent_id,
            "proposal",
            f"proposal {proposal_id} {status}: {draft.title}",
            tags,
            summary=reason,
            proposal_id=proposal_id,
            mission_id=mission_id,
            signal_id=draft.signal_id,
            symbol=row["symbol"],
        ),
        now_ms=now,
    )
    return ProposalOutcome(
        proposal_id, status, failure.gate if failure else None, reason, tuple(checks),
        mission_id, row["roundtable_id"],
    )  # fmt: skip


def _record_invalid(store: Store, payload: dict[str, Any], why: str, now: int) -> ProposalOutcome:
    agent = AgentId(payload["agent_id"])
    title = payload.get("title")
    title = title[:200] if isinstance(title, str) and title.strip() else "(invalid proposal)"
    steps = payload.get("steps")
    reason = f"invalid proposal: {why}"
    check = GateCheck("proposal.schema", False, reason)
    with store.atomic():
        proposal_id = repo.insert_proposal(
            store,
            {
                "agent_id": agent.value,
                "title": title,
                "source": payload["source"],
                "source_ref": payload.get("source_ref"),
                "steps": steps if isinstance(steps, list) else [],
                "status": ProposalStatus.REJECTED.value,
                "gate": check.gate,
                "reason": reason,
                "gate_results": [check.as_dict()],
                "created_at": now,
                "decided_at": now,
            },
        )
        emit(
            store,
            Event(
                agent,
                "proposal",
                f"proposal {proposal_id} rejected: {title}",
                ("proposal", "rejected", check.gate),
                summary=reason,
                proposal_id=proposal_id,
            ),
            now_ms=now,
        )
    return ProposalOutcome(proposal_id, ProposalStatus.REJECTED, check.gate, reason, (check,))


def _text(value: Decimal | None) -> str | None:
    return None if value is None else to_text(value)
