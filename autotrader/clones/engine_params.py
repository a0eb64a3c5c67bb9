"""What a trading prompt's ``engineParams`` may hold, per engine: the graph's contract with the
decision engines in ``decisions/engines``.

One pydantic model per engine. The pipeline validator checks a saved graph's parameters with
them (each problem located, e.g. ``nodes[2].engineParams.leverage``), and the engines parse the
same parameters with the same models, so a graph that validates is a graph that runs.

- ``rules`` reads :class:`RulesParams` (its policies, sizes, exit plan and RSI thresholds).
- ``hold``, ``llm`` and ``committee`` read only ``granularity`` (:class:`EngineParams`): the bar
  size of the market snapshot the request builder gives every engine.

Unknown keys are errors at save time, like everywhere in the graph (a typo such as ``levrage``
must not leave a default running silently). Graphs saved before this contract may still hold
some: :func:`parse_engine_params` ignores them and returns their names for the run's notes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    model_validator,
)
from pydantic_core import PydanticCustomError

from autotrader.clones.plan import GRANULARITIES, EngineName
from autotrader.core.money import to_text
from autotrader.prop.models import DECIMAL_PATTERN, MAX_AMOUNT

# Policy families of the rules engine and the policy ids it tags its positions with.
FAMILIES: dict[str, str] = {
    "trend_macd": "ema_macd",
    "rsi_mean_reversion": "rsi_mr",
    "bollinger_breakout": "bb_breakout",
}
DEFAULT_POLICIES = ("trend_macd", "rsi_mean_reversion")
DEFAULT_GRANULARITY = "1h"
# Stops and targets at least 0.5 % from the price: the gates check them against the fill price,
# which slippage moves against the trader (5 bps by default), so a closer level could land on
# the wrong side of the fill.
MIN_LEVEL_PCT = Decimal("0.005")
_BY_POLICY_ID = {pid: family for family, pid in FAMILIES.items()}

Granularity = Literal[GRANULARITIES]  # type: ignore[valid-type]


def _json_number(value: Any) -> Any:
    """A JSON number or numeric text (``0.02``, ``"0.02"``, ``2``), exact as written; ``true``
    and everything else is refused. Floats become Decimal through their shortest repr."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("must be a number")
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _policy(value: Any) -> str:
    """A policy family, named by family or by policy id (``rsi_mr``)."""
    family = _BY_POLICY_ID.get(value, value) if isinstance(value, str) else None
    if family not in FAMILIES:
        raise ValueError(f"unknown policy {value!r}; expected one of {', '.join(FAMILIES)}")
    return family


def _notional(value: Any) -> str:
    """A positive plain decimal string (or a whole JSON number) of at most MAX_AMOUNT USD, as
    canonical text."""
    text = value.strip() if isinstance(value, str) else value
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    if not isinstance(text, str) or not re.fullmatch(DECIMAL_PATTERN, text):
        raise ValueError('must be a positive decimal string such as "500"')
    amount = Decimal(text)
    if not 0 < amount <= MAX_AMOUNT:
        raise ValueError(f"must be more than 0 and at most {MAX_AMOUNT:f} USD")
    return to_text(amount)


def _within(low: Decimal, high: Decimal) -> AfterValidator:
    """[low, high], compared exactly (a float bound would refuse Decimal("0.005") itself) and
    reported in the document's own numbers, as the range errors pydantic would name."""

    def check(value: Any) -> Any:
        if value < low:
            raise PydanticCustomError("greater_than_equal", f"must be at least {low}")
        if value > high:
            raise PydanticCustomError("less_than_equal", f"must be at most {high}")
        return value

    return AfterValidator(check)


def _number(low: str, high: str, kind: type = Decimal) -> Any:
    """A finite number within [low, high], given as a JSON number or numeric text."""
    return Annotated[kind, BeforeValidator(_json_number), _within(Decimal(low), Decimal(high))]


Policy = Annotated[str, BeforeValidator(_policy)]
StopPct = _number(str(MIN_LEVEL_PCT), "0.5")
TargetPct = _number(str(MIN_LEVEL_PCT), "0.9")
Hours = _number("0.1", "720")
Minutes = _number("0", "10080")  # up to a week
RsiLevel = _number("1", "99", float)


class EngineParams(BaseModel):
    """What every engine reads: the bar size of its market snapshot."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    granularity: Granularity = DEFAULT_GRANULARITY


class RulesParams(EngineParams):
    """The rules engine's parameters. Percentages are fractions (0.02 = 2 %)."""

    policy: Policy | None = None
    policies: Annotated[list[Policy], Field(min_length=1, strict=True)] | None = None
    notional_usd: Annotated[str, BeforeValidator(_notional)] = "500"
    leverage: Annotated[int, Field(strict=True, ge=1, le=100)] = 2
    stop_pct: StopPct = Decimal("0.02")
    target_pct: TargetPct = Decimal("0.04")
    time_exit_hours: Hours | None = Decimal(24)  # None: no time exit
    cooldown_minutes: Minutes = Decimal(60)  # 0: no cooldown
    allow_short: StrictBool = True
    rsi_low: RsiLevel = 30.0
    rsi_high: RsiLevel = 70.0
    rsi_exit: RsiLevel = 50.0

    @model_validator(mode="after")
    def _consistent(self) -> RulesParams:
        if self.policy is not None and self.policies is not None:
            raise ValueError("give policy or policies, not both")
        if not self.rsi_low < self.rsi_exit < self.rsi_high:
            raise ValueError(
                f"rsi_low < rsi_exit < rsi_high must hold (got {self.rsi_low:g}, "
                f"{self.rsi_exit:g}, {self.rsi_high:g})"
            )
        return self

    @property
    def families(self) -> tuple[str, ...]:
        """The policy families to ask, in order, without repeats."""
        if self.policy is not None:
            return (self.policy,)
        return tuple(dict.fromkeys(self.policies or DEFAULT_POLICIES))


SCHEMAS: dict[str, type[EngineParams]] = {
    EngineName.HOLD: EngineParams,
    EngineName.RULES: RulesParams,
    EngineName.LLM: EngineParams,
    EngineName.COMMITTEE: EngineParams,
}


def schema_for(engine: str) -> type[EngineParams]:
    """The parameter model of ``engine`` (every engine name has one)."""
    return SCHEMAS[EngineName(engine)]


def parse_engine_params(engine: str, raw: Any) -> tuple[EngineParams, tuple[str, ...]]:
    """``raw`` (a compiled strategy's ``engine_params``) read with ``engine``'s model, keys it
    does not know left out; returns the parameters and those keys' names, sorted.

    Raises pydantic's ``ValidationError`` for a bad value, or ``ValueError`` when ``raw`` is not
    an object.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"engine_params must be an object, got {type(raw).__name__}")
    model = schema_for(engine)
    known = {k: v for k, v in raw.items() if k in model.model_fields}
    ignored = tuple(sorted(str(k) for k in raw if k not in model.model_fields))
    return model.model_validate(known), ignored
