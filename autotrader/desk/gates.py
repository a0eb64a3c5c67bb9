"""Cap gates: judged at the proposal, not at execution, so no queue of doomed work builds up.
Pure: no I/O, no clock; :mod:`autotrader.desk.proposals` gathers the facts.

:func:`evaluate` runs the gates for a draft in a fixed order and stops at the first failure;
each evaluated gate leaves a :class:`GateCheck` with the numbers it compared. "In flight" means
promised but not yet on the book: trade steps queued or running, and trades waiting for a
roundtable.

====================================  ========================================================
gate                                  refuses when
====================================  ========================================================
``proposal.duplicate``                the same agent already asks the same (pending/running)
``auto_approve.step_kind``            a step kind is in neither auto_approve list
``<kind>.symbol``                     a symbol is not in the asset registry (or, for a trade,
                                      has no closed bar to price it)
``execute_trade.daily_trades``        trades proposed today would pass max_daily_trades
``execute_trade.open_positions``      open + in-flight entries would pass max_open_positions
``execute_trade.one_per_symbol``      the symbol is held or an entry for it is in flight
``execute_trade.size``                notional_usd > max_position_size_usd
``execute_trade.confidence``          no confidence, or below min_confidence
``execute_trade.stop_loss``           stop_loss_required and no stop, or a stop on the wrong side
``execute_trade.position_risk``       risk to the stop > max_single_position_risk × equity
``execute_trade.portfolio_risk``      open + in-flight + new risk > max_portfolio_risk × equity
``scale_position.position``           no such open position of the desk
``scale_position.daily_trades``       as for execute_trade
``scale_position.size``               held value + the addition > max_position_size_usd
``scale_position.capital``            the addition > the account's free cash
``scale_position.portfolio_risk``     as for execute_trade, the addition at the position's stop
``close_position.position``           no such open position of the desk
``close_position.not_closing``        a close of it is already in flight
``analyze_signal.daily_quota``        analyses proposed today would pass max_daily_analyses
``roundtable.enabled``                a roundtable is needed and they are disabled
``roundtable.daily_max``              today's roundtables reached max_daily_conversations
====================================  ========================================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from autotrader.core.money import ZERO, to_text
from autotrader.desk.models import GateCheck, Policies, ProposalDraft, StepDraft
from autotrader.desk.risk import Book, BookPosition, entry_risk, position_risk
from autotrader.desk.vocabulary import StepKind
from autotrader.prop.models import Side

TRADE_OPENING = frozenset({StepKind.EXECUTE_TRADE, StepKind.SCALE_POSITION})


@dataclass(frozen=True)
class SymbolFacts:
    known: bool
    price: Decimal | None  # the last closed bar's close, None when nothing closed yet


@dataclass(frozen=True)
class InFlight:
    """A trade promised but not yet on the book."""

    kind: StepKind
    symbol: str | None
    position_id: int | None
    risk_usd: Decimal


@dataclass(frozen=True)
class DeskFacts:
    book: Book
    symbols: dict[str, SymbolFacts]
    trades_today: int
    analyses_today: int
    roundtables_today: int
    in_flight: tuple[InFlight, ...]
    duplicate_of: int | None

    @property
    def in_flight_risk(self) -> Decimal:
        return sum((f.risk_usd for f in self.in_flight), ZERO)

    def entries_in_flight(self) -> list[InFlight]:
        return [f for f in self.in_flight if f.kind is StepKind.EXECUTE_TRADE]


def _n(value: Decimal | int | float | None) -> str:
    if value is None:
        return "none"
    return to_text(value) if isinstance(value, Decimal) else str(value)


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


class _Gates:
    """The checks of one draft; :meth:`run` yields them in order."""

    def __init__(self, draft: ProposalDraft, facts: DeskFacts, policies: Policies) -> None:
        self.draft = draft
        self.facts = facts
        self.policies = policies
        self.trades = sum(1 for s in draft.steps if s.kind in TRADE_OPENING)
        self.entries = sum(1 for s in draft.steps if s.kind is StepKind.EXECUTE_TRADE)
        self.added_risk = ZERO  # risk of this draft's earlier trade steps

    def run(self) -> Iterator[GateCheck]:
        yield self._duplicate()
        yield self._step_kinds()
        for step in self.draft.steps:
            yield from self._symbols(step)
            check: Callable[[StepDraft], Iterator[GateCheck]] | None = {
                StepKind.EXECUTE_TRADE: self._execute_trade,
                StepKind.SCALE_POSITION: self._scale_position,
                StepKind.CLOSE_POSITION: self._close_position,
                StepKind.ANALYZE_SIGNAL: self._analyze_signal,
            }.get(step.kind)
            if check is not None:
                yield from check(step)

    # -- every proposal ------------------------------------------------------------------

    def _duplicate(self) -> GateCheck:
        earlier = self.facts.duplicate_of
        if earlier is not None:
            return GateCheck(
                "proposal.duplicate",
                False,
                f"proposal {earlier} already asks for this and is still open",
                {"open_proposal": str(earlier)},
            )
        return GateCheck("proposal.duplicate", True, "nothing like it is open")

    def _step_kinds(self) -> GateCheck:
        policy = self.policies.auto_approve
        approvable = set(policy.allowed_step_kinds) | set(policy.requires_roundtable)
        unknown = sorted({s.kind.value for s in self.draft.steps} - approvable)
        if unknown:
            return GateCheck(
                "auto_approve.step_kind",
                False,
                f"{', '.join(unknown)}: in neither auto_approve list (not approvable)",
            )
        return GateCheck("auto_approve.step_kind", True, "every step kind is approvable")

    def _symbols(self, step: StepDraft) -> Iterator[GateCheck]:
        wanted = [step.symbol] if step.symbol else []
        wanted += list(step.symbols)
        for symbol in wanted:
            facts = self.facts.symbols.get(symbol)
            gate = f"{step.kind}.symbol"
            if facts is None or not facts.known:
                yield GateCheck(gate, False, f"{symbol}: not in the asset registry")
                return
            if step.kind in TRADE_OPENING and facts.price is None:
                yield GateCheck(gate, False, f"{symbol}: no closed bar to price it yet")
                return
        if wanted:
            yield GateCheck(f"{step.kind}.symbol", True, f"known: {', '.join(wanted)}")

    # -- trades --------------------------------------------------------------------------

    def _daily_trades(self, gate: str) -> GateCheck:
        limit = self.policies.trade_limits.max_daily_trades
        after = self.facts.trades_today + self.trades
        numbers = {"today": str(self.facts.trades_today), "this": str(self.trades)}
        numbers["max_daily_trades"] = str(limit)
        if after > limit:
            return GateCheck(
                gate, False, f"{after} trades today > max_daily_trades {limit}", numbers
            )
        return GateCheck(gate, True, f"{after} of {limit} trades today", numbers)

    def _portfolio_risk(self, gate: str, risk: Decimal) -> GateCheck:
        book = self.facts.book
        cap = book.equity * self.policies.risk_controls.max_portfolio_risk
        total = book.open_risk + self.facts.in_flight_risk + self.added_risk + risk
        numbers = {
            "open_risk": _n(_money(book.open_risk)),
            "in_flight_risk": _n(_money(self.facts.in_flight_risk)),
            "this_risk": _n(_money(risk)),
            "max": _n(_money(cap)),
        }
        self.added_risk += risk
        if total > cap:
            return GateCheck(
                gate,
                False,
                f"portfolio risk {_money(total)} USD > max_portfolio_risk {_money(cap)} USD",
                numbers,
            )
        return GateCheck(
            gate, True, f"portfolio risk {_money(total)} of {_money(cap)} USD", numbers
        )

    def _execute_trade(self, step: StepDraft) -> Iterator[GateCheck]:
        limits, controls, book = (
            self.policies.trade_limits,
            self.policies.risk_controls,
            self.facts.book,
        )
        assert step.symbol is not None
        assert step.side is not None
        assert step.notional_usd
        yield self._daily_trades("execute_trade.daily_trades")

        held = len(book.positions)
        flying = len(self.facts.entries_in_flight())
        numbers = {"open": str(held), "in_flight": str(flying), "this": str(self.entries)}
        numbers["max_open_positions"] = str(limits.max_open_positions)
        total = held + flying + self.entries
        yield GateCheck(
            "execute_trade.open_positions",
            total <= limits.max_open_positions,
            f"{total} positions with this one "
            f"{'>' if total > limits.max_open_positions else '<='} max_open_positions "
            f"{limits.max_open_positions}",
            numbers,
        )

        symbol = step.symbol
        busy = book.position(symbol=symbol) is not None
        flying_symbols = {f.symbol for f in self.facts.entries_in_flight()}
        reason = (
            f"{symbol} is already held: propose scale_position"
            if busy
            else f"an entry for {symbol} is already in flight"
            if symbol in flying_symbols
            else f"no {symbol} position held or in flight"
        )
        yield GateCheck(
            "execute_trade.one_per_symbol", not busy and symbol not in flying_symbols, reason
        )

        size, cap = step.notional_usd, limits.max_position_size_usd
        yield GateCheck(
            "execute_trade.size",
            size <= cap,
            f"{_n(size)} USD {'>' if size > cap else '<='} max_position_size_usd {_n(cap)}",
            {"notional_usd": _n(size), "max_position_size_usd": _n(cap)},
        )

        confidence = self.draft.confidence
        floor = limits.min_confidence
        yield GateCheck(
            "execute_trade.confidence",
            confidence is not None and confidence >= floor,
            "a trade needs a confidence"
            if confidence is None
            else f"confidence {confidence:.2f} {'<' if confidence < floor else '>='} "
            f"min_confidence {floor:.2f}",
            {"confidence": _n(confidence), "min_confidence": _n(floor)},
        )

        price = self.facts.symbols[symbol].price
        assert price is not None  # the symbol gate passed
        yield self._stop(step, price, controls.stop_loss_required)

        risk = entry_risk(size, price, step.stop_loss)
        single = book.equity * controls.max_single_position_risk
        yield GateCheck(
            "execute_trade.position_risk",
            risk <= single,
            f"risk to the stop {_money(risk)} USD "
            f"{'>' if risk > single else '<='} max_single_position_risk {_money(single)} USD",
            {"risk_usd": _n(_money(risk)), "max": _n(_money(single)), "equity": _n(book.equity)},
        )
        yield self._portfolio_risk("execute_trade.portfolio_risk", risk)

    def _stop(self, step: StepDraft, price: Decimal, required: bool) -> GateCheck:
        stop, gate = step.stop_loss, "execute_trade.stop_loss"
        if stop is None:
            return GateCheck(gate, not required, "no stop" + (" (required)" if required else ""))
        wrong = stop >= price if step.side is Side.LONG else stop <= price
        numbers = {"stop": _n(stop), "price": _n(price)}
        side = "below" if step.side is Side.LONG else "above"
        if wrong:
            return GateCheck(gate, False, f"a {step.side} stop must be {side} {price}", numbers)
        return GateCheck(gate, True, f"stop {stop} {side} {price}", numbers)

    def _held(self, step: StepDraft) -> BookPosition | None:
        return self.facts.book.position(position_id=step.position_id, symbol=step.symbol)

    def _scale_position(self, step: StepDraft) -> Iterator[GateCheck]:
        held = self._held(step)
        wanted = step.position_id or step.symbol
        yield GateCheck(
            "scale_position.position",
            held is not None,
            f"open position {held.id} ({held.symbol} {held.side})"
            if held
            else f"no open desk position {wanted}",
        )
        assert held is not None
        assert step.notional_usd is not None
        yield self._daily_trades("scale_position.daily_trades")
        add, cap = step.notional_usd, self.policies.trade_limits.max_position_size_usd
        after = held.notional + add
        yield GateCheck(
            "scale_position.size",
            after <= cap,
            f"{_money(after)} USD after scaling "
            f"{'>' if after > cap else '<='} max_position_size_usd {_n(cap)}",
            {"held_usd": _n(_money(held.notional)), "add_usd": _n(add), "max": _n(cap)},
        )
        cash = self.facts.book.cash
        yield GateCheck(
            "scale_position.capital",
            add <= cash,
            f"adding {_n(add)} USD {'>' if add > cash else '<='} free cash {_money(cash)} USD",
            {"add_usd": _n(add), "cash": _n(_money(cash))},
        )
        added = position_risk(held.side, add / held.mark, held.mark, held.stop)
        yield self._portfolio_risk("scale_position.portfolio_risk", added)

    def _close_position(self, step: StepDraft) -> Iterator[GateCheck]:
        held = self._held(step)
        wanted = step.position_id or step.symbol
        yield GateCheck(
            "close_position.position",
            held is not None,
            f"open position {held.id} ({held.symbol} {held.side})"
            if held
            else f"no open desk position {wanted}",
        )
        assert held is not None
        closing = any(
            f.kind is StepKind.CLOSE_POSITION
            and (f.position_id == held.id or (f.position_id is None and f.symbol == held.symbol))
            for f in self.facts.in_flight
        )
        yield GateCheck(
            "close_position.not_closing",
            not closing,
            f"a close of position {held.id} is already in flight"
            if closing
            else "no close in flight",
        )

    def _analyze_signal(self, step: StepDraft) -> Iterator[GateCheck]:
        quota = self.policies.trade_limits.max_daily_analyses
        after = self.facts.analyses_today + sum(
            1 for s in self.draft.steps if s.kind is StepKind.ANALYZE_SIGNAL
        )
        yield GateCheck(
            "analyze_signal.daily_quota",
            after <= quota,
            f"{after} analyses today {'>' if after > quota else '<='} max_daily_analyses {quota}",
            {"today": str(self.facts.analyses_today), "max_daily_analyses": str(quota)},
        )


def evaluate(draft: ProposalDraft, facts: DeskFacts, policies: Policies) -> list[GateCheck]:
    """Every gate for ``draft`` in order, up to and including the first that fails."""
    checks: list[GateCheck] = []
    for check in _Gates(draft, facts, policies).run():
        checks.append(check)
        if not check.passed:
            break
    return checks


def roundtable_route(draft: ProposalDraft, policies: Policies) -> str | None:
    """Why ``draft`` needs a roundtable, or None when the auto_approve policy lets it pass alone
    (every step kind allowed alone, and no trade above the large-trade threshold)."""
    auto, rt = policies.auto_approve, policies.roundtable_policy
    if not auto.enabled:
        return "auto-approval is disabled"
    for step in draft.steps:
        if step.kind not in auto.allowed_step_kinds:
            return f"{step.kind} needs a roundtable"
        if (
            rt.require_for_large_trades
            and step.kind in TRADE_OPENING
            and step.notional_usd is not None
            and step.notional_usd > rt.large_trade_threshold_usd
        ):
            return (
                f"a {_n(step.notional_usd)} USD trade is above large_trade_threshold_usd "
                f"{_n(rt.large_trade_threshold_usd)}"
            )
    return None


def roundtable_gates(roundtables_today: int, policies: Policies) -> list[GateCheck]:
    """The seed's ``roundtable_conversation`` gate: roundtables are on and today's
    ``max_daily_conversations`` are not used up. Every roundtable passes it before it is
    queued, whether a proposal, a schedule or a command asks for it."""
    rt = policies.roundtable_policy
    if not rt.enabled:
        return [GateCheck("roundtable.enabled", False, "needs a roundtable; roundtables are off")]
    today, cap = roundtables_today, rt.max_daily_conversations
    return [
        GateCheck("roundtable.enabled", True, "roundtables are on"),
        GateCheck(
            "roundtable.daily_max",
            today < cap,
            f"{today} roundtables today {'>=' if today >= cap else '<'} "
            f"max_daily_conversations {cap}",
            {"today": str(today), "max_daily_conversations": str(cap)},
        ),
    ]
