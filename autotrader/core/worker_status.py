"""Reading worker heartbeats: who is alive, who is stale, what failed last."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from autotrader.core import repo
from autotrader.core.clock import Clock, iso_utc
from autotrader.core.db import Store

if TYPE_CHECKING:
    from autotrader.core.jobs import JobSpec


@dataclass(frozen=True)
class WorkerView:
    worker_id: str
    name: str
    pid: int
    host: str
    started_at: str
    last_beat_at: str
    age_s: float
    status: str
    stale: bool
    ticks: int
    failures: int
    consecutive_failures: int
    last_error: str | None


def worker_views(store: Store, clock: Clock, *, stale_after_s: float) -> list[WorkerView]:
    """Every known worker, newest beat first.

    A running worker is *stale* when its last beat is older than the larger of ``stale_after_s``
    and three of its own intervals (a slow worker is not stale just because it ticks rarely).
    Stopped workers are never stale.
    """
    now = clock.now_ms()
    rows = repo.heartbeats(store)
    views = []
    for row in rows:
        age = (now - row["last_beat_at"]) / 1000
        limit = max(stale_after_s, 3 * row["interval_s"])
        views.append(
            WorkerView(
                worker_id=row["worker_id"],
                name=row["name"],
                pid=row["pid"],
                host=row["host"],
                started_at=iso_utc(row["started_at"]),
                last_beat_at=iso_utc(row["last_beat_at"]),
                age_s=round(age, 3),
                status=row["last_status"],
                stale=row["last_status"] != "stopped" and age > limit,
                ticks=row["ticks"],
                failures=row["failures"],
                consecutive_failures=row["consecutive_failures"],
                last_error=row["last_error"],
            )
        )
    return views


@dataclass(frozen=True)
class JobView:
    """One registered job as ``workers status`` shows it."""

    name: str
    summary: str
    interval_s: float
    state: str  # running | degraded | failing | stale | stopped | never run
    live_workers: int
    last_beat_at: str | None
    last_tick_at: str | None
    last_tick_status: str | None
    last_tick_summary: str | None
    commands: tuple[str, ...]


def job_views(
    store: Store, clock: Clock, specs: Iterable[JobSpec], *, stale_after_s: float
) -> list[JobView]:
    """Every registered job with its workers' state and its newest tick (cron runs included).

    The state is the most alarming of its workers' states (degraded, failing, stale) when any
    worker is still running, ``running`` when they are healthy, else ``stopped`` once it has
    run, else ``never run``.
    """
    workers = worker_views(store, clock, stale_after_s=stale_after_s)
    ticks = repo.last_action_runs(store)
    views = []
    for spec in specs:
        mine = [w for w in workers if w.name == spec.name]
        running = [w for w in mine if w.status != "stopped"]
        tick = ticks.get(spec.name)
        views.append(
            JobView(
                name=spec.name,
                summary=spec.summary,
                interval_s=spec.interval,
                state=_job_state(running, ran=bool(mine or tick)),
                live_workers=sum(1 for w in running if not w.stale),
                last_beat_at=mine[0].last_beat_at if mine else None,
                last_tick_at=iso_utc(tick["started_at"]) if tick else None,
                last_tick_status=tick["status"] if tick else None,
                last_tick_summary=(tick["summary"] or tick["error"]) if tick else None,
                commands=spec.commands,
            )
        )
    return views


def _job_state(running: list[WorkerView], *, ran: bool) -> str:
    if running:
        if any(w.status == "degraded" for w in running):
            return "degraded"
        if any(w.status == "failed" for w in running):
            return "failing"
        if all(w.stale for w in running):
            return "stale"
        return "running"
    return "stopped" if ran else "never run"
