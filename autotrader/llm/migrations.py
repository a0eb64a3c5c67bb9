"""Tables of the model client: every invocation (the audit of each model call), the response
cache, and tool-call style records linking a model's output to the action it caused.

``run_id`` and ``action_id`` name rows of the decisions set, which applies after this one, so they
are plain integers rather than foreign keys. Migrations are never edited once released: change a
table by adding a migration below the last one.
"""

from __future__ import annotations

from autotrader.core._sqlite_utils import Database, Migrations

migrations = Migrations("llm")


@migrations()
def m001_invocations_cache_tool_calls(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE invocations (
            id INTEGER PRIMARY KEY,
            trace_id TEXT,
            run_id INTEGER,                        -- decision_runs.id (set by the caller)
            role TEXT NOT NULL CHECK (role IN ('single', 'planner', 'trader', 'judge')),
            model TEXT NOT NULL,
            api TEXT NOT NULL CHECK (api IN ('responses', 'chat')),
            schema_name TEXT NOT NULL,
            request_hash TEXT NOT NULL,            -- sha256 of the canonical request
            prompt_hash TEXT NOT NULL,             -- sha256 of the system + user messages
            status TEXT NOT NULL CHECK (status IN ('ok', 'invalid_output', 'refused',
                                                   'truncated', 'failed')),
            error TEXT,                            -- one line, secrets redacted
            raw_text TEXT,                         -- what the model answered, verbatim
            parsed_json TEXT,                      -- the validated object (canonical JSON)
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            latency_ms INTEGER NOT NULL DEFAULT 0,
            cost_usd TEXT NOT NULL DEFAULT '0',    -- Decimal text, USD
            cached INTEGER NOT NULL DEFAULT 0 CHECK (cached IN (0, 1)),
            attempts INTEGER NOT NULL DEFAULT 0,   -- HTTP requests sent (0: none, e.g. cached)
            request_artifact TEXT,                 -- artifact keys, filled by the caller
            response_artifact TEXT,
            created_at INTEGER NOT NULL            -- epoch ms UTC
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_invocations_run ON invocations (run_id)")
    db.execute("CREATE INDEX idx_invocations_trace ON invocations (trace_id)")
    db.execute("CREATE INDEX idx_invocations_created ON invocations (created_at)")
    db.execute(
        """
        CREATE TABLE response_cache (
            key TEXT PRIMARY KEY,                  -- sha256 of model, api, schema, prompt
            model TEXT NOT NULL,
            api TEXT NOT NULL,
            raw_text TEXT NOT NULL,
            input_tokens INTEGER NOT NULL,         -- what the original call spent
            output_tokens INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE tool_calls (
            id INTEGER PRIMARY KEY,
            invocation_id INTEGER NOT NULL REFERENCES invocations (id),
            name TEXT NOT NULL CHECK (name IN ('CREATE_POSITION', 'CLOSE_POSITION', 'HOLDING',
                                               'UPDATE_EXIT_PLAN')),
            arguments TEXT NOT NULL,               -- JSON object
            action_id INTEGER,                     -- decision_actions.id, linked later
            created_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_tool_calls_invocation ON tool_calls (invocation_id)")
    db.execute("CREATE INDEX idx_tool_calls_action ON tool_calls (action_id)")


@migrations()
def m002_desk_roles(db: Database) -> None:
    """Two roles for the desk's calls: a roundtable turn and an agent's initiative.

    SQLite cannot change a CHECK constraint, so ``invocations`` is rebuilt with the longer list
    (every row kept) — and ``tool_calls`` with it: a parent table cannot be dropped under its
    children while foreign keys are on (and they are, inside the migration's transaction), so
    both are copied, the old pair dropped child first, and the new pair renamed into place (the
    rename carries ``tool_calls``' foreign key to the new ``invocations``).
    """
    db.execute(
        """
        CREATE TABLE invocations_rebuilt (
            id INTEGER PRIMARY KEY,
            trace_id TEXT,
            run_id INTEGER,                        -- decision_runs.id (set by the caller)
            role TEXT NOT NULL CHECK (role IN ('single', 'planner', 'trader', 'judge',
                                               'roundtable', 'initiative')),
            model TEXT NOT NULL,
            api TEXT NOT NULL CHECK (api IN ('responses', 'chat')),
            schema_name TEXT NOT NULL,
            request_hash TEXT NOT NULL,            -- sha256 of the canonical request
            prompt_hash TEXT NOT NULL,             -- sha256 of the system + user messages
            status TEXT NOT NULL CHECK (status IN ('ok', 'invalid_output', 'refused',
                                                   'truncated', 'failed')),
            error TEXT,                            -- one line, secrets redacted
            raw_text TEXT,                         -- what the model answered, verbatim
            parsed_json TEXT,                      -- the validated object (canonical JSON)
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            latency_ms INTEGER NOT NULL DEFAULT 0,
            cost_usd TEXT NOT NULL DEFAULT '0',    -- Decimal text, USD
            cached INTEGER NOT NULL DEFAULT 0 CHECK (cached IN (0, 1)),
            attempts INTEGER NOT NULL DEFAULT 0,   -- HTTP requests sent (0: none, e.g. cached)
            request_artifact TEXT,                 -- artifact keys, filled by the caller
            response_artifact TEXT,
            created_at INTEGER NOT NULL            -- epoch ms UTC
        ) STRICT
        """
    )
    db.execute("INSERT INTO invocations_rebuilt SELECT * FROM invocations")
    db.execute(
        """
        CREATE TABLE tool_calls_rebuilt (
            id INTEGER PRIMARY KEY,
            invocation_id INTEGER NOT NULL REFERENCES invocations_rebuilt (id),
            name TEXT NOT NULL CHECK (name IN ('CREATE_POSITION', 'CLOSE_POSITION', 'HOLDING',
                                               'UPDATE_EXIT_PLAN')),
            arguments TEXT NOT NULL,               -- JSON object
            action_id INTEGER,                     -- decision_actions.id, linked later
            created_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute("INSERT INTO tool_calls_rebuilt SELECT * FROM tool_calls")
    db.execute("DROP TABLE tool_calls")
    db.execute("DROP TABLE invocations")
    db.execute("ALTER TABLE invocations_rebuilt RENAME TO invocations")
    db.execute("ALTER TABLE tool_calls_rebuilt RENAME TO tool_calls")
    db.execute("CREATE INDEX idx_invocations_run ON invocations (run_id)")
    db.execute("CREATE INDEX idx_invocations_trace ON invocations (trace_id)")
    db.execute("CREATE INDEX idx_invocations_created ON invocations (created_at)")
    db.execute("CREATE INDEX idx_tool_calls_invocation ON tool_calls (invocation_id)")
    db.execute("CREATE INDEX idx_tool_calls_action ON tool_calls (action_id)")
