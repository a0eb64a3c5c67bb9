"""Tables of the arena: races, their entrants and tickets, each settlement's pool split and
rows, strikes and the Hall of Fame — and the economy kinds, payment purpose and timeline note
the arena adds to the lifecycle's tables.

The money itself lives in the lifecycle's economy ledger (``economy_entries``); the rows here
say what each booking was for. Settlement rows, strikes and Hall of Fame records are
append-only (UPDATE and DELETE refused by the database). Money is canonical Decimal TEXT;
times are UTC epoch milliseconds. Never edit a released migration: add the next one.
"""

from __future__ import annotations

from autotrader.core._sqlite_utils import Database, Migrations
from autotrader.core.migrations import extend_check_values
from autotrader.lifecycle.migrations import extend_economy_kinds, extend_payment_purposes

migrations = Migrations("arena")


def _append_only(db: Database, table: str, what: str) -> None:
    for verb in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER {table}_append_only_{verb.lower()} BEFORE {verb} ON {table}"
            f" BEGIN SELECT RAISE(ABORT, '{what} are append-only'); END"
        )


@migrations()
def m001_races_entrants_tickets(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE arena_races (
            id INTEGER PRIMARY KEY,
            status TEXT NOT NULL CHECK (status IN ('accumulating', 'live', 'settling',
                                                    'settled', 'archived', 'cancelled')),
            starts_at INTEGER NOT NULL,
            ends_at INTEGER NOT NULL,
            rules TEXT NOT NULL,                   -- RaceRules as JSON, fixed at creation
            terms TEXT NOT NULL,                   -- RaceTerms as JSON, fixed at creation
            created_by TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            launched_at INTEGER,
            claimed_by TEXT,                       -- the settling worker, while it settles
            claimed_at INTEGER,
            settled_at INTEGER,
            archived_at INTEGER,
            cancelled_at INTEGER,
            reason TEXT,                           -- why it was cancelled
            updated_at INTEGER NOT NULL,
            CHECK (ends_at > starts_at)
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_arena_races_start ON arena_races (status, starts_at)")
    db.execute("CREATE INDEX idx_arena_races_end ON arena_races (status, ends_at)")
    db.execute(
        """
        CREATE TABLE arena_entrants (
            id INTEGER PRIMARY KEY,
            race_id INTEGER NOT NULL REFERENCES arena_races (id),
            clone_id INTEGER NOT NULL REFERENCES clones (id),
            status TEXT NOT NULL CHECK (status IN ('entered', 'racing', 'scratched',
                                                    'finished')),
            account_id INTEGER UNIQUE REFERENCES prop_accounts (id),  -- opened at the launch
            finish INTEGER,                        -- 1 = the winner
            equity TEXT,                           -- the result snapshot, from the ledger's
            pnl TEXT,                              -- leaderboard computation
            return_pct TEXT,
            max_drawdown_pct TEXT,
            trades INTEGER,
            reason TEXT,                           -- why it was scratched
            UNIQUE (race_id, clone_id),
            UNIQUE (race_id, finish)
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_arena_entrants_clone ON arena_entrants (clone_id, race_id)")
    db.execute(
        """
        CREATE TABLE arena_tickets (
            id INTEGER PRIMARY KEY,
            race_id INTEGER NOT NULL,
            clone_id INTEGER NOT NULL,             -- the entrant it backs
            owner TEXT NOT NULL,                   -- who holds it (and pays for it)
            payer_address TEXT,                    -- the owner's address when it was bought
            amount TEXT NOT NULL,                  -- USDC, on the unit
            reference TEXT NOT NULL UNIQUE,        -- what the owner quotes when paying
            status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'expired', 'refunded')),
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,           -- at most the race's start
            paid_at INTEGER,
            verifier TEXT,
            verified_by TEXT,
            transfer_reference TEXT,
            note TEXT,
            expired_at INTEGER,
            refunded_at INTEGER,
            reason TEXT,                           -- why it expired or was refunded
            FOREIGN KEY (race_id, clone_id) REFERENCES arena_entrants (race_id, clone_id)
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_arena_tickets_race ON arena_tickets (race_id, status)")
    db.execute("CREATE INDEX idx_arena_tickets_owner ON arena_tickets (owner, id)")
    db.execute("CREATE INDEX idx_arena_tickets_pending ON arena_tickets (status, expires_at)")


@migrations()
def m002_settlements(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE arena_settlements (
            id INTEGER PRIMARY KEY,
            race_id INTEGER NOT NULL UNIQUE REFERENCES arena_races (id),
            tickets INTEGER NOT NULL,              -- paid tickets in the pool
            pool TEXT NOT NULL,                    -- Σ paid tickets
            rake TEXT NOT NULL,                    -- the split: rake + creator pool +
            creator_pool TEXT NOT NULL,            -- distribution pool = pool
            distribution_pool TEXT NOT NULL,
            royalties TEXT NOT NULL,               -- what the rows paid of each part
            payouts TEXT NOT NULL,
            unclaimed TEXT NOT NULL,
            dust TEXT NOT NULL,
            finish TEXT NOT NULL,                  -- clone ids as JSON, winner first
            txn TEXT NOT NULL UNIQUE,              -- the economy booking of its rows
            settled_at INTEGER NOT NULL
        ) STRICT
        """
    )
    _append_only(db, "arena_settlements", "settlements")
    db.execute(
        """
        CREATE TABLE arena_payouts (
            id INTEGER PRIMARY KEY,
            race_id INTEGER NOT NULL REFERENCES arena_races (id),
            kind TEXT NOT NULL CHECK (kind IN ('rake', 'royalty', 'payout', 'unclaimed', 'dust',
                                                'refund')),
            holder TEXT NOT NULL,                  -- an owner's handle, or protocol:<account>
            amount TEXT NOT NULL,                  -- USDC, on the unit
            clone_id INTEGER,                      -- a royalty's finisher, a payout's entrant
            finish INTEGER,
            stake TEXT,                            -- a payout's stake on paying entrants
            ticket_id INTEGER REFERENCES arena_tickets (id),  -- a refund's ticket
            txn TEXT NOT NULL,                     -- the economy booking it is part of
            created_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_arena_payouts_race ON arena_payouts (race_id, id)")
    db.execute("CREATE INDEX idx_arena_payouts_holder ON arena_payouts (holder, id)")
    db.execute(
        "CREATE UNIQUE INDEX idx_arena_payouts_one_refund ON arena_payouts (ticket_id)"
        " WHERE kind = 'refund'"
    )
    _append_only(db, "arena_payouts", "settlement rows")


@migrations()
def m003_strikes_and_hall_of_fame(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE arena_strikes (
            id INTEGER PRIMARY KEY,
            clone_id INTEGER NOT NULL REFERENCES clones (id),
            race_id INTEGER NOT NULL REFERENCES arena_races (id),
            finish INTEGER NOT NULL,
            entrants INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE (race_id, clone_id)
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_arena_strikes_clone ON arena_strikes (clone_id, id)")
    _append_only(db, "arena_strikes", "strikes")
    db.execute(
        """
        CREATE TABLE arena_hall_of_fame (
            clone_id INTEGER PRIMARY KEY REFERENCES clones (id),
            retired_at INTEGER NOT NULL,
            reason TEXT,
            races INTEGER NOT NULL,
            wins INTEGER NOT NULL,
            best_finish INTEGER,
            race_pnl TEXT NOT NULL,                -- Σ of its race accounts' PnL
            race_return_pct TEXT NOT NULL,         -- that over Σ their starting balances
            royalties TEXT NOT NULL,               -- USDC its finishes earned its owner
            strikes INTEGER NOT NULL,
            profile TEXT NOT NULL,                 -- JSON: public profile, owner, model,
                                                   -- variant, pipeline version and hash
            inducted_at INTEGER NOT NULL
        ) STRICT
        """
    )
    _append_only(db, "arena_hall_of_fame", "Hall of Fame records")


@migrations()
def m004_economy_kinds_and_strike_notes(db: Database) -> None:
    extend_economy_kinds(db, "TICKET", "PAYOUT", "ROYALTY", "RAKE", "REFUND")
    extend_payment_purposes(db, "ticket")
    extend_check_values(db, "lifecycle_events", "event", "strike")
