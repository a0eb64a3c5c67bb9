"""Tiny benchmark harness: time a callable several times and report the median.

Machines here are noisy, so every benchmark measures its own baseline in the same run and
reports a ratio; absolute times are printed for the record only.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class BenchResult:
    """One line of the benchmark report."""

    name: str
    value: float  # the figure of merit, in ``unit``
    unit: str
    baseline: float | None = None  # the same-run baseline, in ``unit``
    ratio_label: str = "ratio"
    target: str = ""  # human text, e.g. "<= 0.5 s median"
    passed: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline


def median_seconds(fn: Callable[[], object], *, repeat: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs after ``warmup`` unmeasured runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
