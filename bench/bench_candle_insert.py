"""Benchmark: bulk insert of 1m candles through the store vs a raw ``sqlite3`` ``executemany``.

Store path: ``repo.upsert_candles`` inside ``store.atomic()`` on a fresh ``Store`` with every
migration applied, from a list of ``Candle`` objects. Baseline, in the same run: a plain
``sqlite3`` connection with the same pragmas (WAL, synchronous NORMAL) ``executemany``-ing the
very same rows, as tuples, into an identical fresh ``candles`` table in one transaction. Only the
insert and its commit are timed; each repetition starts from a new file. Target: the store path
reaches at least 0.8× the raw rows/s.

Run with ``python -m bench candle_insert [--quick]``.
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from autotrader.core.db import Store
from autotrader.market import repo
from autotrader.market.models import Candle
from autotrader.schema import MIGRATION_SETS
from bench._harness import BenchResult

START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
MINUTE_MS = 60_000
TARGET_RATIO = 0.8
SYMBOLS = ("BTC", "ETH", "SOL", "ADA", "MEME")


def _candles_ddl() -> list[str]:
    """The candles table and its indexes exactly as the migrations create them (read back from a
    migrated store), so the raw baseline writes into the same structure."""
    with tempfile.TemporaryDirectory(prefix="bench-ddl-") as folder:
        store = Store(Path(folder) / "ddl.db", migrations=MIGRATION_SETS)
        try:
            rows = store.query(
                "SELECT sql FROM sqlite_master WHERE tbl_name = 'candles' AND sql IS NOT NULL"
                " ORDER BY type DESC"  # the table before its indexes
            )
        finally:
            store.close()
    return [row["sql"] for row in rows]


_RAW_INSERT = "INSERT INTO candles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def _candles(count: int) -> list[Candle]:
    """``count`` 1m candles spread over a few symbols, each series in time order."""
    per_symbol = -(-count // len(SYMBOLS))
    candles = []
    for s, symbol in enumerate(SYMBOLS):
        for i in range(min(per_symbol, count - s * per_symbol)):
            price = 100.0 + s + (i % 97) * 0.01
            candles.append(
                Candle(
                    symbol,
                    "1m",
                    START_MS + i * MINUTE_MS,
                    price,
                    price + 0.5,
                    price - 0.5,
                    price + 0.1,
                    10.0 + i % 7,
                )
            )
    return candles


def _as_rows(candles: list[Candle]) -> list[tuple]:
    return [
        ("bench", c.symbol, c.timeframe, c.open_time, c.open, c.high, c.low, c.close, c.volume, 1)
        for c in candles
    ]


def _store_insert(folder: Path, candles: list[Candle]) -> float:
    store = Store(folder / "store.db", migrations=MIGRATION_SETS)
    try:
        start = time.perf_counter()
        with store.atomic():
            written = repo.upsert_candles(store, "bench", candles)
        elapsed = time.perf_counter() - start
    finally:
        store.close()
    assert written == len(candles), (written, len(candles))
    return elapsed


def _raw_insert(folder: Path, rows: list[tuple]) -> float:
    conn = sqlite3.connect(folder / "raw.db", isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        for statement in _candles_ddl():
            conn.execute(statement)
        start = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany(_RAW_INSERT, rows)
        conn.execute("COMMIT")
        elapsed = time.perf_counter() - start
    finally:
        conn.close()
    return elapsed


def _timed(insert: Callable[[Path], float]) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-insert-") as folder:
        return insert(Path(folder))


def run(quick: bool = False) -> list[BenchResult]:
    count = 20_000 if quick else 200_000
    repeat = 3 if quick else 5
    candles = _candles(count)
    rows = _as_rows(candles)
    store = lambda folder: _store_insert(folder, candles)  # noqa: E731
    raw = lambda folder: _raw_insert(folder, rows)  # noqa: E731
    _timed(raw), _timed(store)  # warm-up runs, not measured
    # interleaved, so a noisy neighbour slows both alike
    raw_times, store_times = [], []
    for _ in range(repeat):
        raw_times.append(_timed(raw))
        store_times.append(_timed(store))
    store_rate = count / statistics.median(store_times)
    raw_rate = count / statistics.median(raw_times)
    return [
        BenchResult(
            name=f"insert {count:,} 1m candles via store (rows/s)",
            value=store_rate,
            unit="rows/s",
            baseline=raw_rate,
            ratio_label="vs raw sqlite3 executemany",
            target=f">= {TARGET_RATIO}x raw",
            passed=store_rate >= TARGET_RATIO * raw_rate,
        )
    ]


if __name__ == "__main__":
    for result in run(quick="--quick" in sys.argv[1:]):
        print(result)
