"""The only SQL for market-memory tables. Writes are idempotent upserts; callers group them in
``store.atomic()`` so a batch lands whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from autotrader.core.db import Store
from autotrader.market.models import (
    TIMEFRAME_MS,
    AssetInfo,
    Candle,
    FundingRate,
    MacroObservation,
    PredictionMarket,
)

SOURCE_PRIORITY = ("hyperliquid", "file", "synthetic")  # tie-break when two sources are as fresh

# -- assets -----------------------------------------------------------------------------------


def upsert_assets(store: Store, assets: Iterable[AssetInfo], *, now_ms: int) -> int:
    rows = [
        (
            a.symbol,
            a.ccxt_symbol,
            a.kind,
            a.base,
            a.quote,
            a.settle,
            a.amount_step,
            a.price_tick,
            a.min_notional,
            a.max_leverage,
            int(a.active),
            ",".join(a.channels),
            a.category,
            json.dumps(list(a.subcategories)),
            now_ms,
        )
        for a in assets
    ]
    store.conn.executemany(
        """
        INSERT INTO assets (symbol, ccxt_symbol, kind, base, quote, settle, amount_step, price_tick,
            min_notional, max_leverage, active, channels, category, subcategories, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (symbol) DO UPDATE SET
            ccxt_symbol = excluded.ccxt_symbol, kind = excluded.kind, base = excluded.base,
            quote = excluded.quote, settle = excluded.settle, amount_step = excluded.amount_step,
            price_tick = excluded.price_tick, min_notional = excluded.min_notional,
            max_leverage = excluded.max_leverage, active = excluded.active,
            channels = excluded.channels, category = excluded.category,
            subcategories = excluded.subcategories, updated_at = excluded.updated_at
        """,
        rows,
    )
    return len(rows)


def _asset(row: dict) -> AssetInfo:
    return AssetInfo(
        symbol=row["symbol"],
        ccxt_symbol=row["ccxt_symbol"],
        kind=row["kind"],
        base=row["base"],
        quote=row["quote"],
        settle=row["settle"],
        amount_step=row["amount_step"],
        price_tick=row["price_tick"],
        min_notional=row["min_notional"],
        max_leverage=row["max_leverage"],
        active=bool(row["active"]),
        channels=tuple(c for c in row["channels"].split(",") if c),
        category=row["category"],
        subcategories=tuple(json.loads(row["subcategories"])),
    )


def list_assets(
    store: Store, *, kind: str | None = None, active_only: bool = False
) -> list[AssetInfo]:
    sql = "SELECT * FROM assets WHERE 1 = 1"
    params: list = []
    if kind:
        sql += " AND kind = ?"
        params.append(kind)
    if active_only:
        sql += " AND active = 1"
    return [_asset(row) for row in store.query(sql + " ORDER BY symbol", params)]


def get_asset(store: Store, symbol: str) -> AssetInfo | None:
    row = store.query_one("SELECT * FROM assets WHERE symbol = ?", (symbol,))
    return _asset(row) if row else None


def count_assets(store: Store) -> int:
    return store.execute("SELECT COUNT(*) FROM assets").fetchone()[0]


# -- candles ----------------------------------------------------------------------------------

_CANDLE_UPSERT = """
    INSERT INTO candles (source, symbol, timeframe, open_time, open, high, low, close, volume, bars)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (source, symbol, timeframe, open_time) DO UPDATE SET
        open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
        volume = excluded.volume, bars = excluded.bars
"""


def upsert_candles(store: Store, source: str, candles: Iterable[Candle], *, bars: int = 1) -> int:
    """Insert or replace candles (re-running never duplicates). Returns rows written."""
    cursor = store.conn.executemany(
        _CANDLE_UPSERT,
        (
            (
                source,
                c.symbol,
                c.timeframe,
                c.open_time,
                c.open,
                c.high,
                c.low,
                c.close,
                c.volume,
                bars,
            )
            for c in candles
        ),
    )
    return cursor.rowcount


def upsert_rollups(store: Store, source: str, rollups: Iterable[tuple[Candle, int]]) -> int:
    cursor = store.conn.executemany(
        _CANDLE_UPSERT,
        (
            (
                source,
                c.symbol,
                c.timeframe,
                c.open_time,
                c.open,
                c.high,
                c.low,
                c.close,
                c.volume,
                n,
            )
            for c, n in rollups
        ),
    )
    return cursor.rowcount


def candles_between(
    store: Store,
    source: str,
    symbol: str,
    timeframe: str,
    since_ms: int,
    until_ms: int | None = None,
) -> list[Candle]:
    """Candles with ``since_ms <= open_time`` (and ``<= until_ms`` when given), ascending."""
    sql = (
        "SELECT symbol, timeframe, open_time, open, high, low, close, volume FROM candles"
        " WHERE source = ? AND symbol = ? AND timeframe = ? AND open_time >= ?"
    )
    params: list = [source, symbol, timeframe, since_ms]
    if until_ms is not None:
        sql += " AND open_time <= ?"
        params.append(until_ms)
    rows = store.execute(sql + " ORDER BY open_time", params).fetchall()
    return [Candle(*row) for row in rows]


def closes(
    store: Store, source: str, symbol: str, timeframe: str, *, limit: int
) -> tuple[list[int], list[float]]:
    """The newest ``limit`` (open_time, close) pairs of a series, ascending."""
    rows = store.execute(
        "SELECT open_time, close FROM (SELECT open_time, close FROM candles"
        " WHERE source = ? AND symbol = ? AND timeframe = ? ORDER BY open_time DESC LIMIT ?)"
        " ORDER BY open_time",
        (source, symbol, timeframe, limit),
    ).fetchall()
    return [r[0] for r in rows], [r[1] for r in rows]


def open_times(store: Store, source: str, symbol: str, timeframe: str, since_ms: int) -> list[int]:
    rows = store.execute(
        "SELECT open_time FROM candles WHERE source = ? AND symbol = ? AND timeframe = ?"
        " AND open_time >= ? ORDER BY open_time",
        (source, symbol, timeframe, since_ms),
    ).fetchall()
    return [r[0] for r in rows]


@dataclass(frozen=True)
class Series:
    """One stored candle series and its extent."""

    source: str
    symbol: str
    timeframe: str
    first_time: int
    newest_time: int
    rows: int


def series(
    store: Store,
    *,
    symbol: str | None = None,
    timeframe: str | None = None,
    until_ms: int | None = None,
) -> list[Series]:
    """Stored candle series and their extent, counting only bars opened by ``until_ms`` when
    given (a replay clock sees no bar from its future)."""
    sql = (
        "SELECT source, symbol, timeframe, MIN(open_time), MAX(open_time), COUNT(*)"
        " FROM candles WHERE 1 = 1"
    )
    params: list = []
    if symbol:
        sql += " AND symbol = ?"
        params.append(symbol)
    if timeframe:
        sql += " AND timeframe = ?"
        params.append(timeframe)
    if until_ms is not None:
        sql += " AND open_time <= ?"
        params.append(until_ms)
    rows = store.execute(sql + " GROUP BY source, symbol, timeframe", params).fetchall()
    return [Series(*row) for row in rows]


def sources(store: Store) -> list[str]:
    """Every candle source present, in ``SOURCE_PRIORITY`` order then by name."""
    present = {row[0] for row in store.execute("SELECT DISTINCT source FROM ingest_cursors")}
    present |= set(SOURCE_PRIORITY)
    return sorted(
        present, key=lambda s: (SOURCE_PRIORITY.index(s) if s in SOURCE_PRIORITY else 99, s)
    )


def freshest_series(
    store: Store, symbol: str, timeframes: Sequence[str], *, until_ms: int | None = None
) -> Series | None:
    """The series of ``symbol`` (among ``timeframes``) whose newest bar (opened by ``until_ms``
    when given) closes last; ties go to the finer timeframe, then to ``SOURCE_PRIORITY``.

    One primary-key seek per (source, timeframe), so it costs the same on a store of one symbol
    or of hundreds. ``rows`` is not counted here (0); ``first_time`` is the series' first bar.
    """
    limit = until_ms if until_ms is not None else 2**62
    best: tuple | None = None
    for priority, source in enumerate(sources(store)):
        for timeframe in timeframes:
            newest = store.execute(
                "SELECT MAX(open_time) FROM candles WHERE source = ? AND symbol = ?"
                " AND timeframe = ? AND open_time <= ?",
                (source, symbol, timeframe, limit),
            ).fetchone()[0]
            if newest is None:
                continue
            rank = (-(newest + TIMEFRAME_MS[timeframe]), TIMEFRAME_MS[timeframe], priority)
            if best is None or rank < best[0]:
                best = (rank, source, timeframe, newest)
    if best is None:
        return None
    _, source, timeframe, newest = best
    first = store.execute(
        "SELECT MIN(open_time) FROM candles WHERE source = ? AND symbol = ? AND timeframe = ?",
        (source, symbol, timeframe),
    ).fetchone()[0]
    return Series(source, symbol, timeframe, first, newest, 0)


def count_bars(store: Store, source: str, symbol: str, timeframe: str, until_ms: int) -> int:
    return store.execute(
        "SELECT COUNT(*) FROM candles WHERE source = ? AND symbol = ? AND timeframe = ?"
        " AND open_time <= ?",
        (source, symbol, timeframe, until_ms),
    ).fetchone()[0]


def latest_candle(
    store: Store, source: str, symbol: str, timeframe: str, *, until_ms: int | None = None
) -> dict | None:
    """The newest candle of a series (opened by ``until_ms`` when given) joined with its
    indicator row (indicators may be None)."""
    return store.query_one(
        """
        SELECT c.source, c.symbol, c.timeframe, c.open_time, c.open, c.high, c.low, c.close,
               c.volume, c.bars, i.rsi14, i.bb_upper, i.bb_middle, i.bb_lower, i.sma20, i.ema20,
               i.macd, i.macd_signal, i.macd_hist
        FROM candles c LEFT JOIN indicators i USING (source, symbol, timeframe, open_time)
        WHERE c.source = ? AND c.symbol = ? AND c.timeframe = ? AND c.open_time <= ?
        ORDER BY c.open_time DESC LIMIT 1
        """,
        (source, symbol, timeframe, until_ms if until_ms is not None else 2**62),
    )


def upsert_indicators(
    store: Store, source: str, symbol: str, timeframe: str, rows: Sequence[tuple]
) -> int:
    """Rows are ``indicators.ROW_COLUMNS`` tuples: (open_time, rsi14, ..., macd_hist)."""
    cursor = store.conn.executemany(
        """
        INSERT INTO indicators (source, symbol, timeframe, open_time, rsi14, bb_upper, bb_middle,
            bb_lower, sma20, ema20, macd, macd_signal, macd_hist)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (source, symbol, timeframe, open_time) DO UPDATE SET
            rsi14 = excluded.rsi14, bb_upper = excluded.bb_upper, bb_middle = excluded.bb_middle,
            bb_lower = excluded.bb_lower, sma20 = excluded.sma20, ema20 = excluded.ema20,
            macd = excluded.macd, macd_signal = excluded.macd_signal, macd_hist = excluded.macd_hist
        """,
        ((source, symbol, timeframe, *row) for row in rows),
    )
    return cursor.rowcount


def indicators_between(
    store: Store, source: str, symbol: str, timeframe: str, since_ms: int
) -> list[dict]:
    return store.query(
        "SELECT * FROM indicators WHERE source = ? AND symbol = ? AND timeframe = ?"
        " AND open_time >= ? ORDER BY open_time",
        (source, symbol, timeframe, since_ms),
    )


# -- funding, prediction markets, macro ---------------------------------------------------------


def upsert_funding(store: Store, source: str, rates: Iterable[FundingRate]) -> int:
    cursor = store.conn.executemany(
        """
        INSERT INTO funding_rates (source, symbol, time, rate, predicted_rate, mark_price,
            oracle_price, open_interest)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (source, symbol, time) DO UPDATE SET
            rate = excluded.rate, predicted_rate = excluded.predicted_rate,
            mark_price = excluded.mark_price, oracle_price = excluded.oracle_price,
            open_interest = excluded.open_interest
        """,
        (
            (
                source,
                r.symbol,
                r.time,
                r.rate,
                r.predicted_rate,
                r.mark_price,
                r.oracle_price,
                r.open_interest,
            )
            for r in rates
        ),
    )
    return cursor.rowcount


def funding_between(store: Store, symbol: str, since_ms: int, until_ms: int) -> list[dict]:
    """Funding observations of ``symbol`` in ``[since_ms, until_ms]``, ascending, any source."""
    return store.query(
        "SELECT * FROM funding_rates WHERE symbol = ? AND time >= ? AND time <= ? ORDER BY time",
        (symbol, since_ms, until_ms),
    )


def latest_funding(store: Store, symbol: str) -> dict | None:
    return store.query_one(
        "SELECT * FROM funding_rates WHERE symbol = ? ORDER BY time DESC LIMIT 1", (symbol,)
    )


def upsert_prediction_markets(store: Store, markets: Iterable[PredictionMarket]) -> int:
    written = 0
    for m in markets:
        outcomes = json.dumps([{"name": o.name, "token_id": o.token_id} for o in m.outcomes])
        store.execute(
            """
            INSERT INTO prediction_markets (market_id, slug, question, event_slug, end_time, active,
                closed, volume, liquidity, tags, outcomes, first_seen_at, observed_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (market_id) DO UPDATE SET
                slug = excluded.slug, question = excluded.question,
                event_slug = excluded.event_slug, end_time = excluded.end_time,
                active = excluded.active, closed = excluded.closed, volume = excluded.volume,
                liquidity = excluded.liquidity, tags = excluded.tags, outcomes = excluded.outcomes,
                observed_at = MAX(prediction_markets.observed_at, excluded.observed_at)
            """,
            (
                m.market_id,
                m.slug,
                m.question,
                m.event_slug,
                m.end_time,
                int(m.active),
                int(m.closed),
                m.volume,
                m.liquidity,
                json.dumps(list(m.tags)),
                outcomes,
                m.observed_at,
                m.observed_at,
            ),
        )
        store.conn.executemany(
            "INSERT OR REPLACE INTO prediction_prices (market_id, outcome, time, price)"
            " VALUES (?, ?, ?, ?)",
            [
                (m.market_id, o.name, m.observed_at, o.price)
                for o in m.outcomes
                if o.price is not None
            ],
        )
        written += 1
    return written


def prediction_markets(store: Store, *, active_only: bool = True, limit: int = 100) -> list[dict]:
    sql = "SELECT * FROM prediction_markets"
    if active_only:
        sql += " WHERE active = 1 AND closed = 0"
    return store.query(sql + " ORDER BY end_time IS NULL, end_time, market_id LIMIT ?", (limit,))


def latest_prediction_prices(store: Store, market_id: str) -> dict[str, float]:
    rows = store.query(
        "SELECT outcome, price FROM prediction_prices p WHERE market_id = ? AND time ="
        " (SELECT MAX(time) FROM prediction_prices WHERE market_id = p.market_id)",
        (market_id,),
    )
    return {row["outcome"]: row["price"] for row in rows}


def upsert_macro(store: Store, observations: Iterable[MacroObservation]) -> int:
    cursor = store.conn.executemany(
        "INSERT INTO macro_observations (scope, subject, metric, time, value)"
        " VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (scope, subject, metric, time) DO UPDATE SET value = excluded.value",
        ((o.scope, o.subject, o.metric, o.time, o.value) for o in observations),
    )
    return cursor.rowcount


def latest_macro(store: Store, scope: str, subject: str) -> dict[str, tuple[int, float]]:
    """The newest value of every metric of one subject: ``{metric: (time, value)}``."""
    rows = store.query(
        "SELECT metric, MAX(time) AS time, value FROM macro_observations"
        " WHERE scope = ? AND subject = ? GROUP BY metric ORDER BY metric",
        (scope, subject),
    )
    return {row["metric"]: (row["time"], row["value"]) for row in rows}


# -- cursors and health -----------------------------------------------------------------------


def cursor(store: Store, source: str, channel: str, subject: str) -> dict | None:
    return store.query_one(
        "SELECT * FROM ingest_cursors WHERE source = ? AND channel = ? AND subject = ?",
        (source, channel, subject),
    )


def record_success(
    store: Store,
    source: str,
    channel: str,
    subject: str,
    *,
    now_ms: int,
    newest_time: int | None,
    written: int,
    rejected: int = 0,
    last_rejection: str | None = None,
) -> None:
    """Advance a cursor after a successful fetch (its newest time never moves backwards)."""
    store.execute(
        """
        INSERT INTO ingest_cursors (source, channel, subject, newest_time, last_success_at,
            rows_written, rows_rejected, last_rejection)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (source, channel, subject) DO UPDATE SET
            newest_time = MAX(COALESCE(ingest_cursors.newest_time, 0),
                              COALESCE(excluded.newest_time, 0)),
            last_success_at = excluded.last_success_at,
            rows_written = ingest_cursors.rows_written + excluded.rows_written,
            rows_rejected = ingest_cursors.rows_rejected + excluded.rows_rejected,
            last_rejection = COALESCE(excluded.last_rejection, ingest_cursors.last_rejection)
        """,
        (source, channel, subject, newest_time, now_ms, written, rejected, last_rejection),
    )


def record_error(
    store: Store, source: str, channel: str, subject: str, *, now_ms: int, error: str
) -> None:
    store.execute(
        """
        INSERT INTO ingest_cursors (source, channel, subject, last_error_at, last_error)
        VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (source, channel, subject) DO UPDATE SET
            last_error_at = excluded.last_error_at, last_error = excluded.last_error
        """,
        (source, channel, subject, now_ms, error[:500]),
    )


def cursors(store: Store) -> list[dict]:
    return store.query("SELECT * FROM ingest_cursors ORDER BY source, channel, subject")


def count_rows_since(
    store: Store, table: str, time_column: str, since_ms: int, **where: str
) -> int:
    """Rows of a market table newer than ``since_ms`` (for ``ingest status``)."""
    allowed = {
        "candles": "open_time",
        "funding_rates": "time",
        "prediction_prices": "time",
        "macro_observations": "time",
    }
    if allowed.get(table) != time_column:
        raise ValueError(f"not a market time series: {table}.{time_column}")
    sql = f"SELECT COUNT(*) FROM {table} WHERE {time_column} >= ?"
    params: list = [since_ms]
    for column, value in where.items():
        if column not in {"source", "symbol", "timeframe"}:
            raise ValueError(f"cannot filter on {column}")
        sql += f" AND {column} = ?"
        params.append(value)
    return store.execute(sql, params).fetchone()[0]


def count_macro_since(store: Store, kinds: Iterable[tuple[str, str]], since_ms: int) -> int:
    """DefiLlama observations newer than ``since_ms`` whose (scope, metric prefix) is in
    ``kinds``."""
    total = 0
    for scope, prefix in kinds:
        total += store.execute(
            "SELECT COUNT(*) FROM macro_observations"
            " WHERE scope = ? AND metric LIKE ? AND time >= ?",
            (scope, f"{prefix}%", since_ms),
        ).fetchone()[0]
    return total


# -- retention --------------------------------------------------------------------------------


def prune_series(store: Store, timeframe: str, keep_ms: int) -> int:
    """Delete candles and indicators of ``timeframe`` older than each series' newest bar minus
    ``keep_ms``. Retention is relative to each series, so a paused feed or a replayed file keeps
    its recent history instead of being wiped by the wall clock."""
    deleted = 0
    for table in ("indicators", "candles"):
        deleted += store.execute(
            f"""
            DELETE FROM {table} WHERE timeframe = ? AND open_time < (
                SELECT MAX(c.open_time) FROM candles c
                WHERE c.source = {table}.source AND c.symbol = {table}.symbol
                  AND c.timeframe = {table}.timeframe) - ?
            """,
            (timeframe, keep_ms),
        ).rowcount
    return deleted


def prune_before(store: Store, table: str, cutoff_ms: int) -> int:
    columns = {"funding_rates": "time", "prediction_prices": "time", "macro_observations": "time"}
    if table not in columns:
        raise ValueError(f"cannot prune {table}")
    return store.execute(f"DELETE FROM {table} WHERE {columns[table]} < ?", (cutoff_ms,)).rowcount
