"""Benchmark: ``autotrader backtest`` — bars replayed per second through the live trading code.

1. The bundled history (2 × 1,152 5m bars of BTC/ETH) with clone 42's rules pipeline (the
   demo's, cadence 5 minutes): the backtest over the whole of it, and — the same-run
   baseline — the live driver under a replay clock (a mark-to-market pass, then a decision
   tick, every 5 minutes: the demo's way) over its last 6 hours (2 with ``--quick``). The
   ratio is backtest bars/s over live bars/s.
2. 30 days of synthetic 1m bars for 10 perps (432,000 bars, after two days of warm-up; 3 days
   with ``--quick``), the rules engine deciding hourly on 1h bars: bars/s in process, against
   the same-run floor of reading those bars from SQLite once; then the command end to end in a
   fresh process (start-up, planning, the run, the report's files) with its peak RSS.
   Targets: >= 100,000 bars/s, < 500 MB.
3. Clone 42's strategy as an llm strategy over the bundled history, every answer already in
   the response cache (a first run with model calls against a loopback fake fills it):
   decisions/s of the cache-only replay — the prompt built from the history, the cache lookup,
   the answer through the gates — against the same-run baseline of the rules engine deciding
   the same instants. Target: >= 10,000 decisions/s.

Run with ``python -m bench backtest [--quick]``.
"""

from __future__ import annotations

import dataclasses
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from autotrader.backtest.runs import BacktestSpec, plan_backtest, run_backtest
from autotrader.clones.management import create_clone
from autotrader.clones.pipelines import read_pipeline_file, save
from autotrader.core.clock import HOUR_MS, MINUTE_MS, SimulatedClock, iso_utc
from autotrader.core.db import Store
from autotrader.core.settings import load_settings
from autotrader.market import repo as market_repo
from autotrader.market.ingest import Ingestor
from autotrader.market.models import AssetInfo
from autotrader.market.registry import ensure_assets
from autotrader.market.sources.synthetic import generate_segments
from autotrader.prop.accounts import open_account
from autotrader.prop.factory import precision
from autotrader.prop.models import AccountRules
from autotrader.prop.mtm import MarkToMarket
from autotrader.prop.precision import CcxtPrecision
from autotrader.schema import MIGRATION_SETS
from bench._harness import BenchResult

CLONE_ID = 42
T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC
SYMBOLS = tuple(f"SYN{i}" for i in range(10))
TARGET_BARS_PER_S = 100_000
TARGET_RSS_MB = 500
TARGET_CACHED_DECISIONS_PER_S = 10_000
REGIMES = ("trend", "range", "crash", "range")  # a day of each in turn, so the rules trade


def run(quick: bool) -> list[BenchResult]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        return [*_bundled(folder, quick), *_month(folder, quick), *_cache_replay(folder, quick)]


# -- 1. the bundled history against the live driver ----------------------------------------------


def _bundled_store(path: Path) -> Store:
    """The bundled history with clone 42 on the demo's rules pipeline."""
    from autotrader.demo import bundled_candles, example_pipeline, replay_end_ms

    store = _store(path)
    clock = SimulatedClock(replay_end_ms(bundled_candles()))
    ensure_assets(store, clock)
    for symbol, (file, timeframe) in bundled_candles().items():
        Ingestor(store, clock).import_file(file, symbol=symbol, timeframe=timeframe)
    create_clone(store, clock, name="bench", clone_id=CLONE_ID)
    save(store, clock, CLONE_ID, read_pipeline_file(example_pipeline()))
    return store


def _bundled(folder: Path, quick: bool) -> list[BenchResult]:
    from autotrader.demo import bundled_candles, replay_end_ms

    store = _bundled_store(folder / "bundled.db")
    end = replay_end_ms(bundled_candles())
    first = min(
        market_repo.freshest_series(store, s, ("5m",)).first_time for s in bundled_candles()
    )
    until = end - HOUR_MS  # the forming hour is left out, as a replay must
    backtest = _backtest_bars_per_s(store, folder / "bundled-out.db", first, until)
    window = (2 if quick else 6) * HOUR_MS
    live = _live_bars_per_s(store, until - window, until)
    return [
        BenchResult(
            "backtest: bundled 2 x 1,152 5m bars",
            backtest,
            "bars/s",
            baseline=live,
            ratio_label="ratio:",
            target="faster than the live driver in replay",
            passed=backtest > live,
        )
    ]


def _live_bars_per_s(store: Store, since: int, until: int) -> float:
    """The decision runner and mark-to-market every 5 minutes on a replay clock."""
    from autotrader.bootstrap import decision_runner
    from autotrader.core.settings import load_settings

    clock = SimulatedClock(since)
    with store.atomic():
        open_account(store, clock, clone_id=CLONE_ID, kind="sandbox",
                     starting_balance=_balance(), rules=AccountRules())  # fmt: skip
    runner = decision_runner(load_settings(), store, clock, worker_id="bench")
    mtm = MarkToMarket(store, clock, precision(store, clock))
    step, bars = 5 * MINUTE_MS, 0
    started = time.perf_counter()
    now = since
    while now + step <= until:
        now += step
        clock.set(now)
        mtm.run()
        runner.tick()
        bars += 2  # a BTC and an ETH bar closed
    return bars / (time.perf_counter() - started)


# -- 2. a month of 1m bars for 10 symbols ---------------------------------------------------------


def _month(folder: Path, quick: bool) -> list[BenchResult]:
    days, warmup = (3, 1) if quick else (30, 2)  # warm-up days give the indicators history
    store = _store(folder / "month.db")
    clock = SimulatedClock(T0 + (warmup + days) * 24 * HOUR_MS)
    _seed_month(store, clock, warmup + days)
    since, until = T0 + warmup * 24 * HOUR_MS, clock.now_ms()
    bars_per_s = _backtest_bars_per_s(store, folder / "month-out.db", since, until)
    floor = _read_floor(store, since, until)
    store.close()
    wall, rss_mb, bars = _end_to_end(folder / "month.db", folder / "runs", since, until)
    return [
        BenchResult(
            f"backtest: {len(SYMBOLS)} x {days} days of 1m bars ({bars:,} bars)",
            bars_per_s,
            "bars/s",
            baseline=floor,
            ratio_label="ratio: (of reading the bars once)",
            target=f">= {TARGET_BARS_PER_S:,} bars/s",
            passed=bars_per_s >= TARGET_BARS_PER_S,
        ),
        BenchResult(f"backtest: end to end, a fresh process ({bars:,} bars)", wall, "s"),
        BenchResult(
            "backtest: peak RSS of that process",
            rss_mb,
            "MB",
            target=f"< {TARGET_RSS_MB} MB",
            passed=rss_mb < TARGET_RSS_MB,
        ),
    ]


def _seed_month(store: Store, clock: SimulatedClock, days: int) -> None:
    """Ten synthetic perps, ``days`` of 1m bars each (their 1h rollups and indicators
    derived by ingest), and clone 42 trading them hourly with the rules engine."""
    from autotrader.demo import example_pipeline

    with store.atomic():
        market_repo.upsert_assets(store, [_asset(s) for s in SYMBOLS], now_ms=clock.now_ms())
    ingestor = Ingestor(store, clock)
    per_day = 24 * 60
    for seed, symbol in enumerate(SYMBOLS):
        segments = [(REGIMES[(seed + d) % len(REGIMES)], per_day) for d in range(days)]
        ingestor.store_synthetic(
            generate_segments(symbol, segments, start_ms=T0, seed=seed, start_price=100.0)
        )
    create_clone(store, clock, name="bench", clone_id=CLONE_ID)
    graph = read_pipeline_file(example_pipeline())
    nodes = {node["id"]: node for node in graph["nodes"]}
    nodes["majors"]["explicitlyEnabledSymbols"] = list(SYMBOLS)
    nodes["trend-rules"]["decisionCadenceSec"] = 3600
    save(store, clock, CLONE_ID, graph)


def _read_floor(store: Store, since: int, until: int) -> float:
    """Bars/s of reading the period's bars of every symbol from SQLite, once."""
    started = time.perf_counter()
    bars = sum(
        len(market_repo.candles_between(store, "synthetic", s, "1m", since, until)) for s in SYMBOLS
    )
    return bars / (time.perf_counter() - started)


def _end_to_end(db: Path, out: Path, since: int, until: int) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MB) and bars of ``autotrader backtest`` in a fresh process."""
    command = [sys.executable, "-m", "autotrader", "backtest", "--db", str(db), "--out", str(out),
               "--clone-id", str(CLONE_ID), "--from", iso_utc(since), "--to", iso_utc(until),
               "--json"]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return wall, rss_mb, json.loads(done.stdout)["bars"]


# -- 3. an llm strategy replayed from the response cache -----------------------------------------


def _cache_replay(folder: Path, quick: bool) -> list[BenchResult]:
    from autotrader.demo import bundled_candles, replay_end_ms

    store = _bundled_store(folder / "llm.db")
    until = replay_end_ms(bundled_candles()) - HOUR_MS
    since = until - (6 if quick else 24) * HOUR_MS
    llm = BacktestSpec(clone_ids=(CLONE_ID,), since_ms=since, until_ms=until, engine="llm")
    with _model_server() as url:
        settings = load_settings(env_file=None, openai_base_url=url, openai_api_key="sk-bench")
        paid = dataclasses.replace(llm, allow_model_calls=True, budget_usd=Decimal(100))
        _decisions_per_s(store, folder / "llm-warm.db", paid, settings)
    cached = _decisions_per_s(store, folder / "llm-cached.db", llm, settings)
    rules = dataclasses.replace(llm, engine="rules")
    baseline = _decisions_per_s(store, folder / "llm-rules.db", rules, settings)
    store.close()
    return [
        BenchResult(
            "backtest: an llm strategy replayed from a warm cache",
            cached,
            "decisions/s",
            baseline=baseline,
            ratio_label="ratio: (of the rules engine deciding the same instants)",
            target=f">= {TARGET_CACHED_DECISIONS_PER_S:,} decisions/s",
            passed=cached >= TARGET_CACHED_DECISIONS_PER_S,
        )
    ]


def _decisions_per_s(store: Store, out: Path, spec: BacktestSpec, settings) -> float:
    """Decisions per second of the run (planning excluded: the bars are read once for both)."""
    from autotrader.backtest.models import ReplayModels

    target = _store(out)
    plan = plan_backtest(store, spec)
    models = ReplayModels(settings, store, target, allow_calls=spec.allow_model_calls,
                          budget_usd=spec.budget_usd)  # fmt: skip
    started = time.perf_counter()
    result = run_backtest(plan, target, precision=CcxtPrecision(store), run_id="bench",
                          started_at_ms=0, models=models if plan.uses_models else None)  # fmt: skip
    elapsed = time.perf_counter() - started
    target.close()
    use = result.models
    if use is not None and not spec.allow_model_calls and (use.calls or use.held):
        raise RuntimeError(f"the replay was not served from the cache alone: {use}")
    return sum(c.stats.decisions for c in result.clones) / elapsed


@contextmanager
def _model_server():
    """A loopback model that opens the decided symbol when flat and closes it otherwise."""
    from tests.fakes.openai_server import FakeOpenAI, Reply, prompt_of

    def answer(body: dict) -> Reply:
        prompt = prompt_of(body)
        symbol = re.search(r"You decide one action for (\S+) on", prompt).group(1)
        if "## Open positions\nnone" in prompt:
            return Reply.json({"action": "OPEN", "symbol": symbol, "side": "LONG",
                               "notional_usd": "500"})  # fmt: skip
        return Reply.json({"action": "CLOSE", "symbol": symbol})

    with FakeOpenAI() as fake:
        fake.responder = answer
        yield fake.url


# -- shared ---------------------------------------------------------------------------------------


def _backtest_bars_per_s(store: Store, out: Path, since: int, until: int) -> float:
    target = _store(out)
    prices = CcxtPrecision(store)  # ccxt's import is start-up: the end-to-end line counts it
    spec = BacktestSpec(clone_ids=(CLONE_ID,), since_ms=since, until_ms=until)
    plan = plan_backtest(store, spec)
    result = run_backtest(plan, target, precision=prices, run_id="bench", started_at_ms=0)
    target.close()
    return result.bars_per_second


def _store(path: Path) -> Store:
    return Store(path, migrations=MIGRATION_SETS)


def _balance():
    from decimal import Decimal

    return Decimal(10_000)


def _asset(symbol: str) -> AssetInfo:
    return AssetInfo(
        symbol=symbol,
        ccxt_symbol=f"{symbol}/USDC:USDC",
        kind="perp",
        base=symbol,
        quote="USDC",
        settle="USDC",
        amount_step="0.01",
        price_tick="0.0001",
        min_notional="10",
        max_leverage=20,
    )
