"""The backtest's closed vocabulary (standard library only)."""

from __future__ import annotations

from enum import StrEnum


class ModelHold(StrEnum):
    """Why a backtest held instead of asking a model: the reason its refused call records."""

    CACHE_MISS = "cache_miss"  # no cached answer, and new calls were not allowed
    BUDGET_EXHAUSTED = "budget_exhausted"  # what is left of the budget cannot cover the call
    UNPRICED = "unpriced_model"  # the registry has no price for the model: no budget covers it
