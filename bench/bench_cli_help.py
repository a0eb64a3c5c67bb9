"""How long ``autotrader --help`` takes, against floors measured in the same run.

Three same-run baselines: a bare interpreter (``python -c pass``; target: at most 8× it),
``python -c "import typer, rich"`` (the floor our CLI framework sets), and — with
``--against-freqtrade VENV`` (or ``BENCH_FREQTRADE_VENV``) — ``VENV/bin/freqtrade --help``
(target: no slower). The bench installs nothing: without a freqtrade environment that line is
skipped. The commands are timed in interleaved rounds (each median over the same minutes).
Each ``ratio:`` line is printed as well, for the record.

Run with ``python -m bench cli_help [--quick]`` or
``python -m bench cli_help --against-freqtrade /path/to/freqtrade/.venv``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench._harness import BenchResult

MAX_OVER_BARE = 8.0


def _command() -> list[str]:
    script = Path(sys.executable).with_name("autotrader")
    if script.exists():
        return [str(script), "--help"]
    found = shutil.which("autotrader")
    return [found, "--help"] if found else [sys.executable, "-m", "autotrader", "--help"]


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _freqtrade(venv: str | None) -> list[str] | None:
    if not venv:
        return None
    script = Path(venv) / "bin" / "freqtrade"
    if not script.exists():
        raise SystemExit(f"no freqtrade at {script}")
    return [str(script), "--help"]


def _interleaved_medians(commands: list[list[str]], repeat: int) -> list[float]:
    """Median wall seconds of each command, timed one round of all of them at a time (after
    one unmeasured round), so a load that comes and goes on a shared machine falls on every
    command alike instead of on whichever ran during it."""
    for command in commands:
        _run(command)
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(repeat):
        for command, samples in zip(commands, times, strict=True):
            started = time.perf_counter()
            _run(command)
            samples.append(time.perf_counter() - started)
    return [statistics.median(samples) for samples in times]


def run(quick: bool = False, against_freqtrade: str | None = None) -> list[BenchResult]:
    repeat = 5 if quick else 15
    freqtrade = _freqtrade(against_freqtrade or os.environ.get("BENCH_FREQTRADE_VENV"))
    commands = [[sys.executable, "-c", "pass"], [sys.executable, "-c", "import typer, rich"]]
    commands += [_command(), *([freqtrade] if freqtrade else [])]
    bare, floor, ours, *theirs = _interleaved_medians(commands, repeat)
    results = [
        BenchResult(
            name="autotrader --help (median)",
            value=ours,
            unit="s",
            baseline=bare,
            ratio_label="vs bare python",
            target=f"<= {MAX_OVER_BARE:g} x bare python",
            passed=ours <= MAX_OVER_BARE * bare,
        ),
        BenchResult(
            name="autotrader --help vs import typer, rich",
            value=ours,
            unit="s",
            baseline=floor,
            ratio_label="vs typer+rich import",
        ),
    ]
    if theirs:
        results.append(
            BenchResult(
                name="autotrader --help vs freqtrade --help",
                value=ours,
                unit="s",
                baseline=theirs[0],
                ratio_label="vs freqtrade",
                target="<= freqtrade --help",
                passed=ours <= theirs[0],
            )
        )
    for result in results:
        print(f"ratio: {result.name}: {result.ratio:.2f}x", flush=True)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--against-freqtrade", metavar="VENV", help="a freqtrade virtualenv")
    args = parser.parse_args()
    for line in run(args.quick, args.against_freqtrade):
        print(line)
