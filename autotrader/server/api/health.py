"""Liveness and worker health (``workers status``): every registered job's state and every
worker's heartbeat, stale and degraded ones flagged. The path is the backend contract's."""

from __future__ import annotations

from fastapi import APIRouter

from autotrader import __version__
from autotrader.core.worker_status import job_views, worker_views
from autotrader.jobs import JOBS
from autotrader.server.deps import AppClock, AppSettings, ReadStore
from autotrader.server.encoding import ApiResponse

router = APIRouter(prefix="/api/v1", tags=["health"], default_response_class=ApiResponse)


@router.get("/health", summary="The server is up and can read the store")
def health(store: ReadStore, clock: AppClock) -> ApiResponse:
    store.tables()  # a read that fails (503/500) when the store is unreadable
    return ApiResponse({"ok": True, "version": __version__, "now_at": clock.now_ms()})


@router.get("/internal/health/workers", summary="Every job's state and every worker's heartbeat")
def workers(store: ReadStore, clock: AppClock, settings: AppSettings) -> ApiResponse:
    stale_after = settings.worker_stale_after
    jobs = job_views(store, clock, JOBS, stale_after_s=stale_after)
    beats = worker_views(store, clock, stale_after_s=stale_after)
    unhealthy = [j.name for j in jobs if j.state in ("degraded", "failing", "stale")]
    return ApiResponse(
        {"ok": not unhealthy, "unhealthy": unhealthy, "jobs": jobs, "workers": beats}
    )
