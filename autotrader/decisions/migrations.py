"""Tables of the decision loop: runs (one per account × strategy × asset × cadence bucket),
the actions each run produced with what became of them, the clone's schedule (a Planner may move
its next wake-up), and the experiment memory every policy outcome is written to."""

from __future__ import annotations

from autotrader.core._sqlite_utils import Database, Migrations

migrations = Migrations("decisions")


@migrations()
def m001_runs_and_actions(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE decision_runs (
            id INTEGER PRIMARY KEY,
            clone_id INTEGER NOT NULL REFERENCES clones (id),
            account_id INTEGER NOT NULL REFERENCES prop_accounts (id),
            strategy_id TEXT NOT NULL,
            symbol TEXT NOT NULL,
            pipeline_version INTEGER,
            bucket INTEGER NOT NULL,               -- cadence bucket start (epoch ms); forced: now
            forced INTEGER NOT NULL DEFAULT 0,
            dry_run INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed',
                                                   'skipped')),
            engine TEXT NOT NULL,
            model TEXT,
            trace_id TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            claimed_by TEXT,
            claimed_at INTEGER,
            due_at INTEGER NOT NULL,
            started_at INTEGER,
            finished_at INTEGER,
            duration_ms INTEGER,
            error TEXT,
            skip_reason TEXT,
            notes TEXT,
            plan TEXT,                             -- the committee's Plan (JSON)
            verdict TEXT,                          -- the committee's Verdict (JSON)
            prompt_hash TEXT,
            context_artifact TEXT,                 -- artifact keys of the large payloads
            prompt_artifact TEXT,
            response_artifact TEXT,
            created_at INTEGER NOT NULL,
            UNIQUE (account_id, strategy_id, symbol, bucket)
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_decision_runs_status ON decision_runs (status, claimed_at)")
    db.execute("CREATE INDEX idx_decision_runs_clone ON decision_runs (clone_id, created_at)")
    db.execute(
        """
        CREATE TABLE decision_actions (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES decision_runs (id),
            seq INTEGER NOT NULL,
            symbol TEXT NOT NULL,
            action TEXT NOT NULL,
            policy_id TEXT,
            intent TEXT NOT NULL,                  -- the TradeIntent as proposed (JSON)
            status TEXT NOT NULL CHECK (status IN ('hold', 'rejected', 'executed', 'accepted',
                                                   'failed')),
            intent_id INTEGER REFERENCES prop_intents (id),
            order_id INTEGER,
            fill_id INTEGER,
            position_id INTEGER,
            reject_code TEXT,
            reason TEXT,
            gate_results TEXT,
            created_at INTEGER NOT NULL,
            UNIQUE (run_id, seq)
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_decision_actions_position ON decision_actions (position_id)")


@migrations()
def m002_schedule_and_memory(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE clone_schedule (
            clone_id INTEGER PRIMARY KEY REFERENCES clones (id),
            next_due_at INTEGER NOT NULL,          -- set by a Planner's next_wakeup_secs
            set_by_run INTEGER,
            updated_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE experiments (
            id INTEGER PRIMARY KEY,
            clone_id INTEGER NOT NULL,
            account_id INTEGER NOT NULL,
            run_id INTEGER NOT NULL REFERENCES decision_runs (id),
            action_id INTEGER NOT NULL REFERENCES decision_actions (id),
            policy_id TEXT NOT NULL,
            symbol TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('executed', 'rejected')),
            position_id INTEGER,                   -- its return is read when the position closes
            detail TEXT,
            created_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_experiments_clone ON experiments (clone_id, policy_id)")


@migrations()
def m003_model_health(db: Database) -> None:
    # Consecutive failed model-backed runs per clone; at the safe-mode threshold the clone holds
    # until a call succeeds. A run records whether its clone was in safe mode when it finished.
    db.execute(
        """
        CREATE TABLE clone_model_health (
            clone_id INTEGER PRIMARY KEY REFERENCES clones (id),
            consecutive_failures INTEGER NOT NULL CHECK (consecutive_failures >= 0),
            safe_mode_since INTEGER,               -- epoch ms; NULL: not in safe mode
            last_error TEXT,
            updated_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute("ALTER TABLE decision_runs ADD COLUMN safe_mode INTEGER NOT NULL DEFAULT 0")
