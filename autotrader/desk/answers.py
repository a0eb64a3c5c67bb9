"""What the desk asks a model for: strict JSON schemas (the model client constrains the model to
them and validates its answer against them). No I/O.

They are deliberately loose where the desk judges the content itself: a step kind, a side, a
size or a memory type is a plain string here, so that a wrong one is *refused on the record* by
the proposal gates or the memory validation (with its reason) instead of failing the whole answer.
Only the shape — and a turn's reaction and vote — is the model's to get right.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from autotrader.desk.vocabulary import MemoryType, StepKind

STEP_KINDS = ", ".join(kind.value for kind in StepKind)
MEMORY_TYPES = ", ".join(kind.value for kind in MemoryType)
MAX_MESSAGE_CHARS = 800


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StepAnswer(_Answer):
    kind: str = Field(max_length=40, description=f"The step kind, one of: {STEP_KINDS}.")
    symbol: str | None = Field(None, max_length=32, description="The asset, e.g. BTC, or null.")
    side: str | None = Field(None, max_length=8, description="LONG or SHORT for a trade, or null.")
    notional_usd: str | None = Field(
        None, max_length=40, description="Trade size in USD as a decimal string, or null."
    )
    position_id: int | None = Field(None, description="The position it is about, or null.")


class ProposalAnswer(_Answer):
    """One proposal for the desk: an initiative, or a roundtable's action item."""

    title: str = Field(max_length=200, description="The proposal in one line.")
    rationale: str = Field(max_length=1000, description="Why, from the data given.")
    confidence: float | None = Field(None, ge=0, le=1, description="0 to 1, or null.")
    steps: list[StepAnswer] = Field(min_length=1, max_length=10)


class MemoryCandidate(_Answer):
    """Something worth remembering, in the speaker's own name."""

    type: str = Field(max_length=20, description=f"One of: {MEMORY_TYPES}.")
    key: str = Field(
        max_length=60,
        description="What it is about, in snake_case (e.g. weekend_volume): the same key "
        "again adds evidence to the same memory.",
    )
    content: str = Field(max_length=300, description="The memory, in one sentence.")
    confidence: float = Field(
        ge=0,
        le=1,
        description="Within the type's range: insight 0.65-0.85, pattern "
        "0.70-0.90, strategy 0.75-0.90, preference 0.60-0.80, lesson 0.55-0.75.",
    )
    tags: list[Annotated[str, Field(max_length=24)]] = Field(
        max_length=5, description="Symbols or topics it concerns."
    )


class TurnAnswer(_Answer):
    """One turn of a roundtable, as the speaker's model writes it."""

    speaker: str = Field(max_length=20, description="Your agent id, e.g. sage.")
    message: str = Field(
        max_length=MAX_MESSAGE_CHARS, description="What you say: one to three sentences."
    )
    reaction: Literal["agree", "disagree", "neutral"] = Field(
        description="What you make of the previous speaker's turn (neutral when you open)."
    )
    vote: Literal["approve", "reject"] | None = Field(
        None, description="Your vote on the proposal on the table, or null when there is none."
    )
    memory_candidates: list[MemoryCandidate] = Field(max_length=2)
    action_items: list[ProposalAnswer] = Field(max_length=2)
