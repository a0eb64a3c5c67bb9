"""Tables of live execution: every order sent to (or stopped before) an exchange.

``live_orders`` is the venue's own audit: one row per client order id (``cloid``, derived from
the intent's idempotency key), with the exchange's order id, what filled at what price and
fee, and the exchange's message for a refusal. The ledger itself stays prop's: a live fill is
booked there like a paper one.
"""

from __future__ import annotations

from autotrader.core._sqlite_utils import Database, Migrations

migrations = Migrations("live")


@migrations()
def m001_orders(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE live_orders (
            id INTEGER PRIMARY KEY,
            cloid TEXT NOT NULL UNIQUE,
            account_id INTEGER NOT NULL REFERENCES prop_accounts (id),
            venue TEXT NOT NULL,
            symbol TEXT NOT NULL,
            purpose TEXT NOT NULL CHECK (purpose IN ('ENTRY', 'EXIT', 'FLATTEN')),
            side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
            qty TEXT NOT NULL,
            limit_price TEXT NOT NULL,
            reduce_only INTEGER NOT NULL CHECK (reduce_only IN (0, 1)),
            outcome TEXT NOT NULL
                CHECK (outcome IN ('FILLED', 'PARTIAL', 'UNFILLED', 'REFUSED', 'BLOCKED')),
            exchange_oid TEXT,
            filled_qty TEXT NOT NULL,
            avg_price TEXT,
            fee TEXT NOT NULL,
            message TEXT,
            idempotency_key TEXT,
            created_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_live_orders_account ON live_orders (account_id, created_at)")


@migrations()
def m002_drift_events(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE live_drift_events (
            id INTEGER PRIMARY KEY,
            venue TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN
                ('UNKNOWN_POSITION', 'SIZE_MISMATCH', 'MISSING_POSITION', 'UNKNOWN_ORDER')),
            symbol TEXT,
            exchange_value TEXT,
            store_value TEXT,
            detail TEXT NOT NULL,
            froze INTEGER NOT NULL CHECK (froze IN (0, 1)),
            created_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_live_drift_venue ON live_drift_events (venue, created_at)")


@migrations()
def m003_protective_orders(db: Database) -> None:
    # An exit plan's stop and target, kept on the exchange as reduce-only trigger orders: their
    # ids and trigger prices, so they are moved with the plan and cancelled with the position.
    db.execute(
        """
        CREATE TABLE live_protective_orders (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES prop_accounts (id),
            position_id INTEGER NOT NULL REFERENCES positions (id),
            kind TEXT NOT NULL CHECK (kind IN ('STOP', 'TARGET')),
            cloid TEXT NOT NULL UNIQUE,
            exchange_oid TEXT,
            trigger_price TEXT NOT NULL,
            qty TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'CANCELLED', 'FILLED', 'REFUSED')),
            message TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute(
        "CREATE INDEX idx_live_protective_position ON live_protective_orders (position_id, status)"
    )
