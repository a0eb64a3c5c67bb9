"""Wiring: build the real collaborators from settings (the CLI's only way to get services)."""

from __future__ import annotations

from pathlib import Path

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.settings import Settings
from autotrader.schema import MIGRATION_SETS


def open_store(settings: Settings, *, path: Path | None = None, migrate: bool = True) -> Store:
    """Open the store at ``path`` (default: the settings' store) with every migration set."""
    return Store(
        path or settings.db_path,
        migrations=MIGRATION_SETS,
        busy_timeout_ms=settings.db_busy_timeout_ms,
        migrate=migrate,
    )


def ingestor(settings: Settings, store: Store, clock, *, sources: tuple[str, ...] = ()):
    """An ``Ingestor`` with real clients for the named sources, URLs from settings."""
    from autotrader.market.ingest import Ingestor, Retention

    hour = 3_600_000
    kwargs: dict = {}
    timeout, retries = settings.http_timeout, settings.http_retries
    if "hyperliquid" in sources:
        from autotrader.market.sources.hyperliquid import HyperliquidSource

        kwargs["hyperliquid"] = HyperliquidSource(
            base_url=settings.hyperliquid_url,
            timeout_ms=int(timeout * 1000),
            max_retries=retries,
            clock=clock,
        )
    if "polymarket" in sources:
        from autotrader.market.sources.polymarket import PolymarketSource

        kwargs["polymarket"] = PolymarketSource(
            settings.polymarket_gamma_url,
            settings.polymarket_clob_url,
            clock=clock,
            timeout_s=timeout,
            max_retries=retries,
        )
    if "defillama" in sources:
        from autotrader.market.sources.defillama import DefiLlamaSource

        kwargs["defillama"] = DefiLlamaSource(
            settings.defillama_url,
            settings.defillama_stablecoins_url,
            clock=clock,
            timeout_s=timeout,
            max_retries=retries,
        )
    retention = Retention(
        fine_ms=int(settings.retention_1m_hours * hour),
        hourly_ms=int(settings.retention_1h_days * 24 * hour),
        observations_ms=int(settings.retention_observations_days * 24 * hour),
    )
    return Ingestor(
        store,
        clock,
        lookback_ms=int(settings.ingest_lookback_hours * hour),
        retention=retention,
        **kwargs,
    )


def precision(store: Store, clock: Clock):
    """ccxt's Hyperliquid precision over the registry (no network)."""
    from autotrader.market.registry import ensure_assets
    from autotrader.prop.precision import CcxtPrecision

    ensure_assets(store, clock)
    return CcxtPrecision(store)


def prop_desk(store: Store, clock: Clock):
    """The gates-and-fills service for prop accounts."""
    from autotrader.prop.execution import PropDesk

    return PropDesk(store, clock, precision(store, clock))
