"""Reading worker heartbeats: who is alive, who is stale, what failed last."""

from __future__ import annotations

from dataclasses import dataclass

from autotrader.core import repo
from autotrader.core.clock import Clock, iso_utc
from autotrader.core.db import Store


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
