"""Tables of the lifecycle: the economy ledger of real money, payments and the references that
paid them, audition fees and auditions, public profiles, the promotion queue and arena slots,
and every clone's stage with its append-only timeline.

Real money is kept apart from the synthetic money of prop accounts: ``economy_entries`` is its
own append-only ledger (UPDATE and DELETE refused by the database), per holder, Decimal text at
most to the unit (0.000001 USDC) but for the rounding rows that keep what rounding left over.
Money is canonical Decimal TEXT; times are UTC epoch milliseconds. Never edit a released
migration: add the next one.
"""

from __future__ import annotations

from autotrader.core._sqlite_utils import Database, Migrations
from autotrader.core.migrations import extend_check_values

migrations = Migrations("lifecycle")


def _append_only(db: Database, table: str, what: str) -> None:
    for verb in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER {table}_append_only_{verb.lower()} BEFORE {verb} ON {table}"
            f" BEGIN SELECT RAISE(ABORT, '{what} are append-only'); END"
        )


def extend_economy_kinds(db: Database, *new_kinds: str) -> None:
    """Allow more ``economy_entries.kind`` values (tickets, payouts, royalties, rake, refunds),
    keeping every row, index and the append-only triggers. Call it from a new, named migration
    and add the kinds to ``lifecycle.vocabulary.EconomyKind`` in the same change."""
    extend_check_values(db, "economy_entries", "kind", *new_kinds)


def extend_payment_purposes(db: Database, *new_purposes: str) -> None:
    """Allow more payment purposes (ticket purchases) on the payment tables, keeping their rows,
    indexes and triggers; add them to ``PaymentPurpose`` in the same change."""
    for table in ("payment_references", "payment_outcomes"):
        extend_check_values(db, table, "purpose", *new_purposes)


@migrations()
def m001_economy(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE economy_entries (
            id INTEGER PRIMARY KEY,
            txn TEXT NOT NULL,                     -- the booking its legs share: deposit:…, fee:3
            holder TEXT NOT NULL,                  -- an owner's handle, or protocol:<account>
            kind TEXT NOT NULL CHECK (kind IN ('DEPOSIT', 'AUDITION_FEE', 'ROUNDING')),
            amount TEXT NOT NULL,                  -- signed Decimal USDC
            balance_after TEXT NOT NULL,           -- the holder's balance including this entry
            reference TEXT,                        -- the transfer behind a deposit
            reason TEXT,
            idempotency_key TEXT NOT NULL UNIQUE,  -- txn:leg, so a booking can never repeat
            created_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_economy_holder ON economy_entries (holder, id)")
    db.execute("CREATE INDEX idx_economy_txn ON economy_entries (txn)")
    _append_only(db, "economy_entries", "economy entries")
    db.execute(
        """
        CREATE TABLE payment_references (
            reference TEXT PRIMARY KEY,            -- a transfer hash (lowercase) or a manual one:
                                                   -- it verifies at most one payment, ever
            source TEXT NOT NULL CHECK (source IN ('manual', 'hyperliquid')),
            purpose TEXT NOT NULL CHECK (purpose IN ('audition_fee')),
            request_id INTEGER NOT NULL,           -- the fee (or, later, ticket) it paid towards
            holder TEXT NOT NULL,
            sender TEXT,
            amount TEXT NOT NULL,                  -- what arrived, exactly as reported
            transfer_time INTEGER,
            claimed_at INTEGER NOT NULL
        ) STRICT
        """
    )
    _append_only(db, "payment_references", "payment references")
    db.execute(
        """
        CREATE TABLE payment_outcomes (
            id INTEGER PRIMARY KEY,
            purpose TEXT NOT NULL CHECK (purpose IN ('audition_fee')),
            request_id INTEGER NOT NULL,
            verifier TEXT NOT NULL CHECK (verifier IN ('manual', 'hyperliquid')),
            outcome TEXT NOT NULL CHECK (outcome IN ('verified', 'overpaid', 'underpaid', 'late',
                                                      'wrong_sender', 'reused', 'malformed')),
            reference TEXT,
            sender TEXT,
            amount TEXT,
            transfer_time INTEGER,
            reason TEXT NOT NULL,
            actor TEXT NOT NULL,
            created_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute(
        "CREATE INDEX idx_payment_outcomes_request ON payment_outcomes (purpose, request_id, id)"
    )
    _append_only(db, "payment_outcomes", "payment outcomes")


@migrations()
def m002_fees_and_auditions(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE audition_fees (
            id INTEGER PRIMARY KEY,
            clone_id INTEGER NOT NULL REFERENCES clones (id),
            owner TEXT NOT NULL,
            payer_address TEXT,                    -- the owner's address when it was requested
            amount TEXT NOT NULL,                  -- USDC owed
            reference TEXT NOT NULL UNIQUE,        -- what the owner quotes when paying
            status TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'expired')),
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            verified_at INTEGER,
            verifier TEXT,
            verified_by TEXT,
            transfer_reference TEXT,
            expired_at INTEGER,
            note TEXT
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_audition_fees_clone ON audition_fees (clone_id, id)")
    db.execute("CREATE INDEX idx_audition_fees_pending ON audition_fees (status, expires_at)")
    db.execute(
        """
        CREATE TABLE auditions (
            id INTEGER PRIMARY KEY,
            clone_id INTEGER NOT NULL REFERENCES clones (id),
            attempt INTEGER NOT NULL,
            fee_id INTEGER NOT NULL UNIQUE REFERENCES audition_fees (id),
            account_id INTEGER NOT NULL UNIQUE REFERENCES prop_accounts (id),
            status TEXT NOT NULL CHECK (status IN ('running', 'passed', 'failed')),
            rules TEXT NOT NULL,                   -- AuditionRules as JSON, fixed at submit
            started_at INTEGER NOT NULL,
            ends_at INTEGER NOT NULL,
            claimed_by TEXT,                       -- the evaluating worker, while it evaluates
            claimed_at INTEGER,
            decided_at INTEGER,
            result TEXT,                           -- metrics and every criterion, as JSON
            score REAL,                            -- the promotion queue's order (return %)
            reason TEXT,
            UNIQUE (clone_id, attempt)
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_auditions_due ON auditions (status, ends_at)")
    db.execute(
        "CREATE UNIQUE INDEX idx_auditions_one_running ON auditions (clone_id)"
        " WHERE status = 'running'"
    )


@migrations()
def m003_profiles(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE profile_versions (
            id INTEGER PRIMARY KEY,
            clone_id INTEGER NOT NULL REFERENCES clones (id),
            version INTEGER NOT NULL,
            owner TEXT NOT NULL,
            name TEXT NOT NULL,
            bio TEXT NOT NULL,
            avatar_url TEXT,
            name_key TEXT NOT NULL,                -- the name, case folded then look-alikes
            look_alike_key TEXT NOT NULL,          -- look-alikes folded, then case
            status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected',
                                                    'superseded')),
            submitted_by TEXT NOT NULL,
            submitted_at INTEGER NOT NULL,
            reviewed_by TEXT,
            reviewed_at INTEGER,
            review_reason TEXT,
            UNIQUE (clone_id, version)
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_profile_versions_status ON profile_versions (status, id)")
    # What the public sees: one approved version per clone; no two names that fold alike.
    db.execute(
        """
        CREATE TABLE public_profiles (
            clone_id INTEGER PRIMARY KEY REFERENCES clones (id),
            version_id INTEGER NOT NULL UNIQUE REFERENCES profile_versions (id),
            name_key TEXT NOT NULL UNIQUE,
            look_alike_key TEXT NOT NULL UNIQUE,
            approved_at INTEGER NOT NULL
        ) STRICT
        """
    )


@migrations()
def m004_promotion_and_arena(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE promotion_queue (
            id INTEGER PRIMARY KEY,
            clone_id INTEGER NOT NULL REFERENCES clones (id),
            audition_id INTEGER NOT NULL UNIQUE REFERENCES auditions (id),
            score REAL NOT NULL,
            queued_at INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('waiting', 'admitted', 'removed')),
            deferral TEXT,                         -- why the head could not enter, last time
            deferred_at INTEGER,
            left_at INTEGER
        ) STRICT
        """
    )
    db.execute(
        "CREATE UNIQUE INDEX idx_promotion_queue_one_waiting ON promotion_queue (clone_id)"
        " WHERE status = 'waiting'"
    )
    db.execute(
        "CREATE INDEX idx_promotion_queue_order ON promotion_queue (status, score DESC,"
        " queued_at, id)"
    )
    db.execute(
        """
        CREATE TABLE arena_slots (
            id INTEGER PRIMARY KEY,
            clone_id INTEGER NOT NULL REFERENCES clones (id),
            queue_id INTEGER NOT NULL UNIQUE REFERENCES promotion_queue (id),
            status TEXT NOT NULL CHECK (status IN ('active', 'removed', 'retired')),
            admitted_at INTEGER NOT NULL,
            admitted_by TEXT NOT NULL,
            ended_at INTEGER,
            ended_by TEXT,
            reason TEXT
        ) STRICT
        """
    )
    db.execute(
        "CREATE UNIQUE INDEX idx_arena_slots_one_active ON arena_slots (clone_id)"
        " WHERE status = 'active'"
    )
    db.execute("CREATE INDEX idx_arena_slots_status ON arena_slots (status, id)")


@migrations()
def m005_stages_and_timeline(db: Database) -> None:
    stages = (
        "'sandbox', 'fee_pending', 'auditioning', 'passed', 'failed', 'queued', 'arena',"
        " 'removed', 'retired'"
    )
    db.execute(
        f"""
        CREATE TABLE clone_stages (
            clone_id INTEGER PRIMARY KEY REFERENCES clones (id),
            stage TEXT NOT NULL CHECK (stage IN ({stages})),
            updated_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute(
        f"""
        CREATE TABLE lifecycle_events (
            id INTEGER PRIMARY KEY,
            clone_id INTEGER NOT NULL REFERENCES clones (id),
            event TEXT NOT NULL CHECK (event IN ('fee_requested', 'fee_expired',
                'audition_started', 'audition_passed', 'audition_failed', 'queued', 'admitted',
                'removed', 'retired', 'fee_verified', 'payment_recorded', 'profile_submitted',
                'profile_approved', 'profile_rejected', 'admission_deferred')),
            from_stage TEXT NOT NULL CHECK (from_stage IN ({stages})),
            to_stage TEXT NOT NULL CHECK (to_stage IN ({stages})),
            actor TEXT NOT NULL,                   -- who: cli:<user>, or a worker's id
            reason TEXT,
            fee_id INTEGER,
            audition_id INTEGER,
            account_id INTEGER,
            created_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_lifecycle_events_clone ON lifecycle_events (clone_id, id)")
    db.execute("CREATE INDEX idx_lifecycle_events_audition ON lifecycle_events (audition_id)")
    _append_only(db, "lifecycle_events", "lifecycle events")
