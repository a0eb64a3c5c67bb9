"""Market memory: the asset registry, the latest candle with its indicators per symbol, and
ingestion health per source and channel (``ingest assets``, ``ingest latest``,
``ingest status``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from autotrader.market import repo as market_repo
from autotrader.market.health import channel_health
from autotrader.market.view import latest_view
from autotrader.server.deps import AppClock, AppSettings, ReadStore
from autotrader.server.encoding import ApiResponse

router = APIRouter(prefix="/api/v1/market", tags=["market"], default_response_class=ApiResponse)
Symbol = Annotated[
    str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9/:._-]+$", description="BTC")
]


@router.get("/assets", summary="The asset registry: precision, limits, channels, categories")
def assets(
    store: ReadStore,
    kind: Annotated[Literal["perp", "spot"] | None, Query()] = None,
    active: Annotated[bool, Query(description="Only active markets.")] = False,
) -> ApiResponse:
    return ApiResponse({"assets": market_repo.list_assets(store, kind=kind, active_only=active)})


@router.get("/latest/{symbol}", summary="The newest candle of a symbol with every indicator")
def latest(
    symbol: Symbol,
    store: ReadStore,
    clock: AppClock,
    timeframe: Annotated[Literal["1m", "5m", "1h"] | None, Query()] = None,
) -> ApiResponse:
    return ApiResponse(latest_view(store, clock, symbol.upper(), timeframe))


@router.get("/ingestion", summary="Per source and channel: last success, coverage, lag, stale")
def ingestion(store: ReadStore, clock: AppClock, settings: AppSettings) -> ApiResponse:
    channels = channel_health(store, clock, price_stale_after_s=settings.ingest_stale_after)
    return ApiResponse({"channels": channels, "generated_at": clock.now_ms()})
