"""SQL of strikes and the Hall of Fame."""

from __future__ import annotations

import json
from decimal import Decimal

from autotrader.core.db import Store
from autotrader.core.money import to_text


def insert_strike(
    store: Store, *, clone_id: int, race_id: int, finish: int, entrants: int, now_ms: int
) -> int | None:
    """The strike, unless the clone already has one for this race (None: nothing written)."""
    return store.insert_or_ignore(
        "arena_strikes",
        {
            "clone_id": clone_id,
            "race_id": race_id,
            "finish": finish,
            "entrants": entrants,
            "created_at": now_ms,
        },
    )


def strikes_of(store: Store, clone_id: int) -> list[dict]:
    return store.query("SELECT * FROM arena_strikes WHERE clone_id = ? ORDER BY id", (clone_id,))


def strikes_of_race(store: Store, race_id: int) -> list[dict]:
    return store.query("SELECT * FROM arena_strikes WHERE race_id = ? ORDER BY id", (race_id,))


def strike_counts(store: Store) -> dict[int, int]:
    return dict(store.tuples("SELECT clone_id, COUNT(*) FROM arena_strikes GROUP BY clone_id"))


def induct(store: Store, *, record: dict, now_ms: int) -> bool:
    """Preserve a retired clone's record; False when it is in the Hall of Fame already."""
    values = {
        **record,
        "race_pnl": to_text(record["race_pnl"]),
        "race_return_pct": to_text(record["race_return_pct"]),
        "royalties": to_text(record["royalties"]),
        "profile": json.dumps(record["profile"], sort_keys=True),
        "inducted_at": now_ms,
    }
    return store.insert_or_ignore("arena_hall_of_fame", values, returning="clone_id") is not None


def inducted(store: Store) -> set[int]:
    return {clone_id for (clone_id,) in store.tuples("SELECT clone_id FROM arena_hall_of_fame")}


def hall_of_fame(store: Store) -> list[dict]:
    """Every record, the most recently retired first."""
    rows = store.query("SELECT * FROM arena_hall_of_fame ORDER BY retired_at DESC, clone_id")
    for row in rows:
        for column in ("race_pnl", "race_return_pct", "royalties"):
            row[column] = Decimal(row[column])
        row["profile"] = json.loads(row["profile"])
    return rows
