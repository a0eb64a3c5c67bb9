"""Proposal drafts: the fields each step kind needs, the mission kind they imply."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from autotrader.desk.models import ProposalDraft, StepDraft
from autotrader.desk.vocabulary import MissionKind, StepKind


def draft(*steps: dict, **fields) -> ProposalDraft:
    return ProposalDraft.model_validate(
        {"agent_id": "scout", "title": "t", "source": "trigger", "steps": list(steps), **fields}
    )


TRADE = {"kind": "execute_trade", "symbol": "btc", "side": "long", "notional_usd": "40"}


def test_an_execute_trade_step_needs_symbol_side_and_size():
    with pytest.raises(ValidationError, match="execute_trade needs side, notional_usd"):
        StepDraft(kind=StepKind.EXECUTE_TRADE, symbol="BTC")
    step = StepDraft.model_validate(TRADE)
    assert (step.symbol, step.side, str(step.notional_usd)) == ("BTC", "LONG", "40")


@pytest.mark.parametrize(
    "step",
    [
        {"kind": "yolo"},
        {"kind": "analyze_signal", "notional_usd": "5"},
        {"kind": "close_position"},
        {"kind": "scale_position", "position_id": 3},
        {**TRADE, "notional_usd": "-1"},
        {**TRADE, "notional_usd": "NaN"},
        {**TRADE, "notional_usd": 40.5},
        {**TRADE, "symbol": "BTC; DROP TABLE"},
        {**TRADE, "extra": 1},
    ],
)
def test_refuses_a_step_that_does_not_fit_its_kind(step):
    with pytest.raises(ValidationError):
        StepDraft.model_validate(step)


def test_the_mission_kind_follows_the_steps():
    assert draft(TRADE, {"kind": "monitor_position", "symbol": "BTC"}).kind is MissionKind.ENTRY
    assert draft({"kind": "close_position", "position_id": 1}).kind is MissionKind.EXIT
    assert draft({"kind": "analyze_signal"}).kind is MissionKind.ANALYSIS
    assert draft(TRADE, mission_kind="hedge").kind is MissionKind.HEDGE


def test_refuses_a_declared_mission_kind_its_steps_do_not_fit():
    with pytest.raises(ValidationError, match="an analysis mission cannot trade"):
        draft(TRADE, mission_kind="analysis")
    with pytest.raises(ValidationError, match="mission kind exit needs a close_position step"):
        draft({"kind": "analyze_signal"}, mission_kind="exit")


def test_the_same_ask_has_the_same_dedupe_key():
    scan = {"kind": "analyze_signal", "symbols": ["BTC", "ETH"], "timeframe": "5m"}
    assert draft(scan).dedupe_key == draft(scan, title="other").dedupe_key
    research = {**scan, "timeframe": "1h"}
    assert draft(scan).dedupe_key != draft(research).dedupe_key
