"""``/admin/ingestion`` (the backend contract's path; read-only, no token) and ``/workers``:
is market data arriving, and is every loop alive."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from autotrader.core.worker_status import job_views, worker_views
from autotrader.jobs import JOBS
from autotrader.market.health import channel_health
from autotrader.server.deps import AppClock, AppSettings, ReadStore
from autotrader.server.pages._render import page

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/admin/ingestion")
def ingestion_page(
    request: Request, store: ReadStore, clock: AppClock, settings: AppSettings
) -> HTMLResponse:
    channels = channel_health(store, clock, price_stale_after_s=settings.ingest_stale_after)
    return page(request, "ingestion.html", "Ingestion health", channels=channels)


@router.get("/workers")
def workers_page(
    request: Request, store: ReadStore, clock: AppClock, settings: AppSettings
) -> HTMLResponse:
    stale_after = settings.worker_stale_after
    return page(
        request,
        "workers.html",
        "Workers",
        jobs=job_views(store, clock, JOBS, stale_after_s=stale_after),
        workers=worker_views(store, clock, stale_after_s=stale_after),
    )
