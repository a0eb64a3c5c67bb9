"""The engine interface: what an engine is given, and what it returns.

An engine proposes; it never acts. Its intents go through the prop safety gates, which decide.
An engine must not raise for bad model output or missing data: it returns a HOLD (or nothing)
with ``error``/``notes`` saying why, and the run records it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from autotrader.clones.plan import CompiledStrategy
from autotrader.prop.gates import PositionView
from autotrader.prop.models import TradeIntent


@dataclass(frozen=True)
class IndicatorBar:
    """One bar with its indicators (floats; None where TA-Lib had too little history)."""

    open_time: int
    close: float
    high: float
    low: float
    rsi14: float | None
    bb_upper: float | None
    bb_middle: float | None
    bb_lower: float | None
    sma20: float | None
    ema20: float | None
    macd: float | None
    macd_signal: float | None
    macd_hist: float | None


@dataclass(frozen=True)
class MarketSnapshot:
    """What the rules engine reads: the execution price and the last bars with indicators at
    the strategy's granularity, as of the decision time."""

    symbol: str
    price: Decimal | None  # the execution price now (None: no price)
    price_time: int | None
    granularity: str
    bars: tuple[IndicatorBar, ...]  # ascending; the last is the newest closed/forming bar


@dataclass(frozen=True)
class Posterior:
    """What memory says about one policy: outcomes so far and a Beta(α, β) over its win rate."""

    policy_id: str
    trades: int
    wins: int
    mean_return: float
    alpha: float
    beta: float


@dataclass(frozen=True)
class DecisionRequest:
    """Everything an engine may use for one (account, strategy, symbol) decision."""

    run_id: int
    trace_id: str
    clone_id: int
    account_id: int
    model: str
    strategy: CompiledStrategy
    symbol: str
    now_ms: int
    market: MarketSnapshot
    position: PositionView | None
    packet: Any = None  # the ContextPacket (llm/committee engines)
    posteriors: dict[str, Posterior] = field(default_factory=dict)
    equity: Decimal | None = None


@dataclass
class EngineResult:
    """What an engine proposes. ``intents`` go to the gates in order."""

    intents: list[TradeIntent] = field(default_factory=list)
    notes: str = ""
    error: str | None = None  # a recorded failure (with a HOLD)
    # The engine could not get a usable answer from its model: the run is failed (its HOLD
    # still recorded) and counts toward the worker's breaker and the clone's safe mode.
    failed: bool = False
    invocation_ids: list[int] = field(default_factory=list)
    # The model call whose answer the intents are (the Trader's): their actions are linked to
    # it as tool calls (CREATE_POSITION, CLOSE_POSITION, HOLDING, UPDATE_EXIT_PLAN).
    source_invocation_id: int | None = None
    plan: dict | None = None  # the committee's Plan, for the audit
    verdict: dict | None = None  # the committee's Verdict
    next_wakeup_secs: int | None = None  # the Planner may move the clone's next due time


class Engine(Protocol):
    """An engine may also declare, as class attributes read with ``getattr``: ``concurrent``
    (evaluate on the runner's thread pool: model latency), ``needs_context`` (build the context
    packet) and ``needs_memory`` (read policy posteriors and account equity). All default to
    False: the request then carries no packet, empty posteriors and no equity. ``market_bars``
    (an int, default 50) is how many bars its market snapshot holds: only those are read."""

    name: str

    def decide(self, request: DecisionRequest) -> EngineResult: ...
