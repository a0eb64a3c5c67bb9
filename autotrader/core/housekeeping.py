"""The housekeeping tick: keeps the store small and healthy between the real work.

It folds the WAL back into the database file, prunes old tick history, and forgets heartbeats of
workers that stopped long ago. Later features register recovery steps here (for example putting
decision runs claimed by a dead worker back in the queue).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from autotrader.core import repo
from autotrader.core.clock import DAY_MS
from autotrader.core.worker import TickContext, TickReport

if TYPE_CHECKING:
    from autotrader.core.jobs import JobEnv

RecoveryStep = Callable[[TickContext], int]
"""A recovery step returns how many rows it repaired."""


def housekeeping_tick(
    *,
    retention_days: float = 7.0,
    recovery_steps: dict[str, RecoveryStep] | None = None,
) -> Callable[[TickContext], TickReport]:
    """Build the housekeeping tick with its retention and extra recovery steps."""
    steps = dict(recovery_steps or {})

    def tick(ctx: TickContext) -> TickReport:
        cutoff = ctx.clock.now_ms() - int(retention_days * DAY_MS)
        with ctx.store.atomic():
            pruned, forgotten = repo.prune_history(ctx.store, before_ms=cutoff)
        counts = {"action_runs_pruned": pruned, "heartbeats_forgotten": forgotten}
        for name, step in steps.items():
            counts[name] = step(ctx)
        _, _wal_pages, checkpointed = ctx.store.checkpoint()
        counts["wal_pages_checkpointed"] = checkpointed
        summary = ", ".join(f"{key}={value}" for key, value in counts.items())
        return TickReport(summary=summary, counts=counts, idle=not any((pruned, forgotten)))

    return tick


def housekeeping_job(env: JobEnv) -> Callable[[TickContext], TickReport]:
    """The registered housekeeping job with the default retention and every recovery step."""
    return housekeeping_tick()
