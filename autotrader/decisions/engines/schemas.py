"""The committee's structured outputs: Plan (Planner), Proposal (Trader), Verdict (Judge).

Each is a pydantic model exported as a strict JSON Schema (``strict_json_schema``), the only
shape a model may answer in. ``Proposal`` is the ``TradeIntent`` contract itself: the Trader
proposes exactly what the gates will judge.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from autotrader.prop.models import DECIMAL_PATTERN, TradeIntent


class PolicyParam(BaseModel):
    """One parameter of a policy, as text (strict schemas allow no free-form objects)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(..., min_length=1, max_length=40)
    value: str = Field(..., max_length=40)


class PlannedStrategy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    policy_id: str = Field(..., min_length=1, max_length=64, description="A policy to run.")
    params: list[PolicyParam] = Field(default_factory=list, max_length=8)


class Plan(BaseModel):
    """What the Planner decides for the next period."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["OBSERVE", "TRADE"] = Field(..., description="OBSERVE: hold and watch.")
    explore_ratio: float = Field(
        ..., ge=0, le=1, description="Share of decisions that explore a less-proven policy."
    )
    next_wakeup_secs: int = Field(
        ..., ge=30, le=3600, description="Seconds until the clone should decide again."
    )
    strategies: list[PlannedStrategy] = Field(..., min_length=1, max_length=3)


class Proposal(TradeIntent):
    """The Trader's proposed action under the plan (the TradeIntent contract)."""


class Verdict(BaseModel):
    """The Judge's ruling on a proposal. The safety gates still decide afterwards."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    decision: Literal["APPROVE", "REVISE", "REJECT"]
    revised_qty: str | None = Field(
        None, pattern=DECIMAL_PATTERN, description="REVISE only: the quantity to use instead."
    )
    violations: list[str] = Field(default_factory=list, max_length=4)
    notes: str = Field("", max_length=120)
