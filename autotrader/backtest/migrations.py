"""The backtest's own table: one row per run, in the backtest store it wrote.

A backtest store is a full autotrader store (prop accounts, fills, positions, the ledger,
snapshots), so every ``ledger …`` command reads it; this row says what produced it.
"""

from __future__ import annotations

from autotrader.core._sqlite_utils import Database, Migrations

migrations = Migrations("backtest")


@migrations()
def m001_backtest_runs(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE backtest_runs (
            run_id TEXT PRIMARY KEY,
            since_ms INTEGER NOT NULL,
            until_ms INTEGER NOT NULL,
            spec TEXT NOT NULL,                    -- what was asked for (JSON)
            accounts TEXT NOT NULL,                -- {clone id: account id} (JSON)
            bars INTEGER NOT NULL,                 -- source bars replayed, every symbol
            decisions INTEGER NOT NULL,
            fills INTEGER NOT NULL,
            ledger_sha256 TEXT NOT NULL,           -- the determinism hash of the ledger
            started_at INTEGER NOT NULL,           -- wall clock
            elapsed_ms INTEGER NOT NULL
        ) STRICT
        """
    )


@migrations()
def m002_backtest_model_use(db: Database) -> None:
    # What a run's model strategies' calls came to (JSON: calls, cache hits, held calls by
    # reason, spend and budget in USD); NULL for a run without model strategies.
    db.execute("ALTER TABLE backtest_runs ADD COLUMN models TEXT")
