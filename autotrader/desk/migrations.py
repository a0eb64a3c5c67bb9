"""Tables of the desk: agents and their relationships, policies, trigger rules and the reaction
matrix, the loop (proposals → missions → steps → events, the reaction queue), signals, memory,
trade outcomes, portfolio history, roundtables (formats, conversations and their turns),
relationship drift, memory influence, and each worker's breaker state.

Positions are prop's (the desk trades a prop account of its own) and heartbeat operations are
recorded in core's ``action_runs``; ``docs/desk.md`` maps every table of the seed to ours. Money
is canonical Decimal TEXT, times UTC epoch ms, lists and objects JSON text. Migrations are never
edited once released: change a table by adding a migration below the last one.
"""

from __future__ import annotations

from autotrader.core._sqlite_utils import Database, Migrations

migrations = Migrations("desk")

_AGENTS = "('atlas', 'sage', 'scout', 'growth', 'intel', 'observer')"
_STEP_KINDS = (
    "('analyze_signal', 'calculate_risk', 'review_performance', 'check_health',"
    " 'monitor_position', 'execute_trade', 'scale_position', 'close_position')"
)


@migrations()
def m001_agents_and_policies(db: Database) -> None:
    db.execute(
        f"""
        CREATE TABLE desk_agents (
            id TEXT NOT NULL CHECK (id IN {_AGENTS}) PRIMARY KEY,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            personality TEXT NOT NULL,
            tone TEXT NOT NULL,
            quirk TEXT NOT NULL,
            voice TEXT NOT NULL,
            directive TEXT NOT NULL,               -- the agent's system directive
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE desk_relationships (
            agent_a TEXT NOT NULL REFERENCES desk_agents (id),
            agent_b TEXT NOT NULL REFERENCES desk_agents (id),
            affinity REAL NOT NULL CHECK (affinity BETWEEN 0 AND 1),
            total_interactions INTEGER NOT NULL DEFAULT 0,
            drift_log TEXT NOT NULL DEFAULT '[]',  -- JSON list, written by conversations
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (agent_a, agent_b),
            CHECK (agent_a < agent_b)              -- one row per pair
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE desk_policies (
            key TEXT NOT NULL CHECK (key IN ('auto_approve', 'trade_limits', 'risk_controls',
                'roundtable_policy', 'memory_influence_policy', 'relationship_drift_policy',
                'initiative_policy')) PRIMARY KEY,
            value TEXT NOT NULL,                   -- the validated policy (JSON)
            updated_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute(
        f"""
        CREATE TABLE desk_trigger_rules (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('reactive', 'proactive')),
            agent_id TEXT NOT NULL REFERENCES desk_agents (id),
            conditions TEXT NOT NULL,              -- JSON, read by the rule's checker
            step_kind TEXT NOT NULL CHECK (step_kind IN {_STEP_KINDS}),
            topics TEXT NOT NULL,                  -- JSON list
            tags TEXT NOT NULL,                    -- JSON list, on the event it fires
            interval_minutes INTEGER,              -- proactive: the schedule
            cooldown_minutes INTEGER NOT NULL,
            enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
            fire_count INTEGER NOT NULL DEFAULT 0,
            last_fired_at INTEGER,
            cursor INTEGER NOT NULL DEFAULT 0,     -- reactive: the last fact (row id) seen
            updated_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute(
        f"""
        CREATE TABLE desk_reaction_patterns (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL,                  -- an agent id, or '*' for any agent
            tags TEXT NOT NULL,                    -- JSON list: an event must carry them all
            target_agent TEXT NOT NULL REFERENCES desk_agents (id),
            reaction_type TEXT NOT NULL,
            step_kind TEXT NOT NULL CHECK (step_kind IN {_STEP_KINDS}),
            probability REAL NOT NULL CHECK (probability BETWEEN 0 AND 1),
            cooldown_minutes INTEGER NOT NULL,
            enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
            updated_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE desk_workers (
            name TEXT NOT NULL CHECK (name IN ('trade-executor', 'position-monitor',
                'signal-analyzer', 'risk-calculator', 'initiative')) PRIMARY KEY,
            state TEXT NOT NULL CHECK (state IN ('enabled', 'disabled')),
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            disabled_at INTEGER,
            updated_at INTEGER NOT NULL
        ) STRICT
        """
    )


@migrations()
def m002_the_loop(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE desk_proposals (
            id INTEGER PRIMARY KEY,
            agent_id TEXT NOT NULL REFERENCES desk_agents (id),
            title TEXT NOT NULL,
            rationale TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL CHECK (source IN ('trigger', 'reaction', 'initiative',
                                                   'worker')),
            source_ref TEXT,                       -- trigger:<name>, reaction:<id>, ...
            signal_id INTEGER,
            mission_kind TEXT,                     -- NULL when the draft itself was invalid
            symbol TEXT,
            side TEXT,
            entry_price TEXT,
            notional_usd TEXT,
            stop_loss TEXT,
            take_profit TEXT,
            confidence REAL,
            steps TEXT NOT NULL,                   -- the proposed steps (JSON list)
            dedupe_key TEXT,
            status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
            gate TEXT,                             -- the gate that refused it
            reason TEXT,
            gate_results TEXT NOT NULL DEFAULT '[]',
            mission_id INTEGER,
            roundtable_id INTEGER,
            created_at INTEGER NOT NULL,
            decided_at INTEGER
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_desk_proposals_day ON desk_proposals (created_at, status)")
    db.execute("CREATE INDEX idx_desk_proposals_dedupe ON desk_proposals (dedupe_key, status)")
    db.execute(
        """
        CREATE TABLE desk_missions (
            id INTEGER PRIMARY KEY,
            proposal_id INTEGER NOT NULL UNIQUE REFERENCES desk_proposals (id),
            agent_id TEXT NOT NULL REFERENCES desk_agents (id),
            kind TEXT NOT NULL CHECK (kind IN ('entry', 'exit', 'scale', 'hedge', 'analysis')),
            title TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('approved', 'running', 'succeeded',
                                                   'failed')),
            error TEXT,
            created_at INTEGER NOT NULL,
            started_at INTEGER,
            finished_at INTEGER
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_desk_missions_status ON desk_missions (status)")
    db.execute(
        f"""
        CREATE TABLE desk_steps (
            id INTEGER PRIMARY KEY,
            mission_id INTEGER NOT NULL REFERENCES desk_missions (id),
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN {_STEP_KINDS}),
            status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed',
                                                   'skipped')),
            symbol TEXT,                           -- from the payload, for the gates' counts
            position_id INTEGER,
            payload TEXT NOT NULL,                 -- the step as proposed (JSON)
            output TEXT,                           -- what its worker found or did (JSON)
            error TEXT,
            claimed_by TEXT,
            claimed_at INTEGER,
            finished_at INTEGER,
            created_at INTEGER NOT NULL,
            UNIQUE (mission_id, seq)
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_desk_steps_queue ON desk_steps (status, kind, id)")
    db.execute("CREATE INDEX idx_desk_steps_claimed ON desk_steps (status, claimed_at)")
    db.execute(
        """
        CREATE TABLE desk_events (
            id INTEGER PRIMARY KEY,
            agent_id TEXT NOT NULL REFERENCES desk_agents (id),
            kind TEXT NOT NULL,                    -- proposal, mission, step, signal, trade, ...
            title TEXT NOT NULL,
            summary TEXT NOT NULL DEFAULT '',
            tags TEXT NOT NULL,                    -- JSON list
            proposal_id INTEGER,
            mission_id INTEGER,
            step_id INTEGER,
            signal_id INTEGER,
            position_id INTEGER,
            symbol TEXT,
            side TEXT,
            pnl TEXT,
            created_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_desk_events_time ON desk_events (created_at)")
    db.execute("CREATE INDEX idx_desk_events_mission ON desk_events (mission_id)")
    db.execute(
        """
        CREATE TABLE desk_reactions (
            id INTEGER PRIMARY KEY,
            pattern_id INTEGER NOT NULL REFERENCES desk_reaction_patterns (id),
            event_id INTEGER NOT NULL REFERENCES desk_events (id),
            event_time INTEGER NOT NULL,           -- cooldowns run on event time: replayable
            source_agent TEXT NOT NULL,
            target_agent TEXT NOT NULL,
            reaction_type TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('queued', 'processed')),
            proposal_id INTEGER,
            created_at INTEGER NOT NULL,
            processed_at INTEGER,
            UNIQUE (event_id, pattern_id)
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_desk_reactions_queue ON desk_reactions (status, id)")
    db.execute(
        "CREATE INDEX idx_desk_reactions_cooldown ON desk_reactions (pattern_id, event_time)"
    )
    db.execute(
        """
        CREATE TABLE desk_cursors (
            name TEXT NOT NULL PRIMARY KEY,        -- reactions: the last event matched
            position INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE desk_roundtables (
            id INTEGER PRIMARY KEY,
            format TEXT NOT NULL CHECK (format IN ('morning_standup', 'position_review',
                'post_mortem', 'debate', 'strategy_session', 'watercooler')),
            topic TEXT NOT NULL,
            participants TEXT NOT NULL,            -- JSON list of agent ids
            proposal_id INTEGER REFERENCES desk_proposals (id),
            status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
            conversation_history TEXT NOT NULL DEFAULT '[]',
            error TEXT,
            created_at INTEGER NOT NULL,
            started_at INTEGER,
            finished_at INTEGER
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_desk_roundtables_status ON desk_roundtables (status, created_at)")


@migrations()
def m003_trading_and_learning(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE desk_signals (
            id INTEGER PRIMARY KEY,
            symbol TEXT NOT NULL,
            signal_type TEXT NOT NULL CHECK (signal_type IN ('buy', 'sell', 'scale')),
            side TEXT NOT NULL CHECK (side IN ('LONG', 'SHORT')),
            source TEXT NOT NULL CHECK (source IN ('indicator', 'volume', 'funding',
                                                   'polymarket')),
            confidence REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
            price TEXT NOT NULL,                   -- the close it was read at
            timeframe TEXT NOT NULL,
            bar_time INTEGER NOT NULL,             -- open time of the bar it read
            metadata TEXT NOT NULL,                -- every component of the score (JSON)
            step_id INTEGER REFERENCES desk_steps (id),
            created_at INTEGER NOT NULL,
            UNIQUE (symbol, timeframe, bar_time, signal_type)
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_desk_signals_time ON desk_signals (created_at)")
    db.execute(
        """
        CREATE TABLE desk_memories (
            id INTEGER PRIMARY KEY,
            agent_id TEXT NOT NULL REFERENCES desk_agents (id),
            type TEXT NOT NULL CHECK (type IN ('insight', 'pattern', 'strategy', 'preference',
                                               'lesson')),
            key TEXT NOT NULL,                     -- what it is about: evidence adds up per key
            content TEXT NOT NULL,
            confidence REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
            evidence_count INTEGER NOT NULL DEFAULT 1,
            tags TEXT NOT NULL,                    -- JSON list
            source_trace TEXT,                     -- position:<id>, outcome:<id>, ...
            promoted_at INTEGER,                   -- permanent once promoted
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            UNIQUE (agent_id, type, key)
        ) STRICT
        """
    )
    db.execute(
        "CREATE INDEX idx_desk_memories_promotion ON desk_memories (promoted_at, confidence)"
    )
    db.execute(
        """
        CREATE TABLE desk_trade_outcomes (
            id INTEGER PRIMARY KEY,
            position_id INTEGER NOT NULL UNIQUE REFERENCES positions (id),
            mission_id INTEGER REFERENCES desk_missions (id),
            agent_id TEXT REFERENCES desk_agents (id),
            symbol TEXT NOT NULL,
            side TEXT NOT NULL,
            entry_price TEXT NOT NULL,
            exit_price TEXT,
            qty TEXT NOT NULL,
            pnl TEXT NOT NULL,                     -- net: realized − fees + funding
            pnl_pct TEXT NOT NULL,                 -- net PnL over initial margin (a fraction)
            hold_time_ms INTEGER NOT NULL,
            outcome_type TEXT NOT NULL CHECK (outcome_type IN ('win', 'loss', 'breakeven')),
            close_trigger TEXT,
            signal_source TEXT,
            lessons_learned TEXT NOT NULL,         -- JSON list
            opened_at INTEGER NOT NULL,
            closed_at INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_desk_trade_outcomes_closed ON desk_trade_outcomes (closed_at)")
    db.execute(
        """
        CREATE TABLE desk_portfolio_history (
            id INTEGER PRIMARY KEY,
            time INTEGER NOT NULL UNIQUE,          -- the heartbeat slot it was taken for
            total_value TEXT NOT NULL,             -- the account's equity
            pnl_24h TEXT,
            open_positions INTEGER NOT NULL,
            trades INTEGER NOT NULL,
            win_rate REAL,
            sharpe REAL,
            created_at INTEGER NOT NULL
        ) STRICT
        """
    )


@migrations()
def m004_conversations(db: Database) -> None:
    """Roundtables as conversations: the six formats as data, each turn a row, relationship drift
    and memory influence as logs, and the roundtable worker's breaker.

    The seed's JSON lists (``conversation_history``, ``drift_log``) become tables: a turn or a
    drift is appended as a row (never a growing document rewritten) and can be counted by the
    report. Nothing wrote either column, so both are dropped.
    """
    # desk_workers.name gains 'roundtable': SQLite cannot change a CHECK, so the table is
    # rebuilt (nothing references it).
    db.execute(
        """
        CREATE TABLE desk_workers_rebuilt (
            name TEXT NOT NULL CHECK (name IN ('trade-executor', 'position-monitor',
                'signal-analyzer', 'risk-calculator', 'initiative', 'roundtable')) PRIMARY KEY,
            state TEXT NOT NULL CHECK (state IN ('enabled', 'disabled')),
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            disabled_at INTEGER,
            updated_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute("INSERT INTO desk_workers_rebuilt SELECT * FROM desk_workers")
    db.execute("DROP TABLE desk_workers")
    db.execute("ALTER TABLE desk_workers_rebuilt RENAME TO desk_workers")

    db.execute(
        """
        CREATE TABLE desk_roundtable_formats (
            format TEXT NOT NULL CHECK (format IN ('morning_standup', 'position_review',
                'post_mortem', 'debate', 'strategy_session', 'watercooler')) PRIMARY KEY,
            purpose TEXT NOT NULL,
            participants TEXT NOT NULL,            -- JSON list: always there (the first opens)
            pool TEXT NOT NULL,                    -- JSON list: drawn from to fill the table
            min_participants INTEGER NOT NULL CHECK (min_participants >= 2),
            max_participants INTEGER NOT NULL CHECK (max_participants BETWEEN min_participants
                                                                          AND 6),
            min_turns INTEGER NOT NULL CHECK (min_turns >= 2),
            max_turns INTEGER NOT NULL CHECK (max_turns BETWEEN min_turns AND 40),
            temperature REAL NOT NULL CHECK (temperature BETWEEN 0 AND 2),
            days TEXT NOT NULL,                    -- JSON list of weekdays; [] = ad hoc
            at TEXT,                               -- 'HH:MM' in the desk's time zone
            probability REAL NOT NULL CHECK (probability BETWEEN 0 AND 1),
            conditions TEXT NOT NULL,              -- JSON: what must hold for it to meet
            enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
            updated_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute("ALTER TABLE desk_roundtables ADD COLUMN slot TEXT")  # format@local date
    db.execute("ALTER TABLE desk_roundtables ADD COLUMN claimed_by TEXT")
    db.execute("ALTER TABLE desk_roundtables ADD COLUMN turns_planned INTEGER")
    db.execute("ALTER TABLE desk_roundtables ADD COLUMN temperature REAL")
    db.execute("ALTER TABLE desk_roundtables ADD COLUMN summary TEXT")  # how it ended
    db.execute("ALTER TABLE desk_roundtables DROP COLUMN conversation_history")
    # One conversation per scheduled slot, however many workers schedule at once.
    db.execute(
        "CREATE UNIQUE INDEX idx_desk_roundtables_slot ON desk_roundtables (slot)"
        " WHERE slot IS NOT NULL"
    )
    db.execute(
        f"""
        CREATE TABLE desk_roundtable_turns (
            id INTEGER PRIMARY KEY,
            roundtable_id INTEGER NOT NULL REFERENCES desk_roundtables (id),
            seq INTEGER NOT NULL,
            speaker TEXT NOT NULL CHECK (speaker IN {_AGENTS}),  -- whose turn it was
            status TEXT NOT NULL CHECK (status IN ('ok', 'invalid_output', 'wrong_speaker',
                                                   'refused', 'truncated', 'failed')),
            message TEXT,                          -- what the speaker said (ok turns)
            reaction TEXT CHECK (reaction IN ('agree', 'disagree', 'neutral')),
            vote TEXT CHECK (vote IN ('approve', 'reject')),
            memory_candidates TEXT NOT NULL DEFAULT '[]',  -- JSON, each with what became of it
            action_items TEXT NOT NULL DEFAULT '[]',       -- JSON, each with its proposal
            error TEXT,                            -- why a bad turn was bad
            invocation_id INTEGER,                 -- the model call (the llm set's invocations)
            created_at INTEGER NOT NULL,
            UNIQUE (roundtable_id, seq)
        ) STRICT
        """
    )
    db.execute("ALTER TABLE desk_relationships DROP COLUMN drift_log")
    db.execute(
        """
        CREATE TABLE desk_relationship_drift (
            id INTEGER PRIMARY KEY,
            agent_a TEXT NOT NULL,
            agent_b TEXT NOT NULL,
            roundtable_id INTEGER NOT NULL REFERENCES desk_roundtables (id),
            before REAL NOT NULL,
            after REAL NOT NULL,
            reason TEXT NOT NULL,                  -- what in the conversation moved it
            created_at INTEGER NOT NULL,
            FOREIGN KEY (agent_a, agent_b) REFERENCES desk_relationships (agent_a, agent_b)
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_desk_drift_time ON desk_relationship_drift (created_at)")
    db.execute("CREATE INDEX idx_desk_drift_pair ON desk_relationship_drift (agent_a, agent_b, id)")
    db.execute(
        """
        CREATE TABLE desk_memory_influences (
            id INTEGER PRIMARY KEY,
            decision TEXT NOT NULL CHECK (decision IN ('topic', 'proposal')),
            subject TEXT NOT NULL,                 -- what was decided (a slot, a signal, ...)
            agent_id TEXT REFERENCES desk_agents (id),
            draw REAL NOT NULL,                    -- the seeded draw against the probability
            influenced INTEGER NOT NULL CHECK (influenced IN (0, 1)),
            memory_ids TEXT NOT NULL,              -- JSON list: the memories that shaped it
            effect TEXT NOT NULL,                  -- what they changed, or why nothing
            roundtable_id INTEGER REFERENCES desk_roundtables (id),
            proposal_id INTEGER REFERENCES desk_proposals (id),
            created_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_desk_influences_time ON desk_memory_influences (created_at)")


@migrations()
def m005_step_attempts(db: Database) -> None:
    """How many times a step was given back to the queue (its worker died, or it raised a
    temporary error): past ``missions.MAX_STEP_ATTEMPTS`` it fails instead of cycling forever."""
    db.execute("ALTER TABLE desk_steps ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0")
