"""Benchmark: context packets for one strategy × 10 assets from a store holding 200 symbols ×
24 h of 1m candles (with their 1h rollups and indicators), funding, Polymarket and DefiLlama rows.

Measured, per decided asset (median of several passes over the 10 assets):

1. the packet without a prop account — market reads, formatting, rendering, token budget;
2. the packet with a prop account holding one open position (what a decision run builds).

Baseline, in the same run: the raw SQL reads of the same read plans alone (candle windows,
indicator and funding rows, Polymarket and DefiLlama lookups), no formatting or rendering.
Target: at most 20 ms per asset.

The store is built once per run in a temporary directory (about 10 s for 200 symbols: synthetic
candles go through ``Ingestor.store_synthetic``, which derives rollups and indicators).
Run with ``python -m bench context [--quick]`` (quick: 20 symbols).
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

from autotrader.bootstrap import prop_desk
from autotrader.clones.plan import CandidatePolicy, CompiledStrategy, ReadItem, UniverseEntry
from autotrader.context.packet import build_context
from autotrader.core.clock import SimulatedClock
from autotrader.core.db import Store
from autotrader.market import repo as market_repo
from autotrader.market.ingest import Ingestor
from autotrader.market.models import (
    FundingRate,
    MacroObservation,
    PredictionMarket,
    PredictionOutcome,
)
from autotrader.market.registry import ensure_assets
from autotrader.market.repo import observations
from autotrader.market.sources.synthetic import generate
from autotrader.prop.accounts import open_account
from autotrader.prop.models import AccountRules, parse_intent
from autotrader.schema import MIGRATION_SETS
from bench._harness import BenchResult, median_seconds

MINUTE, HOUR = 60_000, 3_600_000
START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
BARS = 1_440  # 24 h of 1m candles per symbol
NOW_MS = START_MS + (BARS - 1) * MINUTE + 30_000  # inside the last bar
REGISTERED = ("BTC", "ETH", "SOL", "ADA", "MEME")  # in the packaged registry snapshot
DECIDED = 10
TARGET_MS = 20.0


def _symbols(count: int) -> list[str]:
    return [*REGISTERED, *(f"S{i:03d}" for i in range(count - len(REGISTERED)))]


def _plan(symbol: str) -> tuple[ReadItem, ...]:
    def item(channel, context, lookback, granularity=None, scope=None, source="hyperliquid"):
        return ReadItem(source, channel, symbol, context, lookback, granularity, scope)

    plan = [
        item("ohlcv", symbol, 60, "1m"),
        item("ohlcv", symbol, 24, "1h"),
        item("indicators", symbol, 1, "1m"),
        item("indicators", symbol, 1, "1h"),
        item("funding", symbol, 8),
        item("markets", "bitcoin", 5, scope="topic", source="polymarket"),
        item("tvl", "Ethereum", 1, scope="chain", source="defillama"),
        item("flows", "Ethereum", 1, scope="chain", source="defillama"),
    ]
    if symbol != "BTC":
        plan.append(item("ohlcv", "BTC", 24, "1h"))  # cross-asset context
    return tuple(plan)


def _strategy(decided: list[str]) -> CompiledStrategy:
    return CompiledStrategy(
        strategy_id="bench",
        enabled=True,
        engine="llm",
        cadence_s=300,
        behavior_prompt="Follow the 1h trend; cut losers fast.",
        coverage_mode="global",
        candidate_policy=CandidatePolicy(),
        universe=tuple(UniverseEntry(s, "enabled") for s in decided),
        read_plans={s: _plan(s) for s in decided},
    )


def _build_store(path: Path, symbols: list[str]) -> tuple[Store, SimulatedClock, int]:
    store = Store(path, migrations=MIGRATION_SETS)
    clock = SimulatedClock(NOW_MS - 10 * MINUTE)
    ensure_assets(store, clock)
    ingest = Ingestor(store, clock)
    for index, symbol in enumerate(symbols):
        ingest.store_synthetic(
            generate(symbol, start_ms=START_MS, count=BARS, seed=index, start_price=10.0 + index)
        )
    with store.atomic():
        observations.upsert_funding(
            store,
            "hyperliquid",
            [
                FundingRate(s, START_MS + h * HOUR, 0.00001 * h, None, 10.0, 10.0, 1e6)
                for s in symbols
                for h in range(24)
            ],
        )
        observations.upsert_prediction_markets(
            store,
            [
                PredictionMarket(
                    f"m-{i}",
                    f"market-{i}",
                    f"Will bitcoin be above {i}k?" if i % 3 == 0 else f"Question {i}?",
                    None,
                    (PredictionOutcome("Yes", 0.5), PredictionOutcome("No", 0.5)),
                    1000.0 * i,
                    100.0,
                    START_MS + 30 * 24 * HOUR,
                    True,
                    False,
                    START_MS,
                    ("crypto",),
                )
                for i in range(300)
            ],
        )
        observations.upsert_macro(
            store,
            [
                MacroObservation("chain", "Ethereum", metric, START_MS + h * HOUR, 1e10 + h)
                for metric in ("tvl", "tvl_change_1d", "tvl_change_7d")
                for h in range(24)
            ],
        )
    account = open_account(
        store,
        clock,
        clone_id=1,
        kind="sandbox",
        starting_balance=Decimal(10_000),
        rules=AccountRules(),
    )
    opened = prop_desk(store, clock).submit(
        account,
        parse_intent({"action": "OPEN", "symbol": "BTC", "side": "LONG", "notional_usd": "500"}),
    )
    assert opened.accepted, opened.reason
    clock.set(NOW_MS)
    return store, clock, account


def _raw_reads(store: Store, strategy: CompiledStrategy, now: int) -> None:
    """The same rows the packets read, fetched with the same queries and nothing else."""
    for plan in strategy.read_plans.values():
        for item in plan:
            if item.source == "hyperliquid" and item.channel == "funding":
                observations.funding_rows(
                    store, item.context_symbol, until_ms=now, limit=item.lookback
                )
            elif item.source == "hyperliquid":
                tf = item.granularity or "1m"
                for source in market_repo.SOURCE_PRIORITY:
                    market_repo.latest_candle(store, source, item.context_symbol, tf, until_ms=now)
                if item.channel == "ohlcv":
                    since = now - item.lookback * 60_000 * (60 if tf == "1h" else 1)
                    market_repo.candles_between(
                        store, "synthetic", item.context_symbol, tf, since, until_ms=now
                    )
                else:
                    market_repo.indicator_rows(
                        store, "synthetic", item.context_symbol, tf, until_ms=now, limit=1
                    )
            elif item.source == "polymarket":
                for m in observations.prediction_markets_for(
                    store, item.scope or "topic", item.context_symbol, until_ms=now, limit=5
                ):
                    observations.prediction_prices_at(store, m["market_id"], until_ms=now)
            else:
                observations.macro_latest(
                    store, item.scope or "global", item.context_symbol, until_ms=now
                )


def run(quick: bool = False) -> list[BenchResult]:
    symbols = _symbols(20 if quick else 200)
    decided = symbols[:DECIDED]
    strategy = _strategy(decided)
    repeat = 3 if quick else 7
    with tempfile.TemporaryDirectory() as folder:
        store, clock, account = _build_store(Path(folder) / "bench.db", symbols)
        try:

            def contexts(account_id: int | None) -> None:
                for symbol in decided:
                    build_context(store, clock, strategy, symbol, account_id=account_id)

            baseline = median_seconds(
                lambda: _raw_reads(store, strategy, clock.now_ms()), repeat=repeat
            )
            bare = median_seconds(lambda: contexts(None), repeat=repeat)
            with_account = median_seconds(lambda: contexts(account), repeat=repeat)
        finally:
            store.close()
    per = 1000 / DECIDED
    label = f"{len(symbols)} symbols"
    return [
        BenchResult(
            name=f"context per asset, no account ({label})",
            value=bare * per,
            unit="ms",
            baseline=baseline * per,
            ratio_label="vs raw SQL reads",
            target=f"<= {TARGET_MS:g} ms",
            passed=bare * per <= TARGET_MS,
        ),
        BenchResult(
            name=f"context per asset, account + 1 position ({label})",
            value=with_account * per,
            unit="ms",
            baseline=baseline * per,
            ratio_label="vs raw SQL reads",
            target=f"<= {TARGET_MS:g} ms",
            passed=with_account * per <= TARGET_MS,
        ),
    ]


if __name__ == "__main__":
    for result in run():
        print(result)
