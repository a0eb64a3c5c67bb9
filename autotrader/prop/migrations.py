"""Tables of the prop trading engine: accounts, intents with their gate results, orders, fills,
positions (the single source of truth for open and closed positions), the append-only ledger,
and mark-to-market snapshots.

Money and quantities are canonical Decimal TEXT; times are UTC epoch milliseconds. The ledger
refuses UPDATE and DELETE at the database level: an account's balance is the sum of its entries
and each entry carries the balance after it, so history can only grow.
"""

from __future__ import annotations

import re

from autotrader.core._sqlite_utils import Database, Migrations
from autotrader.core.migrations import extend_check_values

migrations = Migrations("prop")


def extend_ledger_kinds(db: Database, *new_kinds: str) -> None:
    """Allow more ``ledger_entries.kind`` values, keeping every row, index and trigger (the
    ledger package's indexes and the append-only triggers included).

    Call it from a new, named migration — and add the kinds to ``prop.vocabulary.LedgerKind`` in
    the same change (a test pins the two together). See CONTRIBUTING.md, "Adding a ledger entry
    kind".
    """
    for kind in new_kinds:
        if not re.fullmatch(r"[A-Z][A-Z_]*", kind):
            raise ValueError(f"not a ledger kind name: {kind!r}")
    extend_check_values(db, "ledger_entries", "kind", *new_kinds)


@migrations()
def m001_accounts(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE prop_accounts (
            id INTEGER PRIMARY KEY,
            clone_id INTEGER NOT NULL CHECK (clone_id > 0),
            kind TEXT NOT NULL CHECK (kind IN ('sandbox', 'audition', 'race')),
            quote TEXT NOT NULL DEFAULT 'USDC',
            starting_balance TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'frozen', 'liquidated', 'finalized')),
            status_reason TEXT,
            rules TEXT NOT NULL,                   -- AccountRules as JSON (decimals as strings)
            peak_equity TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            started_at INTEGER NOT NULL,
            ended_at INTEGER,
            updated_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_prop_accounts_clone ON prop_accounts (clone_id, status)")


@migrations()
def m002_intents_orders_fills(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE prop_intents (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES prop_accounts (id),
            origin TEXT NOT NULL,                  -- manual | decision | trigger | admin
            decision_run_id INTEGER,               -- set when a decision run produced it
            symbol TEXT NOT NULL,
            action TEXT NOT NULL,
            payload TEXT NOT NULL,                 -- the TradeIntent as submitted (JSON)
            status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
            reject_code TEXT,
            gate_results TEXT NOT NULL,            -- JSON list of {code, passed, reason}
            idempotency_key TEXT UNIQUE,
            created_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_prop_intents_account ON prop_intents (account_id, created_at)")
    db.execute(
        """
        CREATE TABLE prop_orders (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES prop_accounts (id),
            intent_id INTEGER NOT NULL UNIQUE REFERENCES prop_intents (id),
            symbol TEXT NOT NULL,
            side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
            purpose TEXT NOT NULL CHECK (purpose IN ('OPEN', 'CLOSE')),
            type TEXT NOT NULL DEFAULT 'MARKET',
            qty TEXT NOT NULL,
            status TEXT NOT NULL,                  -- FILLED
            trigger TEXT,                          -- close trigger for CLOSE orders
            created_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE positions (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES prop_accounts (id),
            symbol TEXT NOT NULL,
            side TEXT NOT NULL CHECK (side IN ('LONG', 'SHORT')),
            status TEXT NOT NULL CHECK (status IN ('OPEN', 'CLOSED')),
            qty TEXT NOT NULL,                     -- open quantity (0 once closed)
            max_qty TEXT NOT NULL,                 -- largest quantity held
            entry_price TEXT NOT NULL,             -- weighted average
            leverage TEXT NOT NULL,
            margin TEXT NOT NULL,                  -- isolated margin held
            liquidation_price TEXT,
            stop TEXT,
            target TEXT,
            invalidation TEXT,
            invalidation_price TEXT,
            time_exit INTEGER,
            cooldown_until INTEGER,
            fees_paid TEXT NOT NULL DEFAULT '0',
            funding_paid TEXT NOT NULL DEFAULT '0', -- net funding credited (negative = paid)
            realized_pnl TEXT NOT NULL DEFAULT '0', -- gross price PnL realised so far
            exit_price TEXT,                       -- weighted average of closing fills
            close_trigger TEXT,
            last_mark_price TEXT,
            last_mark_at INTEGER,
            funded_until INTEGER,                  -- the last funding hour booked (epoch ms)
            opened_at INTEGER NOT NULL,
            closed_at INTEGER,
            updated_at INTEGER NOT NULL
        ) STRICT
        """
    )
    # At most one open position per account and symbol.
    db.execute(
        "CREATE UNIQUE INDEX idx_positions_one_open ON positions (account_id, symbol)"
        " WHERE status = 'OPEN'"
    )
    db.execute("CREATE INDEX idx_positions_account ON positions (account_id, status)")
    db.execute(
        """
        CREATE TABLE prop_fills (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES prop_accounts (id),
            order_id INTEGER NOT NULL UNIQUE REFERENCES prop_orders (id),
            position_id INTEGER NOT NULL REFERENCES positions (id),
            symbol TEXT NOT NULL,
            side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
            qty TEXT NOT NULL,
            price TEXT NOT NULL,
            reference_price TEXT NOT NULL,
            slippage_bps TEXT NOT NULL,
            notional TEXT NOT NULL,
            fee TEXT NOT NULL,
            fee_rate TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_prop_fills_account ON prop_fills (account_id, created_at)")
    db.execute("CREATE INDEX idx_prop_fills_position ON prop_fills (position_id)")


@migrations()
def m003_ledger(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE ledger_entries (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES prop_accounts (id),
            kind TEXT NOT NULL CHECK (kind IN ('DEPOSIT', 'FEE', 'REALIZED_PNL', 'FUNDING',
                                                'LIQUIDATION', 'ADJUSTMENT')),
            amount TEXT NOT NULL,                  -- signed Decimal
            balance_after TEXT NOT NULL,
            symbol TEXT,
            fill_id INTEGER REFERENCES prop_fills (id),
            order_id INTEGER REFERENCES prop_orders (id),
            position_id INTEGER REFERENCES positions (id),
            decision_run_id INTEGER,
            reason TEXT,
            idempotency_key TEXT UNIQUE,           -- funding hour, liquidation, ...
            created_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_ledger_account ON ledger_entries (account_id, id)")
    db.execute("CREATE INDEX idx_ledger_time ON ledger_entries (created_at)")
    db.execute("CREATE INDEX idx_ledger_kind ON ledger_entries (kind, account_id)")
    db.execute(
        "CREATE TRIGGER ledger_entries_append_only_update BEFORE UPDATE ON ledger_entries"
        " BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER ledger_entries_append_only_delete BEFORE DELETE ON ledger_entries"
        " BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END"
    )


@migrations()
def m004_snapshots(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE account_snapshots (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES prop_accounts (id),
            time INTEGER NOT NULL,                 -- the minute it was taken for
            balance TEXT NOT NULL,                 -- sum of ledger entries
            cash TEXT NOT NULL,                    -- balance − margin used
            margin_used TEXT NOT NULL,
            unrealized_pnl TEXT NOT NULL,
            equity TEXT NOT NULL,                  -- cash + margin + unrealized
            peak_equity TEXT NOT NULL,
            drawdown TEXT NOT NULL,                -- fraction below the peak
            open_positions INTEGER NOT NULL,
            last_ledger_id INTEGER,                -- the ledger entry the balance includes
            UNIQUE (account_id, time)
        ) STRICT
        """
    )


@migrations()
def m005_hot_path_indexes(db: Database) -> None:
    # The daily-trade gate counts an account's OPEN orders of the day on every intent, and the
    # cooldown gate looks for its closed positions still cooling down: without these, both
    # scan the account's whole history, which grows with every trade.
    db.execute(
        "CREATE INDEX idx_prop_orders_daily ON prop_orders (account_id, purpose, created_at)"
    )
    db.execute(
        "CREATE INDEX idx_positions_cooldown ON positions (account_id, cooldown_until)"
        " WHERE cooldown_until IS NOT NULL"
    )


@migrations()
def m006_scope_caller_keys(db: Database) -> None:
    # Callers' idempotency keys move into their account's and origin's namespace
    # (autotrader.prop.idempotency): until now "trigger:7:STOP" typed by hand took the key a stop
    # needed, and "run:1:0" the key of another account's decision run. A fill of a keyed intent
    # carries its intent's key, so both tables move. The new key is the old one behind a prefix,
    # hence longer: rewriting the longest keys first, no row ever collides with a key that is
    # still to be rewritten (two rows never map to the same new key).
    scoped = "i.origin || ':' || i.account_id || ':' || i.idempotency_key"
    caller = "i.origin IN ('manual', 'decision', 'desk') AND i.idempotency_key IS NOT NULL"
    for table, rows in (
        (
            "prop_fills",
            f"SELECT f.id, {scoped} FROM prop_fills f JOIN prop_orders o ON o.id = f.order_id"
            f" JOIN prop_intents i ON i.id = o.intent_id WHERE {caller}"
            " AND f.idempotency_key = i.idempotency_key ORDER BY length(f.idempotency_key) DESC",
        ),
        (
            "prop_intents",
            f"SELECT i.id, {scoped} FROM prop_intents i WHERE {caller}"
            " ORDER BY length(i.idempotency_key) DESC",
        ),
    ):
        for row_id, key in db.execute(rows).fetchall():
            db.execute(f"UPDATE {table} SET idempotency_key = ? WHERE id = ?", (key, row_id))


@migrations()
def m007_account_venue(db: Database) -> None:
    # Every existing account traded on paper; a live account's cap is the most its open
    # notional plus pending orders may ever reach (NULL: no cap, refused for the real venue).
    db.execute(
        "ALTER TABLE prop_accounts ADD COLUMN venue TEXT NOT NULL DEFAULT 'paper'"
        " CHECK (venue IN ('paper', 'hyperliquid-testnet', 'hyperliquid'))"
    )
    db.execute("ALTER TABLE prop_accounts ADD COLUMN deposit_cap TEXT")
