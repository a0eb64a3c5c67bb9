"""Run the benchmarks: ``python -m bench [--quick] [NAME ...]``.

Each ``bench/bench_<name>.py`` exposes ``run(quick: bool) -> list[BenchResult]``; every result
carries a baseline measured in the same run, so the ratio means something on a noisy machine.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from pathlib import Path

from bench._harness import BenchResult


def _discover() -> list[str]:
    folder = Path(__file__).parent
    return sorted(
        m.name[len("bench_") :]
        for m in pkgutil.iter_modules([str(folder)])
        if m.name.startswith("bench_")
    )


def _line(result: BenchResult) -> str:
    parts = [f"{result.name:<48} {result.value:>12.4g} {result.unit}"]
    if result.baseline is not None:
        parts.append(f"baseline {result.baseline:.4g} {result.unit}")
        parts.append(f"{result.ratio_label} {result.ratio:.2f}x")
    if result.target:
        verdict = "" if result.passed is None else (" PASS" if result.passed else " MISS")
        parts.append(f"target {result.target}{verdict}")
    return "  ".join(parts)


def main(argv: list[str] | None = None) -> int:
    available = _discover()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (default all): {', '.join(available)}"
    )
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    parser.add_argument(
        "--against-freqtrade",
        metavar="VENV",
        help="a freqtrade virtualenv (installs nothing): cli_help also times its --help, "
        "freqtrade backtests the same bars with it",
    )
    args = parser.parse_args(argv)
    if args.against_freqtrade:
        os.environ["BENCH_FREQTRADE_VENV"] = args.against_freqtrade
    unknown = sorted(set(args.names) - set(available))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    missed = 0
    for name in args.names or available:
        module = importlib.import_module(f"bench.bench_{name}")
        print(f"== {name}", flush=True)
        for result in module.run(quick=args.quick):
            print(_line(result), flush=True)
            missed += result.passed is False
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
