"""The only SQL for the asset registry, candles, indicators and retention. Funding, Polymarket
and DefiLlama rows are in ``observations``; ingest cursors in ``cursors``. Writes are idempotent
upserts; callers group them in ``store.atomic()`` so a batch lands whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from autotrader.core.db import Store
from autotrader.market.models import (
    INDICATOR_COLUMNS,
    TIMEFRAME_MS,
    AssetInfo,
    Candle,
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
    store.executemany(
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
    return store.scalar("SELECT COUNT(*) FROM assets")


def registry_stamp(store: Store) -> tuple:
    """A value that changes whenever the registry is written (every upsert stamps
    ``updated_at``): what a cache of results computed from the registry is keyed by."""
    row = store.query_one(
        "SELECT COUNT(*) AS n, MAX(updated_at) AS newest, TOTAL(updated_at) AS stamps FROM assets"
    )
    return (row["n"], row["newest"], row["stamps"])


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
    written = store.executemany(
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
    return written


def upsert_rollups(store: Store, source: str, rollups: Iterable[tuple[Candle, int]]) -> int:
    written = store.executemany(
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
    return written


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
    rows = list(store.tuples(sql + " ORDER BY open_time", params))
    return [Candle(*row) for row in rows]


def bar_ranges(
    store: Store, symbol: str, timeframes: Sequence[str], *, since_ms: int, until_ms: int
) -> Iterable[tuple[str, str, int, float, float]]:
    """``(source, timeframe, open_time, low, high)`` of every bar of ``symbol`` in
    ``timeframes`` opened in ``[since_ms, until_ms]``, by series (source, timeframe) then time,
    streamed: the ranges ``ledger verify`` checks fill prices against."""
    return store.tuples(
        "SELECT source, timeframe, open_time, low, high FROM candles WHERE symbol = ?"
        f" AND timeframe IN ({', '.join('?' * len(timeframes))})"
        " AND open_time BETWEEN ? AND ? ORDER BY source, timeframe, open_time",
        [symbol, *timeframes, since_ms, until_ms],
    )


def candle_rows(
    store: Store, source: str, symbol: str, timeframe: str, since_ms: int, until_ms: int
) -> list[tuple[int, float, float, float, float, float]]:
    """``(open_time, open, high, low, close, volume)`` of the candles opened in
    ``[since_ms, until_ms]``, ascending: :func:`candles_between` without a ``Candle`` per row,
    for reads of a whole history (a backtest's months of 1m bars)."""
    return list(
        store.tuples(
            "SELECT open_time, open, high, low, close, volume FROM candles"
            " WHERE source = ? AND symbol = ? AND timeframe = ? AND open_time BETWEEN ? AND ?"
            " ORDER BY open_time",
            (source, symbol, timeframe, since_ms, until_ms),
        )
    )


def closes(
    store: Store, source: str, symbol: str, timeframe: str, *, limit: int
) -> tuple[list[int], list[float]]:
    """The newest ``limit`` (open_time, close) pairs of a series, ascending."""
    rows = list(
        store.tuples(
            "SELECT open_time, close FROM (SELECT open_time, close FROM candles"
            " WHERE source = ? AND symbol = ? AND timeframe = ? ORDER BY open_time DESC LIMIT ?)"
            " ORDER BY open_time",
            (source, symbol, timeframe, limit),
        )
    )
    return [r[0] for r in rows], [r[1] for r in rows]


def open_times(store: Store, source: str, symbol: str, timeframe: str, since_ms: int) -> list[int]:
    rows = list(
        store.tuples(
            "SELECT open_time FROM candles WHERE source = ? AND symbol = ? AND timeframe = ?"
            " AND open_time >= ? ORDER BY open_time",
            (source, symbol, timeframe, since_ms),
        )
    )
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
    rows = list(store.tuples(sql + " GROUP BY source, symbol, timeframe", params))
    return [Series(*row) for row in rows]


def sources(store: Store) -> list[str]:
    """Every candle source present, in ``SOURCE_PRIORITY`` order then by name."""
    present = {row[0] for row in store.tuples("SELECT DISTINCT source FROM ingest_cursors")}
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
            newest = store.scalar(
                "SELECT MAX(open_time) FROM candles WHERE source = ? AND symbol = ?"
                " AND timeframe = ? AND open_time <= ?",
                (source, symbol, timeframe, limit),
            )
            if newest is None:
                continue
            rank = (-(newest + TIMEFRAME_MS[timeframe]), TIMEFRAME_MS[timeframe], priority)
            if best is None or rank < best[0]:
                best = (rank, source, timeframe, newest)
    if best is None:
        return None
    _, source, timeframe, newest = best
    first = store.scalar(
        "SELECT MIN(open_time) FROM candles WHERE source = ? AND symbol = ? AND timeframe = ?",
        (source, symbol, timeframe),
    )
    return Series(source, symbol, timeframe, first, newest, 0)


def count_candles(
    store: Store, source: str, symbol: str, timeframe: str, *, since_ms: int | None = None
) -> int:
    """How many candles one series holds (those opening at or after ``since_ms`` when given)."""
    sql = "SELECT COUNT(*) FROM candles WHERE source = ? AND symbol = ? AND timeframe = ?"
    params: list = [source, symbol, timeframe]
    if since_ms is not None:
        sql += " AND open_time >= ?"
        params.append(since_ms)
    return store.scalar(sql, params)


def count_bars(store: Store, source: str, symbol: str, timeframe: str, until_ms: int) -> int:
    return store.scalar(
        "SELECT COUNT(*) FROM candles WHERE source = ? AND symbol = ? AND timeframe = ?"
        " AND open_time <= ?",
        (source, symbol, timeframe, until_ms),
    )


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
    written = store.executemany(
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
    return written


def indicators_between(
    store: Store,
    source: str,
    symbol: str,
    timeframe: str,
    since_ms: int,
    until_ms: int | None = None,
) -> list[dict]:
    """Indicator rows with ``since_ms <= open_time`` (and ``<= until_ms`` when given),
    ascending. Bound it in SQL: under a replay clock the rows after the decision time are the
    future, and reading them to drop them in Python cost 40 % of a replay."""
    sql = (
        "SELECT * FROM indicators WHERE source = ? AND symbol = ? AND timeframe = ?"
        " AND open_time >= ?"
    )
    params: list = [source, symbol, timeframe, since_ms]
    if until_ms is not None:
        sql += " AND open_time <= ?"
        params.append(until_ms)
    return store.query(sql + " ORDER BY open_time", params)


def indicator_rows(
    store: Store, source: str, symbol: str, timeframe: str, *, until_ms: int, limit: int
) -> list[tuple]:
    """The newest ``limit`` indicator rows opened by ``until_ms``, ascending:
    ``(open_time, *INDICATOR_COLUMNS)``."""
    rows = list(
        store.tuples(
            f"SELECT open_time, {', '.join(INDICATOR_COLUMNS)} FROM indicators"
            " WHERE source = ? AND symbol = ? AND timeframe = ? AND open_time <= ?"
            " ORDER BY open_time DESC LIMIT ?",
            (source, symbol, timeframe, until_ms, limit),
        )
    )
    return rows[::-1]


# -- health ------------------------------------------------------------------------------------


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
    return store.scalar(sql, params)


# -- retention --------------------------------------------------------------------------------


def prune_candles(store: Store, timeframe: str, *, before_ms: int) -> int:
    """Delete candles of ``timeframe`` that open before ``before_ms``, with their indicator
    rows; returns the rows deleted (both tables)."""
    return sum(
        store.execute(
            f"DELETE FROM {table} WHERE timeframe = ? AND open_time < ?", (timeframe, before_ms)
        )
        for table in ("indicators", "candles")
    )


def prune_before(store: Store, table: str, cutoff_ms: int) -> int:
    columns = {"funding_rates": "time", "prediction_prices": "time", "macro_observations": "time"}
    if table not in columns:
        raise ValueError(f"cannot prune {table}")
    return store.execute(f"DELETE FROM {table} WHERE {columns[table]} < ?", (cutoff_ms,))
