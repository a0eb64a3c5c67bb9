"""Cap gates refuse at the proposal, with the gate and its numbers; pure, no store."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autotrader.desk.gates import (
    DeskFacts,
    InFlight,
    SymbolFacts,
    evaluate,
    roundtable_gates,
    roundtable_route,
)
from autotrader.desk.models import (
    AutoApprove,
    Policies,
    ProposalDraft,
    RiskControls,
    RoundtablePolicy,
    StepDraft,
)
from autotrader.desk.risk import Book, BookPosition
from autotrader.desk.vocabulary import AgentId, ProposalSource, StepKind
from autotrader.prop.models import Side

D = Decimal


def position(id_=1, symbol="ETH", side=Side.LONG, qty="0.02", mark="2000", stop="1400"):
    qty, mark = D(qty), D(mark)
    stop_price = D(stop) if stop else None
    return BookPosition(
        id=id_, symbol=symbol, side=side, qty=qty, entry_price=mark, mark=mark,
        notional=qty * mark, stop=stop_price, target=None, unrealized=D(0), pnl_pct=D(0),
        risk_usd=(mark - stop_price) * qty if stop_price else qty * mark, opened_at=0,
    )  # fmt: skip


def facts(*, positions=(), trades_today=0, analyses_today=0, roundtables_today=0,
          in_flight=(), duplicate_of=None, cash="1000") -> DeskFacts:  # fmt: skip
    book = Book(1, D(1000), D(1000), D(cash), tuple(positions))
    symbols = {
        "BTC": SymbolFacts(True, D(60000)),
        "ETH": SymbolFacts(True, D(2000)),
        "NEW": SymbolFacts(True, None),
        "NOPE": SymbolFacts(False, None),
    }
    return DeskFacts(book, symbols, trades_today, analyses_today, roundtables_today,
                     tuple(in_flight), duplicate_of)  # fmt: skip


def trade(symbol="BTC", notional="50", stop="42000", confidence=0.85, **extra) -> ProposalDraft:
    step = StepDraft(
        kind=StepKind.EXECUTE_TRADE,
        symbol=symbol,
        side=Side.LONG,
        notional_usd=D(notional),
        stop_loss=D(stop) if stop else None,
        **extra,
    )
    return draft(step, confidence=confidence)


def draft(*steps: StepDraft, confidence=None) -> ProposalDraft:
    return ProposalDraft(
        agent_id=AgentId.SCOUT,
        title="t",
        steps=steps,
        confidence=confidence,
        source=ProposalSource.TRIGGER,
    )


def failed(checks):
    last = checks[-1]
    return (last.gate, last.passed) if not last.passed else None


def test_a_trade_within_every_limit_passes_every_gate():
    checks = evaluate(trade(), facts(), Policies())
    assert all(c.passed for c in checks)
    assert [c.gate for c in checks][-3:] == [
        "execute_trade.stop_loss",
        "execute_trade.position_risk",
        "execute_trade.portfolio_risk",
    ]


def test_refuses_a_trade_past_the_daily_trade_limit_with_its_numbers():
    checks = evaluate(trade(), facts(trades_today=8), Policies())
    assert failed(checks) == ("execute_trade.daily_trades", False)
    assert checks[-1].numbers == {"today": "8", "this": "1", "max_daily_trades": "8"}
    assert checks[-1].reason == "9 trades today > max_daily_trades 8"


def test_refuses_a_trade_when_open_and_in_flight_positions_fill_the_book():
    flights = [InFlight(StepKind.EXECUTE_TRADE, "SOL", None, D(1))]
    book = [position(1, "ETH"), position(2, "XRP")]
    checks = evaluate(trade(), facts(positions=book, in_flight=flights), Policies())
    assert failed(checks) == ("execute_trade.open_positions", False)
    assert checks[-1].numbers["open"] == "2"
    assert checks[-1].numbers["in_flight"] == "1"


def test_refuses_an_entry_on_a_symbol_already_held_or_in_flight():
    held = evaluate(trade(symbol="ETH", stop="1400"), facts(positions=[position()]), Policies())
    assert failed(held) == ("execute_trade.one_per_symbol", False)
    assert "propose scale_position" in held[-1].reason
    flights = [InFlight(StepKind.EXECUTE_TRADE, "BTC", None, D(1))]
    flying = evaluate(trade(), facts(in_flight=flights), Policies())
    assert failed(flying) == ("execute_trade.one_per_symbol", False)


def test_refuses_a_trade_above_the_size_limit():
    checks = evaluate(trade(notional="6000"), facts(), Policies())
    assert failed(checks) == ("execute_trade.size", False)
    assert checks[-1].reason == "6000 USD > max_position_size_usd 60"


@pytest.mark.parametrize("confidence", [None, 0.59])
def test_refuses_a_trade_without_enough_confidence(confidence):
    checks = evaluate(trade(confidence=confidence), facts(), Policies())
    assert failed(checks) == ("execute_trade.confidence", False)


def test_refuses_a_trade_without_a_stop_when_stops_are_required():
    checks = evaluate(trade(stop=None), facts(), Policies())
    assert failed(checks) == ("execute_trade.stop_loss", False)
    relaxed = Policies(risk_controls=RiskControls(stop_loss_required=False))
    assert failed(evaluate(trade(stop=None), facts(), relaxed)) == (
        "execute_trade.position_risk",
        False,
    )


def test_refuses_a_stop_on_the_wrong_side_of_the_price():
    checks = evaluate(trade(stop="61000"), facts(), Policies())
    assert failed(checks) == ("execute_trade.stop_loss", False)
    assert checks[-1].reason == "a LONG stop must be below 60000"


def test_refuses_a_trade_that_risks_more_than_its_share_of_equity():
    checks = evaluate(trade(stop="30000"), facts(), Policies())  # 50 USD × 50 % = 25 > 20
    assert failed(checks) == ("execute_trade.position_risk", False)
    assert checks[-1].numbers["risk_usd"] == "25"
    assert checks[-1].numbers["max"] == "20"


def test_refuses_a_trade_that_would_pass_the_portfolio_risk_budget():
    book = [position(1, "ETH", qty="0.02", mark="2000", stop="1000")]  # risks 20
    flights = [InFlight(StepKind.EXECUTE_TRADE, "SOL", None, D(20))]
    checks = evaluate(trade(stop="47400"), facts(positions=book, in_flight=flights), Policies())
    assert failed(checks) == ("execute_trade.portfolio_risk", False)
    assert checks[-1].numbers == {
        "open_risk": "20",
        "in_flight_risk": "20",
        "this_risk": "10.5",
        "max": "50",
    }
    assert checks[-1].reason == "portfolio risk 50.50 USD > max_portfolio_risk 50.00 USD"


def test_refuses_a_proposal_for_an_unknown_symbol_or_an_unpriced_trade():
    unknown = evaluate(trade(symbol="NOPE"), facts(), Policies())
    assert failed(unknown) == ("execute_trade.symbol", False)
    assert unknown[-1].reason == "NOPE: not in the asset registry"
    unpriced = evaluate(trade(symbol="NEW"), facts(), Policies())
    assert unpriced[-1].reason == "NEW: no closed bar to price it yet"
    scan = draft(StepDraft(kind=StepKind.ANALYZE_SIGNAL, symbols=("BTC", "NOPE")))
    assert failed(evaluate(scan, facts(), Policies())) == ("analyze_signal.symbol", False)


def test_refuses_closing_a_position_that_is_not_open_or_already_closing():
    close = draft(StepDraft(kind=StepKind.CLOSE_POSITION, position_id=7))
    assert failed(evaluate(close, facts(positions=[position()]), Policies())) == (
        "close_position.position",
        False,
    )
    closing = draft(StepDraft(kind=StepKind.CLOSE_POSITION, position_id=1))
    flights = [InFlight(StepKind.CLOSE_POSITION, None, 1, D(0))]
    checks = evaluate(closing, facts(positions=[position()], in_flight=flights), Policies())
    assert failed(checks) == ("close_position.not_closing", False)


def test_refuses_scaling_past_the_size_limit_or_the_free_cash():
    held = [position(qty="0.02", mark="2000")]  # 40 USD held
    bigger = draft(StepDraft(kind=StepKind.SCALE_POSITION, position_id=1, notional_usd=D(30)))
    assert failed(evaluate(bigger, facts(positions=held), Policies())) == (
        "scale_position.size",
        False,
    )
    small = draft(StepDraft(kind=StepKind.SCALE_POSITION, position_id=1, notional_usd=D(10)))
    checks = evaluate(small, facts(positions=held, cash="5"), Policies())
    assert failed(checks) == ("scale_position.capital", False)
    assert checks[-1].numbers == {"add_usd": "10", "cash": "5"}


def test_refuses_analyses_past_the_daily_quota():
    scan = draft(StepDraft(kind=StepKind.ANALYZE_SIGNAL, symbol="BTC"))
    checks = evaluate(scan, facts(analyses_today=60), Policies())
    assert failed(checks) == ("analyze_signal.daily_quota", False)


def test_refuses_a_duplicate_of_an_open_proposal():
    checks = evaluate(trade(), facts(duplicate_of=12), Policies())
    assert failed(checks) == ("proposal.duplicate", False)
    assert checks == checks[:1]


def test_refuses_a_step_kind_in_neither_auto_approve_list():
    policy = AutoApprove(allowed_step_kinds=(StepKind.ANALYZE_SIGNAL,), requires_roundtable=())
    checks = evaluate(trade(), facts(), Policies(auto_approve=policy))
    assert failed(checks) == ("auto_approve.step_kind", False)
    assert checks[-1].reason == "execute_trade: in neither auto_approve list (not approvable)"


def test_trades_need_a_roundtable_under_the_seed_policy():
    assert roundtable_route(trade(), Policies()) == "execute_trade needs a roundtable"
    scan = draft(StepDraft(kind=StepKind.ANALYZE_SIGNAL, symbol="BTC"))
    assert roundtable_route(scan, Policies()) is None


def test_a_large_trade_needs_a_roundtable_even_when_trades_pass_alone():
    alone = AutoApprove(allowed_step_kinds=(StepKind.EXECUTE_TRADE,), requires_roundtable=())
    policies = Policies(auto_approve=alone)
    assert roundtable_route(trade(notional="40"), policies) is None
    assert roundtable_route(trade(notional="50"), policies) == (
        "a 50 USD trade is above large_trade_threshold_usd 40"
    )
    no_limit = Policies(auto_approve=alone, roundtable_policy=RoundtablePolicy(
        require_for_large_trades=False))  # fmt: skip
    assert roundtable_route(trade(notional="50"), no_limit) is None


def test_refuses_a_roundtable_past_the_daily_maximum_or_when_roundtables_are_off():
    full = roundtable_gates(8, Policies())
    assert (full[-1].gate, full[-1].passed) == ("roundtable.daily_max", False)
    assert roundtable_gates(7, Policies())[-1].passed
    off = roundtable_gates(0, Policies(roundtable_policy=RoundtablePolicy(enabled=False)))
    assert (off[-1].gate, off[-1].passed) == ("roundtable.enabled", False)
