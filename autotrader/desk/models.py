"""The desk's contracts: the seven policies, proposal drafts and what a cap gate found. No I/O.

Policies are pydantic models with the seed's defaults; ``desk policy set`` merges the given
fields onto the current value and validates the whole, reporting every invalid field at once.
Money in a policy is Decimal (JSON numbers are read as Decimal, never float); ratios that are
statistics (a probability, a confidence) are floats.

A :class:`ProposalDraft` is what an agent proposes: a title, a rationale and the steps of the
mission it would become. It is validated here (shape, the fields each step kind needs); the cap
gates in :mod:`autotrader.desk.gates` judge it against the desk's state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from autotrader.desk.vocabulary import (
    TRADE_STEPS,
    AgentId,
    MemoryType,
    MissionKind,
    PolicyKey,
    ProposalSource,
    StepKind,
)
from autotrader.prop.models import MAX_AMOUNT, SYMBOL_PATTERN, Side

_Money = Annotated[Decimal, Field(gt=0, le=MAX_AMOUNT, allow_inf_nan=False)]
_Fraction = Annotated[Decimal, Field(gt=0, le=1, allow_inf_nan=False)]
_Ratio = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


def _no_float(value: Any) -> Any:
    """Money and risk fractions are Decimal: a Python float here is a programming error."""
    if isinstance(value, bool | float):
        raise ValueError("give a decimal number (JSON numbers are read exactly), not a float")
    return value


class _Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AutoApprove(_Policy):
    """Which step kinds pass alone and which need a roundtable. A kind in neither list needs a
    roundtable too: nothing is approved by omission."""

    enabled: StrictBool = True
    allowed_step_kinds: tuple[StepKind, ...] = (
        StepKind.ANALYZE_SIGNAL,
        StepKind.MONITOR_POSITION,
        StepKind.CALCULATE_RISK,
        StepKind.REVIEW_PERFORMANCE,
        StepKind.CHECK_HEALTH,
    )
    requires_roundtable: tuple[StepKind, ...] = (
        StepKind.EXECUTE_TRADE,
        StepKind.CLOSE_POSITION,
        StepKind.SCALE_POSITION,
    )

    @model_validator(mode="after")
    def _lists_are_disjoint(self) -> AutoApprove:
        both = sorted(set(self.allowed_step_kinds) & set(self.requires_roundtable))
        if both:
            raise ValueError(
                f"{', '.join(both)}: listed both in allowed_step_kinds and requires_roundtable"
            )
        return self


class TradeLimits(_Policy):
    max_daily_trades: int = Field(8, ge=0, le=1000, description="execute_trade proposals a day")
    max_open_positions: int = Field(3, ge=0, le=100)
    max_position_size_usd: _Money = Decimal(60)
    min_confidence: _Ratio = 0.60
    # The seed's cap gates name a daily analysis quota (20) but no policy key for it, and its
    # own schedule asks for 56 analyses a day (a scan every 30 minutes, research every 3 hours).
    max_daily_analyses: int = Field(60, ge=0, le=100_000)

    _decimals = field_validator("max_position_size_usd", mode="before")(staticmethod(_no_float))


class RiskControls(_Policy):
    """Risk as a fraction of equity: a position risks its size × its stop distance."""

    max_portfolio_risk: _Fraction = Decimal("0.05")
    max_single_position_risk: _Fraction = Decimal("0.02")
    stop_loss_required: StrictBool = True
    default_stop_loss_pct: Annotated[Decimal, Field(gt=-1, lt=0, allow_inf_nan=False)] | None = (
        Decimal("-0.3")
    )

    _decimals = field_validator(
        "max_portfolio_risk", "max_single_position_risk", "default_stop_loss_pct", mode="before"
    )(staticmethod(_no_float))

    @model_validator(mode="after")
    def _position_within_portfolio(self) -> RiskControls:
        if self.max_single_position_risk > self.max_portfolio_risk:
            raise ValueError("max_single_position_risk must not exceed max_portfolio_risk")
        return self


class RoundtablePolicy(_Policy):
    enabled: StrictBool = True
    max_daily_conversations: int = Field(8, ge=0, le=1000)
    require_for_large_trades: StrictBool = True
    large_trade_threshold_usd: _Money = Decimal(40)

    _decimals = field_validator("large_trade_threshold_usd", mode="before")(staticmethod(_no_float))


class MemoryInfluencePolicy(_Policy):
    enabled: StrictBool = True
    probability: _Ratio = 0.30
    min_confidence: _Ratio = 0.60
    types_used: tuple[MemoryType, ...] = (
        MemoryType.STRATEGY,
        MemoryType.LESSON,
        MemoryType.PATTERN,
    )


class RelationshipDriftPolicy(_Policy):
    enabled: StrictBool = True
    max_drift_per_conversation: _Ratio = 0.03
    min_affinity: _Ratio = 0.10
    max_affinity: _Ratio = 0.95

    @model_validator(mode="after")
    def _bounds_in_order(self) -> RelationshipDriftPolicy:
        if self.min_affinity >= self.max_affinity:
            raise ValueError("min_affinity must be below max_affinity")
        return self


class InitiativePolicy(_Policy):
    enabled: StrictBool = False
    min_memories_required: int = Field(5, ge=0, le=10_000)
    max_proposals_per_day: int = Field(3, ge=0, le=100)
    cooldown_hours: float = Field(4, ge=0, le=168, allow_inf_nan=False)


POLICY_MODELS: dict[PolicyKey, type[_Policy]] = {
    PolicyKey.AUTO_APPROVE: AutoApprove,
    PolicyKey.TRADE_LIMITS: TradeLimits,
    PolicyKey.RISK_CONTROLS: RiskControls,
    PolicyKey.ROUNDTABLE_POLICY: RoundtablePolicy,
    PolicyKey.MEMORY_INFLUENCE_POLICY: MemoryInfluencePolicy,
    PolicyKey.RELATIONSHIP_DRIFT_POLICY: RelationshipDriftPolicy,
    PolicyKey.INITIATIVE_POLICY: InitiativePolicy,
}


@dataclass(frozen=True)
class Policies:
    """Every policy as read at one instant."""

    auto_approve: AutoApprove = field(default_factory=AutoApprove)
    trade_limits: TradeLimits = field(default_factory=TradeLimits)
    risk_controls: RiskControls = field(default_factory=RiskControls)
    roundtable_policy: RoundtablePolicy = field(default_factory=RoundtablePolicy)
    memory_influence_policy: MemoryInfluencePolicy = field(default_factory=MemoryInfluencePolicy)
    relationship_drift_policy: RelationshipDriftPolicy = field(
        default_factory=RelationshipDriftPolicy
    )
    initiative_policy: InitiativePolicy = field(default_factory=InitiativePolicy)


# -- memory -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfidenceRange:
    """Where a memory type's confidence lives, and what each further piece of evidence adds."""

    low: float
    high: float
    step: float

    def __contains__(self, confidence: float) -> bool:
        return self.low <= confidence <= self.high

    def __str__(self) -> str:
        return f"{self.low:.2f}–{self.high:.2f}"


MEMORY_RANGES: dict[MemoryType, ConfidenceRange] = {
    MemoryType.INSIGHT: ConfidenceRange(0.65, 0.85, 0.05),
    MemoryType.PATTERN: ConfidenceRange(0.70, 0.90, 0.02),
    MemoryType.STRATEGY: ConfidenceRange(0.75, 0.90, 0.03),
    MemoryType.PREFERENCE: ConfidenceRange(0.60, 0.80, 0.05),
    MemoryType.LESSON: ConfidenceRange(0.55, 0.75, 0.05),
}
"""The seed's confidence ranges of the five memory types. A new memory starts at the low end
(or, from a conversation, where the model put it inside the range); each repeat of the same
memory adds its step, up to the high end."""


# -- proposals --------------------------------------------------------------------------------

_POSITION_STEPS = frozenset({StepKind.SCALE_POSITION, StepKind.CLOSE_POSITION})
_MAX_SYMBOLS = 50


class StepDraft(BaseModel):
    """One proposed step. Trade steps carry sizes as Decimal (USD of position value).

    execute_trade needs symbol, side and notional_usd (stop_loss and take_profit optional);
    scale_position needs notional_usd and the position (position_id or symbol); close_position
    needs the position. Other kinds read: symbol/symbols, side, position_id, timeframe, topics.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    kind: StepKind
    symbol: str | None = Field(None, pattern=SYMBOL_PATTERN)
    symbols: tuple[Annotated[str, Field(pattern=SYMBOL_PATTERN)], ...] = Field(
        (), max_length=_MAX_SYMBOLS
    )
    side: Side | None = None
    notional_usd: _Money | None = None
    stop_loss: _Money | None = None
    take_profit: _Money | None = None
    position_id: int | None = Field(None, ge=1)
    timeframe: Literal["5m", "1h"] | None = None
    topics: tuple[Annotated[str, Field(max_length=40)], ...] = Field((), max_length=10)

    @field_validator("symbol", "side", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("symbols", mode="before")
    @classmethod
    def _upper_all(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return tuple(v.strip().upper() if isinstance(v, str) else v for v in value)
        return value

    _decimals = field_validator("notional_usd", "stop_loss", "take_profit", mode="before")(
        staticmethod(_no_float)
    )

    @model_validator(mode="after")
    def _fields_fit_the_kind(self) -> StepDraft:
        kind = self.kind
        if kind not in TRADE_STEPS and (
            self.notional_usd is not None
            or self.stop_loss is not None
            or self.take_profit is not None
        ):
            raise ValueError(f"{kind} takes no notional_usd, stop_loss or take_profit")
        if kind is StepKind.EXECUTE_TRADE:
            missing = [
                name for name in ("symbol", "side", "notional_usd") if getattr(self, name) is None
            ]
            if missing:
                raise ValueError(f"execute_trade needs {', '.join(missing)}")
        if kind in _POSITION_STEPS and self.position_id is None and self.symbol is None:
            raise ValueError(f"{kind} needs the position: position_id or symbol")
        if kind is StepKind.SCALE_POSITION and self.notional_usd is None:
            raise ValueError("scale_position needs notional_usd")
        return self

    @property
    def subject(self) -> str:
        """What the step is about, for recognising the same proposal twice."""
        if self.position_id is not None:
            return f"position:{self.position_id}"
        symbols = self.symbol or ",".join(self.symbols) or "*"
        return f"{symbols}/{self.timeframe}" if self.timeframe else symbols


class ProposalDraft(BaseModel):
    """What an agent proposes: the mission it would become, step by step."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    agent_id: AgentId
    title: str = Field(min_length=1, max_length=200)
    rationale: str = Field("", max_length=2000)
    steps: tuple[StepDraft, ...] = Field(min_length=1, max_length=10)
    mission_kind: MissionKind | None = None
    confidence: _Ratio | None = None
    source: ProposalSource
    source_ref: str | None = Field(None, max_length=120)
    signal_id: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _kind_fits_the_steps(self) -> ProposalDraft:
        kinds = {step.kind for step in self.steps}
        declared = self.mission_kind
        if declared is None:
            return self
        needs = {
            MissionKind.ENTRY: StepKind.EXECUTE_TRADE,
            MissionKind.HEDGE: StepKind.EXECUTE_TRADE,
            MissionKind.EXIT: StepKind.CLOSE_POSITION,
            MissionKind.SCALE: StepKind.SCALE_POSITION,
        }
        if declared is MissionKind.ANALYSIS and kinds & TRADE_STEPS:
            raise ValueError("an analysis mission cannot trade")
        if declared in needs and needs[declared] not in kinds:
            raise ValueError(f"mission kind {declared} needs a {needs[declared]} step")
        return self

    @property
    def kind(self) -> MissionKind:
        """The declared mission kind, else the one its steps imply."""
        if self.mission_kind is not None:
            return self.mission_kind
        kinds = {step.kind for step in self.steps}
        for step_kind, mission in (
            (StepKind.CLOSE_POSITION, MissionKind.EXIT),
            (StepKind.SCALE_POSITION, MissionKind.SCALE),
            (StepKind.EXECUTE_TRADE, MissionKind.ENTRY),
        ):
            if step_kind in kinds:
                return mission
        return MissionKind.ANALYSIS

    @property
    def dedupe_key(self) -> str:
        """Agent, step kinds and subjects: two proposals with the same key ask the same thing."""
        steps = ";".join(f"{s.kind}@{s.subject}" for s in self.steps)
        return f"{self.agent_id}|{steps}"


@dataclass(frozen=True)
class GateCheck:
    """One cap gate's verdict on a proposal, with the numbers it compared (as text)."""

    gate: str  # "<step kind>.<check>", e.g. execute_trade.daily_trades
    passed: bool
    reason: str
    numbers: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "gate": self.gate,
            "passed": self.passed,
            "reason": self.reason,
            "numbers": dict(self.numbers),
        }
