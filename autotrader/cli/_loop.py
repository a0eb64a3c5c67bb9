"""Run a tick from a command: once (cron) or as a worker loop (tmux/systemd)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from autotrader.cli._context import clock, settings_for
from autotrader.cli._render import say

if TYPE_CHECKING:
    from autotrader.core.db import Store
    from autotrader.core.worker import Tick, TickReport


def run_tick(
    ctx: typer.Context,
    *,
    name: str,
    tick: Tick,
    store: Store,
    loop: bool,
    interval: float | None,
    max_ticks: int | None,
) -> TickReport | None:
    """Run ``tick`` once (the default), or loop it under the harness with ``--loop``.

    One pass returns its report (its error propagates: exit 1). A loop returns ``None`` once
    stopped by a signal or ``--max-ticks``; it exits 1 only on an operational error.
    """
    from autotrader.core.worker import Worker, WorkerConfig

    settings = settings_for(ctx)
    config = WorkerConfig(
        name=name,
        interval=interval or settings.worker_interval,
        jitter=settings.worker_jitter,
        max_interval=max(settings.worker_max_interval, interval or 0),
        breaker_failures=settings.worker_breaker_failures,
    )
    worker = Worker(config, tick, store=store, clock=clock(ctx))
    if not loop and max_ticks is None:
        return worker.run_once()
    summary = worker.run(max_ticks=max_ticks)
    say(
        f"{name}: stopped ({summary.stopped_by}) after {summary.ticks} ticks, "
        f"{summary.failures} failed; last status {summary.status}"
    )
    return None
