"""The only SQL for the backtest's table."""

from __future__ import annotations

import json

from autotrader.core.db import Store


def insert_run(store: Store, row: dict) -> None:
    encoded = {
        "spec": json.dumps(row["spec"], sort_keys=True),
        "accounts": json.dumps(row["accounts"]),
        "models": None if row.get("models") is None else json.dumps(row["models"], sort_keys=True),
    }
    store.insert("backtest_runs", row | encoded, returning="run_id")


def get_run(store: Store, run_id: str) -> dict | None:
    row = store.query_one("SELECT * FROM backtest_runs WHERE run_id = ?", (run_id,))
    if row is None:
        return None
    return row | {
        "spec": json.loads(row["spec"]),
        "accounts": json.loads(row["accounts"]),
        "models": None if row["models"] is None else json.loads(row["models"]),
    }
