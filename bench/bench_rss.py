"""Benchmark: memory of the live decision path (target: under 100 MB resident).

1. ``decisions run-once`` for one rules clone: the command in a process of its own over the
   bundled BTC/ETH candles with the demo's clone 42 (``tests.fakes.decisions``' store), as of a
   day before the data ends; its peak RSS (``VmHWM`` at exit). Same-run baseline: ``--help``.
2. A decision worker after an hour of replayed ticks: the real runner (bootstrap wiring, file
   artifacts) in a spawned process over ``bench_decisions``' market (ten synthetic perps, three
   days of 5m candles) with ten clones, ticking once a replayed minute for an hour (60 ticks,
   every run forced: 6,000 decisions; 6 ticks with ``--quick``);
   its resident and peak RSS at the end, from ``/proc/self/status``. Same-run baseline: the
   process after building the runner, before its first tick.

Run with ``python -m bench rss [--quick]``.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from autotrader.core.clock import MINUTE_MS, iso_utc
from bench._harness import BenchResult
from bench.bench_decisions import NOW, _environment, _runner, _world

TARGET_MB = 100
MB = 1024 * 1024


def _status_mb(field: str) -> float:
    """A ``/proc/self/status`` memory field (VmRSS, VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024 / MB
    raise LookupError(field)


# The CLI in a fresh interpreter that writes its own peak RSS (VmHWM) to a file at exit: a
# child's ``ru_maxrss`` counts the bench process it was forked from, so it cannot tell.
_PROBE = """
import atexit, sys
from pathlib import Path

out, args = Path(sys.argv[1]), sys.argv[2:]

def peak():
    status = Path("/proc/self/status").read_text().splitlines()
    out.write_text(next(line.split()[1] for line in status if line.startswith("VmHWM:")))

atexit.register(peak)
from autotrader.cli.app import main
sys.argv = ["autotrader", *args]
main()
"""


def _peak_mb_of(args: list[str], env: dict[str, str], folder: Path) -> float:
    """Run ``autotrader *args`` to completion; its peak RSS in MB."""
    out = folder / "peak-kb"
    subprocess.run(
        [sys.executable, "-c", _PROBE, str(out), *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return int(out.read_text()) * 1024 / MB


def run_once_rss() -> list[BenchResult]:
    from tests.fakes.decisions import CLONE_ID, build_template, replay_start

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with _environment(folder / "data"):
            db = str(build_template(folder / "run-once.db"))
            env = {**os.environ, "AUTOTRADER_NOW": iso_utc(replay_start())}
        baseline = _peak_mb_of(["--help"], env, folder)
        command = ["decisions", "run-once", "--clone-id", str(CLONE_ID), "--db", db]
        peak = _peak_mb_of(command, env, folder)
    return [
        BenchResult(
            name="decisions run-once, the demo's rules clone on BTC+ETH (peak RSS)",
            value=peak,
            unit="MB",
            baseline=baseline,
            ratio_label="vs autotrader --help",
            target=f"< {TARGET_MB} MB",
            passed=peak < TARGET_MB,
        )
    ]


def _worker(conn, folder: str, ticks: int) -> None:
    """The replayed worker, in a process of its own over the store the parent built: opens it,
    builds the runner, ticks once a replayed minute, and sends (RSS before the first tick, RSS
    after the last, peak RSS, decisions)."""
    from autotrader.core.clock import SimulatedClock
    from autotrader.core.db import Store
    from autotrader.schema import MIGRATION_SETS

    path = Path(folder)
    with _environment(path / "data"):
        store = Store(path / "bench.db", migrations=MIGRATION_SETS)
        clock = SimulatedClock(NOW - ticks * MINUTE_MS)
        runner = _runner(store, clock)
        before = _status_mb("VmRSS")
        decisions = 0
        for _ in range(ticks):
            decisions += len(runner.tick(force=True).runs)
            clock.advance(ms=MINUTE_MS)
        conn.send((before, _status_mb("VmRSS"), _status_mb("VmHWM"), decisions))
        store.close()


def worker_rss(ticks: int) -> list[BenchResult]:
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    with tempfile.TemporaryDirectory() as tmp:
        with _environment(Path(tmp) / "data"):
            store, _clock = _world(Path(tmp), 10, "rules")
            store.close()
        process = ctx.Process(target=_worker, args=(theirs, tmp, ticks))
        process.start()
        before, after, peak, decisions = ours.recv()
        process.join(timeout=60)
    return [
        BenchResult(
            name=f"decision worker after {ticks} replayed ticks ({decisions} decisions), RSS",
            value=after,
            unit="MB",
            baseline=before,
            ratio_label="vs before its first tick",
            target=f"< {TARGET_MB} MB",
            passed=after < TARGET_MB,
        ),
        BenchResult(
            name=f"decision worker after {ticks} replayed ticks, peak RSS",
            value=peak,
            unit="MB",
            baseline=before,
            ratio_label="vs before its first tick",
            target=f"< {TARGET_MB} MB",
            passed=peak < TARGET_MB,
        ),
    ]


def run(quick: bool = False) -> list[BenchResult]:
    return [*run_once_rss(), *worker_rss(6 if quick else 60)]


if __name__ == "__main__":
    for result in run():
        print(result)
