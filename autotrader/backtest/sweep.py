"""``backtest --sweep PARAM=v1,v2 …``: every combination of rules parameters, one backtest
each, spread over worker processes (one per core), each into a store of its own.

A worker opens the source store read-only and its own target store with ``open_store`` (a
module-level function the caller passes, so it crosses the process boundary by name), plans and
runs exactly what a single ``backtest`` would, and sends back the report rows. A sweep's row
and a single run of the same parameters give the same ledger hash.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError
from autotrader.decisions.engines.rules import RulesParams

from .report import CloneReport, clone_reports
from .runs import BacktestSpec, check_backtest, plan_backtest, run_backtest

# ``policies`` (a list) is swept as ``policy``, one value per combination.
SWEEPABLE = tuple(name for name in RulesParams.model_fields if name != "policies")
MAX_COMBINATIONS = 1_000

OpenStore = Callable[[Path, bool], Store]
"""``open_store(path, readonly)``: a store with every migration set (migrated unless read-only)."""


@dataclass(frozen=True)
class SweepRow:
    """One combination's outcome: its parameters, run id, store and per-clone reports."""

    params: tuple[tuple[str, Any], ...]
    run_id: str
    store: Path
    ledger_sha256: str
    clones: list[CloneReport]


def combinations(texts: Sequence[str]) -> list[tuple[tuple[str, Any], ...]]:
    """``["stop_pct=0.01,0.02", "leverage=2,3"]`` → every combination, in order, as
    ``(("stop_pct", "0.01"), ("leverage", 2))`` …; InvalidInputError for a malformed option, an
    unknown parameter, a parameter given twice or more than ``MAX_COMBINATIONS``."""
    axes: dict[str, list[Any]] = {}
    for text in texts:
        name, sep, values = text.partition("=")
        name = name.strip()
        items = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not items:
            raise InvalidInputError(f"--sweep {text!r}: expected PARAM=v1,v2,…")
        if name not in SWEEPABLE:
            raise InvalidInputError(
                f"--sweep: unknown parameter {name!r} (one of {', '.join(SWEEPABLE)})"
            )
        if name in axes:
            raise InvalidInputError(f"--sweep: {name} is given twice")
        axes[name] = [_value(item) for item in dict.fromkeys(items)]
    count = 1
    for values in axes.values():
        count *= len(values)
    if count > MAX_COMBINATIONS:
        raise InvalidInputError(f"--sweep: {count} combinations, at most {MAX_COMBINATIONS}")
    names = list(axes)
    return [tuple(zip(names, combo, strict=True)) for combo in itertools.product(*axes.values())]


def _value(text: str) -> Any:
    """A parameter value as the pipeline's JSON would hold it: a bool, a whole number, or the
    text itself (decimal strings stay exact; the rules engine validates them)."""
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def check(source: Store, spec: BacktestSpec, combos: Sequence[tuple]) -> None:
    """Refuse a bad spec or combination here, before any worker starts or file is written:
    the period's history is checked once, each combination's parameters on every clone. A
    sweep varies rules parameters: model strategies are refused (replay them one run each)."""
    if plan_backtest(source, spec).uses_models:
        raise InvalidInputError("--sweep varies rules parameters; replay llm strategies without it")
    for params in combos:
        check_backtest(source, dataclasses.replace(spec, params=params))


def sweep(
    source: Path,
    folder: Path,
    spec: BacktestSpec,
    combos: Sequence[tuple[tuple[str, Any], ...]],
    *,
    run_id: str,
    open_store: OpenStore,
    started_at_ms: int,
    processes: int | None = None,
) -> list[SweepRow]:
    """Run each combination in a worker process, into ``folder/<run_id>-<n>.db``; the rows in
    combination order."""
    jobs = [
        (source, folder / f"{run_id}-{n}.db", dataclasses.replace(spec, params=params),
         f"{run_id}-{n}", open_store, started_at_ms)
        for n, params in enumerate(combos, 1)
    ]  # fmt: skip
    workers = max(1, min(len(jobs), processes or os.cpu_count() or 1))
    # spawn, not fork: a forked worker would inherit the parent's SQLite connections.
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        return list(pool.map(_run_one, *zip(*jobs, strict=True)))


def _run_one(
    source_path: Path,
    target_path: Path,
    spec: BacktestSpec,
    run_id: str,
    open_store: OpenStore,
    started_at_ms: int,
) -> SweepRow:
    from autotrader.prop.precision import CcxtPrecision

    source = open_store(source_path, True)
    target = open_store(target_path, False)
    try:
        result = run_backtest(
            plan_backtest(source, spec),
            target,
            precision=CcxtPrecision(source),
            run_id=run_id,
            started_at_ms=started_at_ms,
        )
        accounts = {c.clone_id: c.account_id for c in result.clones}
        reports = clone_reports(target, accounts, since_ms=spec.since_ms, until_ms=spec.until_ms)
        return SweepRow(spec.params, run_id, target_path, result.ledger_sha256, reports)
    finally:
        target.close()
        source.close()
