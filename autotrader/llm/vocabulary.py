"""The model client's closed vocabulary (standard library only). The ``invocations.role`` CHECK
lists exactly these values; ``tests/unit/test_vocabulary.py`` pins the two together."""

from __future__ import annotations

from enum import StrEnum


class ModelRole(StrEnum):
    """Who a model call works for: what an ``invocations`` row audits."""

    SINGLE = "single"  # the llm engine's one call per decision
    PLANNER = "planner"  # the committee engine's three roles
    TRADER = "trader"
    JUDGE = "judge"
    ROUNDTABLE = "roundtable"  # one turn of a desk conversation
    INITIATIVE = "initiative"  # a desk agent's own proposal
