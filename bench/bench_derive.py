"""Benchmark: deriving 1h rollups and indicators for a day of 1m candles across many symbols.

Measured: for every symbol, roll 1,440 synthetic 1m candles up into 1h, then compute all
indicators on the 1m closes and on the 1h closes (and, in a second line, also turn them into
storage rows). Baseline, in the same run: TA-Lib alone on the very same close arrays, i.e. the
floor any derive step pays. The ratio says how much our own code adds on top of TA-Lib.

Run with ``python -m bench.bench_derive [--quick]``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from autotrader.market import indicators
from autotrader.market.models import Candle
from autotrader.market.rollup import rollup
from autotrader.market.sources.synthetic import generate
from bench._harness import BenchResult, median_seconds

CANDLES_PER_SYMBOL = 1_440  # one day of 1m bars
START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
TARGET_SECONDS = 1.0  # budget for the full derive of 200 symbols, rows included


@dataclass(frozen=True)
class _Symbol:
    minutes: list[Candle]
    closes_1m: np.ndarray
    closes_1h: np.ndarray


def _universe(symbols: int) -> list[_Symbol]:
    universe = []
    for index in range(symbols):
        minutes = generate(
            f"SYM{index}",
            start_ms=START_MS,
            count=CANDLES_PER_SYMBOL,
            regime=("trend", "range", "crash")[index % 3],
            seed=index,
            start_price=10.0 + index,
        )
        hours = rollup(minutes)
        universe.append(
            _Symbol(
                minutes,
                np.array([c.close for c in minutes]),
                np.array([c.close for c in hours]),
            )
        )
    return universe


def _derive(universe: list[_Symbol], *, with_rows: bool) -> None:
    for symbol in universe:
        hours = rollup(symbol.minutes)
        minute_values = indicators.compute(np.array([c.close for c in symbol.minutes]))
        hour_values = indicators.compute(np.array([c.close for c in hours]))
        if with_rows:
            indicators.to_rows([c.open_time for c in symbol.minutes], minute_values)
            indicators.to_rows([c.open_time for c in hours], hour_values)


def _talib_only(universe: list[_Symbol]) -> None:
    import talib

    for symbol in universe:
        for closes in (symbol.closes_1m, symbol.closes_1h):
            talib.RSI(closes, timeperiod=14)
            talib.BBANDS(closes, timeperiod=20, nbdevup=2.0, nbdevdn=2.0, matype=0)
            talib.SMA(closes, timeperiod=20)
            talib.EMA(closes, timeperiod=20)
            talib.MACD(closes, fastperiod=12, slowperiod=26, signalperiod=9)


def run(quick: bool = False) -> list[BenchResult]:
    """Time the derive step against TA-Lib alone; ``quick`` uses 20 symbols instead of 200."""
    symbols = 20 if quick else 200
    universe = _universe(symbols)
    baseline = median_seconds(lambda: _talib_only(universe))
    derive = median_seconds(lambda: _derive(universe, with_rows=False))
    with_rows = median_seconds(lambda: _derive(universe, with_rows=True))
    budget = TARGET_SECONDS * symbols / 200
    label = f"{symbols} symbols x {CANDLES_PER_SYMBOL} 1m"
    return [
        BenchResult(
            f"derive rollup+indicators, {label}",
            derive,
            "s",
            baseline=baseline,
            ratio_label="x TA-Lib alone",
        ),
        BenchResult(
            f"derive rollup+indicators+rows, {label}",
            with_rows,
            "s",
            baseline=baseline,
            ratio_label="x TA-Lib alone",
            target=f"<= {budget:g} s median",
            passed=with_rows <= budget,
        ),
    ]


def _report(results: list[BenchResult]) -> str:
    lines = []
    for result in results:
        line = f"{result.name}: {result.value:.4f} {result.unit}"
        if result.baseline is not None:
            line += f" (TA-Lib alone {result.baseline:.4f} {result.unit}"
            line += f", {result.ratio:.1f} {result.ratio_label})"
        if result.target:
            verdict = "pass" if result.passed else "FAIL"
            line += f" target {result.target}: {verdict}"
        lines.append(line)
    return "\n".join(lines)


if __name__ == "__main__":
    print(_report(run(quick="--quick" in sys.argv[1:])))
