"""Run a registered job from a command: once (cron) or as a worker loop (tmux/systemd)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from autotrader.cli._context import clock, open_store, settings_for
from autotrader.cli._render import say

if TYPE_CHECKING:
    from autotrader.core.worker import TickReport


def run_job(
    ctx: typer.Context,
    name: str,
    *,
    db: str | Path | None = None,
    options: Mapping[str, Any] | None = None,
    loop: bool = False,
    interval: float | None = None,
    max_ticks: int | None = None,
    duration_s: float | None = None,
) -> TickReport | None:
    """Build the registered job ``name`` and run it once (the default) or loop it.

    One pass returns its report (its error propagates: exit 1). A loop returns ``None`` once
    stopped by a signal or ``--max-ticks``; it exits 1 on an operational error, and when it
    stopped while failing (no tick ever succeeded, or its last breaker-many ticks all failed:
    ``WorkerSummary.failing``). ``duration_s`` ends a loop after that many seconds. The
    interval is ``--interval``, else ``AUTOTRADER_WORKER_INTERVAL`` when set, else the job's
    own. A job holding a connection has a ``close()``, called however the run ends.
    """
    from autotrader.core.errors import OperationalError
    from autotrader.core.jobs import JobEnv
    from autotrader.core.worker import Worker, WorkerConfig, worker_identity
    from autotrader.jobs import JOBS

    spec = JOBS.get(name)
    settings = settings_for(ctx, db)
    store = open_store(ctx, db)
    chosen = interval or (
        settings.worker_interval if "worker_interval" in settings.model_fields_set else None
    )
    config = WorkerConfig(
        name=spec.name,
        interval=chosen or spec.interval,
        jitter=settings.worker_jitter,
        max_interval=max(settings.worker_max_interval, chosen or spec.interval),
        breaker_failures=settings.worker_breaker_failures,
    )
    once = not loop and max_ticks is None and duration_s is None
    env = JobEnv(
        settings=settings,
        store=store,
        clock=clock(ctx),
        worker_id=worker_identity(spec.name),
        options={"once": once, **(options or {})},
    )
    tick = spec.build(env)
    try:
        worker = Worker(config, tick, store=store, clock=env.clock)
        if once:
            return worker.run_once()
        # A worker writes for hours: it starts only on a store that passes SQLite's quick check
        # (seconds on a large store, paid once; a cron pass relies on SQLite's per-page checks).
        store.require_intact()
        summary = worker.run(max_ticks=max_ticks, duration_s=duration_s)
    finally:
        close = getattr(tick, "close", None)
        if close is not None:
            close()
    say(
        f"{spec.name}: stopped ({summary.stopped_by}) after {summary.ticks} ticks, "
        f"{summary.failures} failed; last status {summary.status}"
    )
    if summary.failing:
        raise OperationalError(
            f"{spec.name}: the worker stopped while failing "
            f"({summary.failures} of {summary.ticks} ticks failed; last: {summary.last_error})"
        )
    return None
