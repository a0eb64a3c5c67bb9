"""Benchmark: one ``ingest stream`` tick — every symbol's bar still trading, rewritten.

Measured: what a stream tick does to the store when each symbol's current bar was pushed again
(the common case, every tick): ``Ingestor.store_pushed`` per symbol — the poller's path:
future check, upsert, rollup into the hour, indicators on 1m and 1h, cursor — on a store holding
a day of 1m history per symbol. Baseline, in the same run: the same bars upserted alone, one
transaction per symbol, no derivation (the floor any write of them pays). Target: the tick fits
in its own interval (5 s) at 200 symbols, so a stream never falls behind its pushes; the
ratio of the two is the share of a core the stream keeps busy.

Run with ``python -m bench stream [--quick]``.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from autotrader.core.clock import MINUTE_MS, SimulatedClock
from autotrader.core.db import Store
from autotrader.market import repo
from autotrader.market.ingest import Ingestor
from autotrader.market.sources.synthetic import generate
from autotrader.schema import MIGRATION_SETS
from bench._harness import BenchResult, median_seconds

HISTORY_BARS = 1_440  # a day of 1m bars per symbol: what the default retention keeps
START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
TICK_INTERVAL_S = 5.0  # the ingest-stream job's interval


def run(quick: bool = False) -> list[BenchResult]:
    """Time one tick's writes for 200 symbols (20 with ``quick``) against plain upserts."""
    symbols = [f"SYM{i}" for i in range(20 if quick else 200)]
    now = START_MS + HISTORY_BARS * MINUTE_MS
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as folder:
        store = Store(Path(folder) / "stream.db", migrations=MIGRATION_SETS)
        try:
            ingestor = Ingestor(store, SimulatedClock(now), wall_clock=SimulatedClock(now))
            history = {
                s: generate(s, start_ms=START_MS, count=HISTORY_BARS, seed=i, start_price=10.0 + i)
                for i, s in enumerate(symbols)
            }
            for symbol, bars in history.items():
                ingestor.store_pushed(symbol, bars, [])
            pushes = iter(range(1, 10_000))

            def trading_bars() -> dict:
                # The newest bar traded on: a higher close each time, so every write changes it.
                step = next(pushes) * 0.001
                return {
                    s: replace(b[-1], close=b[-1].close + step, high=b[-1].high + step)
                    for s, b in history.items()
                }

            def tick() -> None:
                for symbol, bar in trading_bars().items():
                    ingestor.store_pushed(symbol, [bar], [])

            def upserts_alone() -> None:
                for bar in trading_bars().values():
                    with store.atomic():
                        repo.upsert_candles(store, "hyperliquid", [bar])

            baseline = median_seconds(upserts_alone)
            measured = median_seconds(tick)
        finally:
            store.close()
    return [
        BenchResult(
            f"stream tick, {len(symbols)} symbols x {HISTORY_BARS} 1m stored",
            measured,
            "s",
            baseline=baseline,
            ratio_label="x upserts alone",
            target=f"<= {TICK_INTERVAL_S:g} s (the tick interval)",
            passed=measured <= TICK_INTERVAL_S,
        )
    ]
