"""Benchmark: ``autotrader backtest`` against freqtrade's backtest, the same bars in one run.

Needs a freqtrade environment (``--against-freqtrade VENV`` or ``BENCH_FREQTRADE_VENV``; it is
never installed by the bench, nor a dependency of the product); without one the bench says it
skipped. Two cases, each through both tools in fresh processes:

1. the bundled 2 × 1,152 5m bars of BTC and ETH, deciding every 5 minutes (the demo's cadence);
2. 10 synthetic perps × 30 days of 1m bars (432,000 bars, after 2 days of warm-up; 3 days with
   ``--quick``), deciding hourly — the bars ``bench_backtest`` generates.

Both tools run the rules engine's trend_macd policy with the demo pipeline's parameters
(stop 1.5 %, target 3 %, 12 h time exit, 60 min cooldown, $1,000 at 2×, shorts allowed) on the
1h bars, one position per pair and at most autotrader's ``max_open_positions`` at once, the
same taker fee (4.5 bps); freqtrade fills without autotrader's 5 bps slippage. autotrader reads
the case's store; freqtrade reads the same bars written in its own format (feather files of
futures, mark and zero funding candles under a temp ``user_data/data/hyperliquid/``) with a
generated ``IStrategy`` (``bench/_freqtrade.py``). freqtrade is offline: the config points
ccxt's Hyperliquid URLs at a loopback server answering the markets calls it makes at start.

Measured: each command end to end (process start to report), and the backtest loop —
autotrader's ``run_backtest`` bars/s in this process as ``bench_backtest`` measures it
(history load and replay, with ccxt imported and the target store migrated beforehand; the
command's own figure, which counts those, is printed beside it), freqtrade's
``Backtesting.backtest`` call (timed by a runner around ``freqtrade backtesting``, which prints
no duration of its own; its indicator and signal pass is shown apart). ``ratio:`` is
autotrader's bars/s over freqtrade's loop alone, the stricter comparison; target >= 2. The
tools run one after the other, so a load that comes and goes can favour either: the same
ratio in CPU time is printed too, as the steadier cross-check.

The trades are compared too: the entries both made (same pair and side, within one bar), those
only one made, and how each tool's positions closed. They need not match: autotrader fills at
the decision's price with 5 bps slippage behind its gates (a daily trade cap, a drawdown
freeze), freqtrade at the next bar's open, and the two resolve a bar that reaches both the stop
and the target differently.

Run with ``python -m bench freqtrade --against-freqtrade /path/to/freqtrade/.venv [--quick]``.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from autotrader.backtest.runs import BacktestResult, BacktestSpec, plan_backtest, run_backtest
from autotrader.clones.engine_params import RulesParams
from autotrader.clones.pipelines import save, stored
from autotrader.core.clock import HOUR_MS, SimulatedClock, iso_utc
from autotrader.core.db import Store
from autotrader.decisions.engines.rules import parse_rules_params
from autotrader.market import repo as market_repo
from autotrader.market.models import TIMEFRAME_MS
from autotrader.prop.models import AccountRules
from autotrader.prop.precision import CcxtPrecision
from bench import _freqtrade as ft
from bench._harness import BenchResult
from bench.bench_backtest import CLONE_ID, SYMBOLS, T0, _seed_month, _store

FREQTRADE_ENV = "BENCH_FREQTRADE_VENV"
TARGET_RATIO = 2.0
PROMPT_NODE = "trend-rules"
BALANCE = Decimal(10_000)  # autotrader backtest's default --balance


@dataclass(frozen=True)
class Case:
    """One history both tools replay: the store holding it, and the period."""

    label: str
    db: Path
    symbols: tuple[str, ...]
    timeframe: str  # the bars replayed (and counted)
    since_ms: int
    until_ms: int
    warmup_ms: int  # history before ``since_ms`` the indicators may read
    cadence_s: int
    params: RulesParams


@dataclass(frozen=True)
class Trade:
    """One position a tool opened, in terms both tools share."""

    symbol: str
    short: bool
    opened_ms: int
    exit: str  # stop, target, signal, time, liquidation, or open (still open at the end)


# Each tool's names for why a position closed, in the shared terms.
# (An engine's CLOSE is booked as MANUAL: in a backtest nothing else closes by hand.)
_AUTOTRADER_EXITS = {
    "STOP": "stop",
    "TARGET": "target",
    "MANUAL": "signal",
    "TIME": "time",
    "LIQUIDATION": "liquidation",
    "INVALIDATION": "invalidation",
}
_FREQTRADE_EXITS = {
    "stop_loss": "stop",
    "roi": "target",
    "exit_signal": "signal",
    "time_exit": "time",
    "liquidation": "liquidation",
    "force_exit": "open",
}


@dataclass(frozen=True)
class Outcome:
    """What one tool did with a case."""

    wall_s: float  # process start to report
    loop_s: float  # the backtest loop, as the tool reports it
    loop_cpu_s: float  # the same in CPU time, which a shared machine's load moves less
    bars: int
    trades: tuple[Trade, ...]
    analyze_s: float | None = None  # freqtrade's indicator and signal pass
    notes: tuple[str, ...] = ()


def freqtrade_python(venv: str | None) -> Path | None:
    """The interpreter of the freqtrade environment ``venv``; None when none is given.

    Raises SystemExit (one line) when ``venv`` holds no ``bin/freqtrade``."""
    if not venv:
        return None
    folder = Path(venv)
    if not (folder / "bin" / "freqtrade").exists():
        raise SystemExit(f"no freqtrade at {folder / 'bin' / 'freqtrade'}")
    return folder / "bin" / "python"


def run(quick: bool = False, against_freqtrade: str | None = None) -> list[BenchResult]:
    python = freqtrade_python(against_freqtrade or os.environ.get(FREQTRADE_ENV))
    if python is None:
        print(f"skipped: no freqtrade environment (--against-freqtrade VENV or {FREQTRADE_ENV})")
        return []
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for case in (_bundled(folder), _month(folder, quick)):
            ours = _autotrader(case, folder)
            theirs = _freqtrade(case, python, folder)
            _print_table(case, ours, theirs)
            results += _compare(case, ours, theirs)
    return results


# -- the cases ------------------------------------------------------------------------------------


def _bundled(folder: Path) -> Case:
    from autotrader.clones.management import create_clone
    from autotrader.clones.pipelines import read_pipeline_file
    from autotrader.demo import bundled_candles, example_pipeline, replay_end_ms
    from autotrader.market.ingest import Ingestor
    from autotrader.market.registry import ensure_assets

    db = folder / "bundled.db"
    store = _store(db)
    end = replay_end_ms(bundled_candles())
    clock = SimulatedClock(end)
    ensure_assets(store, clock)
    for symbol, (file, timeframe) in bundled_candles().items():
        Ingestor(store, clock).import_file(file, symbol=symbol, timeframe=timeframe)
    create_clone(store, clock, name="bench", clone_id=CLONE_ID)
    save(store, clock, CLONE_ID, read_pipeline_file(example_pipeline()))
    params = _trend_macd_only(store, clock)
    symbols = tuple(bundled_candles())
    first = min(market_repo.freshest_series(store, s, ("5m",)).first_time for s in symbols)
    store.close()
    until = end - HOUR_MS  # the forming hour is left out, as bench_backtest does
    return Case("bundled 2 x 1,152 5m bars", db, symbols, "5m", first, until, 0, 300, params)


def _month(folder: Path, quick: bool) -> Case:
    days, warmup = (3, 1) if quick else (30, 2)
    db = folder / "month.db"
    store = _store(db)
    clock = SimulatedClock(T0 + (warmup + days) * 24 * HOUR_MS)
    _seed_month(store, clock, warmup + days)
    params = _trend_macd_only(store, clock)
    store.close()
    since, until = T0 + warmup * 24 * HOUR_MS, clock.now_ms()
    label = f"{len(SYMBOLS)} x {days} days of 1m bars"
    return Case(label, db, SYMBOLS, "1m", since, until, warmup * 24 * HOUR_MS, 3600, params)


def _trend_macd_only(store: Store, clock: SimulatedClock) -> RulesParams:
    """Save clone 42's pipeline again with trend_macd as its only policy; its parameters."""
    row = stored(store, CLONE_ID)
    graph = row["graph"] if isinstance(row["graph"], dict) else json.loads(row["graph"])
    node = next(n for n in graph["nodes"] if n["id"] == PROMPT_NODE)
    node["engineParams"] = {**node["engineParams"], "policies": ["trend_macd"]}
    save(store, clock, CLONE_ID, graph)
    params, _ = parse_rules_params(node["engineParams"])
    return params


# -- autotrader -----------------------------------------------------------------------------------


def _autotrader(case: Case, folder: Path) -> Outcome:
    """The command end to end in a fresh process (its wall time and trades), and the loop in
    this one, as bench_backtest measures it: ccxt's import and the new store's migrations are
    start-up there, which the command's own ``bars_per_s`` counts (noted under the table)."""
    period = ["--from", iso_utc(case.since_ms), "--to", iso_utc(case.until_ms)]
    where = ["--db", str(case.db), "--out", str(folder / "runs")]
    command = [sys.executable, "-m", "autotrader", "backtest", *where,
               "--clone-id", str(CLONE_ID), *period, "--json"]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    report = json.loads(done.stdout)
    with open(report["trades"], newline="") as export:
        trades = tuple(
            Trade(
                row["symbol"],
                row["side"] == "SHORT",
                int(row["opened_at"]),
                "open" if row["status"] == "OPEN" else _AUTOTRADER_EXITS[row["close_trigger"]],
            )
            for row in csv.DictReader(export)
        )
    loop, cpu_s = _autotrader_loop(case, folder / f"loop-{case.timeframe}.db")
    note = f"the command's own report, start-up included: {report['bars_per_s']:,} bars/s"
    return Outcome(wall, loop.elapsed_s, cpu_s, loop.bars, trades, notes=(note,))


def _autotrader_loop(case: Case, out: Path) -> tuple[BacktestResult, float]:
    """The run's result and the CPU seconds of planning and running it."""
    source, target = _store(case.db), _store(out)
    try:
        prices = CcxtPrecision(source)
        spec = BacktestSpec(clone_ids=(CLONE_ID,), since_ms=case.since_ms, until_ms=case.until_ms)
        cpu = time.process_time()
        plan = plan_backtest(source, spec)
        result = run_backtest(plan, target, precision=prices, run_id="bench", started_at_ms=0)
        return result, time.process_time() - cpu
    finally:
        source.close()
        target.close()


# -- freqtrade ------------------------------------------------------------------------------------


def _freqtrade(case: Case, python: Path, folder: Path) -> Outcome:
    user_data = folder / f"freqtrade-{case.timeframe}"
    last_closes = _export_bars(case, user_data / "data" / "hyperliquid")
    strategies = user_data / "strategies"
    strategies.mkdir(parents=True)
    source = ft.strategy_source(
        case.params,
        timeframe=case.timeframe,
        cadence_s=case.cadence_s,
        startup_candles=case.warmup_ms // HOUR_MS,
    )
    (strategies / "trend_macd.py").write_text(source)
    runner, timings = folder / "freqtrade_runner.py", folder / f"timings-{case.timeframe}.json"
    runner.write_text(ft.RUNNER)
    with ft.HyperliquidMarkets(last_closes) as markets:
        settings = ft.config(
            symbols=case.symbols,
            markets_url=markets.url,
            user_data=user_data,
            params=case.params,
            fee=AccountRules().taker_fee,
            max_open_trades=AccountRules().max_open_positions,
            wallet=BALANCE,
        )
        config = user_data / "config.json"
        config.write_text(json.dumps(settings, indent=2))
        timerange = f"{case.since_ms // 1000}-{case.until_ms // 1000}"
        command = [str(python), str(runner), str(timings), "backtesting", "--config",
                   str(config), "--timerange", timerange, "--export", "none",
                   "--cache", "none"]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        wall = time.perf_counter() - started
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise SystemExit(f"freqtrade backtesting failed ({case.label}): {tail[0]}")
    measured = json.loads(timings.read_text())
    trades = tuple(
        Trade(symbol, short, opened_ms, _FREQTRADE_EXITS.get(reason, reason))
        for symbol, opened_ms, short, reason in measured["trades"]
    )
    return Outcome(
        wall,
        measured["loop_s"],
        measured["loop_cpu_s"],
        measured["bars"],
        trades,
        measured["analyze_s"],
    )


def _export_bars(case: Case, datadir: Path) -> dict[str, float]:
    """The case's bars (and their 1h rollups, which the rules engine reads) as freqtrade's
    files, with zero funding; returns each symbol's last close, for the markets answer."""
    store = _store(case.db)
    since = case.since_ms - case.warmup_ms
    last = {}
    try:
        for symbol in case.symbols:
            series = market_repo.freshest_series(store, symbol, (case.timeframe,))
            bars = market_repo.candles_between(
                store, series.source, symbol, case.timeframe, since, case.until_ms
            )
            hourly = market_repo.candles_between(
                store, series.source, symbol, ft.INFORMATIVE_TIMEFRAME, since, case.until_ms
            )
            ft.write_candles(datadir, symbol, case.timeframe, bars)
            ft.write_candles(datadir, symbol, ft.INFORMATIVE_TIMEFRAME, hourly)
            ft.write_zero_funding(datadir, symbol, (bar.open_time for bar in hourly))
            last[symbol] = bars[-1].close
    finally:
        store.close()
    return last


# -- the report -----------------------------------------------------------------------------------


def match_entries(
    ours: Sequence[Trade], theirs: Sequence[Trade], within_ms: int
) -> tuple[int, int, int]:
    """Entries both tools made (same symbol and side, opened at most ``within_ms`` apart, each
    matched once, earliest first), and the ones only ours or only theirs made."""
    left = sorted(theirs, key=lambda t: t.opened_ms)
    matched = 0
    for trade in sorted(ours, key=lambda t: t.opened_ms):
        twin = next(
            (
                t
                for t in left
                if (t.symbol, t.short) == (trade.symbol, trade.short)
                and abs(t.opened_ms - trade.opened_ms) <= within_ms
            ),
            None,
        )
        if twin is not None:
            left.remove(twin)
            matched += 1
    return matched, len(ours) - matched, len(theirs) - matched


def exits(trades: Sequence[Trade]) -> str:
    """``stop 3, target 1, signal 4``: how the positions closed, most common first."""
    counts = Counter(t.exit for t in trades).most_common()
    return ", ".join(f"{name} {n}" for name, n in counts) or "none"


def _print_table(case: Case, ours: Outcome, theirs: Outcome) -> None:
    print(f"-- {case.label}")
    head = f"{'bars':>9}{'loop s':>9}{'cpu s':>8}{'bars/s':>10}{'end to end s':>14}{'trades':>8}"
    print(f"   {'tool':<11}{head}")
    for tool, o in (("autotrader", ours), ("freqtrade", theirs)):
        row = f"{o.bars:>9,}{o.loop_s:>9.2f}{o.loop_cpu_s:>8.2f}{_rate(o):>10,.0f}"
        print(f"   {tool:<11}{row}{o.wall_s:>14.2f}{len(o.trades):>8}")
    for note in ours.notes:
        print(f"   autotrader: {note}")
    if theirs.analyze_s is not None:
        print(f"   freqtrade's indicators and signals before its loop: {theirs.analyze_s:.2f} s")
    both, only_ours, only_theirs = match_entries(
        ours.trades, theirs.trades, TIMEFRAME_MS[case.timeframe]
    )
    print(
        f"   entries: {both} in both (same pair and side, within one bar), {only_ours} only"
        f" autotrader's, {only_theirs} only freqtrade's"
    )
    print(f"   exits: autotrader {exits(ours.trades)}; freqtrade {exits(theirs.trades)}")
    ratio = _rate(ours) / _rate(theirs) if _rate(theirs) else 0.0
    print(f"ratio: {ratio:.2f}  ({case.label}: autotrader bars/s / freqtrade's loop)")
    cpu_ratio = _cpu_rate(ours) / _cpu_rate(theirs) if _cpu_rate(theirs) else 0.0
    print(f"ratio (CPU time): {cpu_ratio:.2f}  ({case.label})", flush=True)


def _rate(outcome: Outcome) -> float:
    return outcome.bars / outcome.loop_s if outcome.loop_s else 0.0


def _cpu_rate(outcome: Outcome) -> float:
    return outcome.bars / outcome.loop_cpu_s if outcome.loop_cpu_s else 0.0


def _compare(case: Case, ours: Outcome, theirs: Outcome) -> list[BenchResult]:
    analyzed = theirs.loop_s + (theirs.analyze_s or 0.0)
    ratio = _rate(ours) / _rate(theirs) if _rate(theirs) else 0.0
    return [
        BenchResult(
            f"vs freqtrade: {case.label}, bars/s",
            _rate(ours),
            "bars/s",
            baseline=_rate(theirs),
            ratio_label="ratio: (of freqtrade's loop)",
            target=f">= {TARGET_RATIO:g}x freqtrade's loop",
            passed=ratio >= TARGET_RATIO,
        ),
        BenchResult(
            f"vs freqtrade: {case.label}, bars per CPU second",
            _cpu_rate(ours),
            "bars/s",
            baseline=_cpu_rate(theirs),
            ratio_label="ratio: (CPU time)",
        ),
        BenchResult(
            f"vs freqtrade: {case.label}, with its indicators",
            _rate(ours),
            "bars/s",
            baseline=theirs.bars / analyzed if analyzed else 0.0,
            ratio_label="ratio: (of freqtrade's analysis + loop)",
        ),
        BenchResult(
            f"vs freqtrade: {case.label}, end to end",
            ours.wall_s,
            "s",
            baseline=theirs.wall_s,
            ratio_label="of freqtrade's",
        ),
        BenchResult(
            f"vs freqtrade: {case.label}, trades",
            len(ours.trades),
            "trades",
            baseline=len(theirs.trades),
            ratio_label="of freqtrade's",
        ),
    ]
