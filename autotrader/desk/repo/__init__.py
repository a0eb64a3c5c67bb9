"""The only SQL for the desk's tables, in five modules: ``config`` (agents, relationships,
policies, trigger rules, the reaction matrix, worker breakers), ``loop`` (proposals, missions,
steps), ``events`` (agent events, the reaction queue, cursors), ``learning`` (signals, memories,
trade outcomes, portfolio history) and ``conversations`` (roundtable formats, roundtables and
their turns, relationship drift, memory influence). JSON columns go in as text and come back
decoded."""

from __future__ import annotations

import json
from typing import Any


def dumps(value: Any) -> str:
    """Canonical JSON text of a column value (sorted keys, Decimals as strings)."""
    return json.dumps(value, sort_keys=True, default=str)


def decode(row: dict | None, *columns: str) -> dict | None:
    """``row`` with its JSON ``columns`` parsed (in place); None stays None."""
    if row is None:
        return None
    for column in columns:
        if isinstance(row.get(column), str):
            row[column] = json.loads(row[column])
    return row
