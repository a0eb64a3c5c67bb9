"""Reading worker heartbeats: who is alive, who is stale, what failed last."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from autotrader.core import repo
from autotrader.core.clock import Clock, iso_utc
from autotrader.core.db import Store
from autotrader.core.worker import STOPPED, parse_worker_identity

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
                stale=_stale(row, now, stale_after_s),
                ticks=row["ticks"],
                failures=row["failures"],
                consecutive_failures=row["consecutive_failures"],
                last_error=row["last_error"],
            )
        )
    return views


def _stale(row: dict, now_ms: int, stale_after_s: float) -> bool:
    """Whether a heartbeat row is stale: not stopped, and older than the larger of
    ``stale_after_s`` and three of its worker's intervals."""
    limit = max(stale_after_s, 3 * row["interval_s"])
    return row["last_status"] != STOPPED and (now_ms - row["last_beat_at"]) / 1000 > limit


def gone_workers(
    store: Store, worker_ids: Iterable[str], *, now_ms: int, stale_after_s: float
) -> set[str]:
    """The workers among ``worker_ids`` known to be gone, whose claims nobody will finish.

    A worker on this host is gone when its process is (``pid`` not alive): a live process is
    never judged by its heartbeat, whose writes a busy store may have refused. A worker on another
    host, or with an id that names no process, is gone when its heartbeat is missing, says
    ``stopped``, or is stale. A pid reused by another process keeps its claims until the caller's
    time-based fallback (claims older than a stale window) recovers them.
    """
    ids = set(worker_ids)
    if not ids:
        return set()
    beats = {row["worker_id"]: row for row in repo.heartbeats(store) if row["worker_id"] in ids}
    here = socket.gethostname()
    gone = set()
    for worker_id in ids:
        identity = parse_worker_identity(worker_id)
        if identity is not None and identity[1] == here:
            alive = _process_alive(identity[2])
        else:
            beat = beats.get(worker_id)
            alive = (
                beat is not None
                and beat["last_status"] != STOPPED
                and not _stale(beat, now_ms, stale_after_s)
            )
        if not alive:
            gone.add(worker_id)
    return gone


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


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
