"""Tables of market memory: the asset registry, candles, indicators, funding, prediction
markets, macro observations, and per-channel ingest cursors. Market data is global (not per
clone): every strategy reads these same rows.

Candles and indicators are floats (analytics); times are UTC epoch milliseconds.
"""

from __future__ import annotations

from autotrader.core._sqlite_utils import Database, Migrations

migrations = Migrations("market")


@migrations()
def m001_assets(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE assets (
            symbol TEXT PRIMARY KEY,               -- "BTC" (perp) or "PURR/USDC" (spot)
            ccxt_symbol TEXT NOT NULL UNIQUE,      -- "BTC/USDC:USDC"
            kind TEXT NOT NULL CHECK (kind IN ('perp', 'spot')),
            base TEXT NOT NULL,
            quote TEXT NOT NULL,
            settle TEXT,
            amount_step TEXT,                      -- Decimal text
            price_tick TEXT,
            min_notional TEXT,
            max_leverage INTEGER,
            active INTEGER NOT NULL,
            channels TEXT NOT NULL,                -- comma list: ohlcv,funding
            category TEXT NOT NULL,
            subcategories TEXT NOT NULL,           -- JSON list
            updated_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_assets_category ON assets (category)")


@migrations()
def m002_candles_and_indicators(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE candles (
            source TEXT NOT NULL,                  -- hyperliquid | file | synthetic
            symbol TEXT NOT NULL,
            timeframe TEXT NOT NULL,               -- 1m | 5m (source) or 1h (rolled up)
            open_time INTEGER NOT NULL,
            open REAL NOT NULL,
            high REAL NOT NULL,
            low REAL NOT NULL,
            close REAL NOT NULL,
            volume REAL NOT NULL,
            bars INTEGER NOT NULL DEFAULT 1,       -- source bars in a rollup (1 for a source bar)
            PRIMARY KEY (source, symbol, timeframe, open_time)
        ) STRICT, WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE indicators (
            source TEXT NOT NULL,
            symbol TEXT NOT NULL,
            timeframe TEXT NOT NULL,
            open_time INTEGER NOT NULL,
            rsi14 REAL,
            bb_upper REAL,
            bb_middle REAL,
            bb_lower REAL,
            sma20 REAL,
            ema20 REAL,
            macd REAL,
            macd_signal REAL,
            macd_hist REAL,
            PRIMARY KEY (source, symbol, timeframe, open_time)
        ) STRICT, WITHOUT ROWID
        """
    )


@migrations()
def m003_funding(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE funding_rates (
            source TEXT NOT NULL,
            symbol TEXT NOT NULL,
            time INTEGER NOT NULL,
            rate REAL NOT NULL,                    -- hourly, as a fraction
            predicted_rate REAL,
            mark_price REAL,
            oracle_price REAL,
            open_interest REAL,
            PRIMARY KEY (source, symbol, time)
        ) STRICT, WITHOUT ROWID
        """
    )


@migrations()
def m004_prediction_markets(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE prediction_markets (
            market_id TEXT PRIMARY KEY,
            slug TEXT NOT NULL,
            question TEXT NOT NULL,
            event_slug TEXT,
            end_time INTEGER,
            active INTEGER NOT NULL,
            closed INTEGER NOT NULL,
            volume REAL,
            liquidity REAL,
            tags TEXT NOT NULL,                    -- JSON list
            outcomes TEXT NOT NULL,                -- JSON list of {name, token_id}
            first_seen_at INTEGER NOT NULL,
            observed_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_prediction_markets_end ON prediction_markets (end_time)")
    db.execute(
        """
        CREATE TABLE prediction_prices (
            market_id TEXT NOT NULL REFERENCES prediction_markets (market_id) ON DELETE CASCADE,
            outcome TEXT NOT NULL,
            time INTEGER NOT NULL,
            price REAL NOT NULL,
            PRIMARY KEY (market_id, outcome, time)
        ) STRICT, WITHOUT ROWID
        """
    )


@migrations()
def m005_macro(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE macro_observations (
            scope TEXT NOT NULL,                   -- global | chain | protocol | stablecoin
            subject TEXT NOT NULL,
            metric TEXT NOT NULL,
            time INTEGER NOT NULL,
            value REAL NOT NULL,
            PRIMARY KEY (scope, subject, metric, time)
        ) STRICT, WITHOUT ROWID
        """
    )


@migrations()
def m006_ingest_cursors(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE ingest_cursors (
            source TEXT NOT NULL,
            channel TEXT NOT NULL,                 -- ohlcv | funding | markets | chains | ...
            subject TEXT NOT NULL,                 -- a symbol, or '*' for a whole channel
            newest_time INTEGER,                   -- newest data point stored (epoch ms)
            last_success_at INTEGER,
            last_error_at INTEGER,
            last_error TEXT,
            rows_written INTEGER NOT NULL DEFAULT 0,
            rows_rejected INTEGER NOT NULL DEFAULT 0,
            last_rejection TEXT,
            PRIMARY KEY (source, channel, subject)
        ) STRICT
        """
    )


@migrations()
def m007_candles_by_symbol(db: Database) -> None:
    # Readers ask "the freshest series of BTC" without knowing its source: without this index
    # that question scans every candle of every symbol.
    db.execute("CREATE INDEX idx_candles_symbol ON candles (symbol, timeframe, open_time)")
