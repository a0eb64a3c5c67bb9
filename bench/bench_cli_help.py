"""How long ``autotrader --help`` takes (target: at most 0.5 s median on a 2-core machine).

The baseline is a bare interpreter start (``python -c pass``) in the same run, so the ratio says
how much our imports cost on top of Python itself.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bench._harness import BenchResult, median_seconds

TARGET_S = 0.5


def _command() -> list[str]:
    script = Path(sys.executable).with_name("autotrader")
    if script.exists():
        return [str(script), "--help"]
    found = shutil.which("autotrader")
    return [found, "--help"] if found else [sys.executable, "-m", "autotrader", "--help"]


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run(quick: bool = False) -> list[BenchResult]:
    repeat = 5 if quick else 15
    baseline = median_seconds(lambda: _run([sys.executable, "-c", "pass"]), repeat=repeat)
    help_time = median_seconds(lambda: _run(_command()), repeat=repeat)
    return [
        BenchResult(
            name="autotrader --help (median)",
            value=help_time,
            unit="s",
            baseline=baseline,
            ratio_label="vs bare python",
            target=f"<= {TARGET_S} s",
            passed=help_time <= TARGET_S,
        )
    ]


if __name__ == "__main__":
    for result in run():
        print(result)
