"""Building the ingest service from settings: real clients for the named sources, URLs and
retention from settings (the composition root, ``autotrader.bootstrap``, re-exports it)."""

from __future__ import annotations

from autotrader.core.clock import HOUR_MS, Clock
from autotrader.core.db import Store
from autotrader.core.settings import Settings


def build_ingestor(
    settings: Settings,
    store: Store,
    clock: Clock,
    *,
    sources: tuple[str, ...] = (),
    worker: bool = False,
):
    """An ``Ingestor`` with real clients for the named sources, URLs from settings.

    ``worker=True`` spaces the slow sources (Polymarket, DefiLlama) by
    ``AUTOTRADER_INGEST_SLOW_INTERVAL``; a one-shot run fetches everything it is asked for.
    """
    from autotrader.market.ingest import Ingestor, Retention

    kwargs: dict = {}
    timeout, retries = settings.http_timeout, settings.http_retries
    if "hyperliquid" in sources:
        from autotrader.market.sources.hyperliquid import HyperliquidSource

        kwargs["hyperliquid"] = HyperliquidSource(
            base_url=settings.hyperliquid_url,
            timeout_ms=int(timeout * 1000),
            max_retries=retries,
            clock=clock,
            rate_limit_ms=settings.hyperliquid_rate_limit_ms,
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
            settings.defillama_open_interest_path,
            clock=clock,
            timeout_s=timeout,
            max_retries=retries,
        )
    retention = Retention(
        fine_ms=int(settings.retention_1m_hours * HOUR_MS),
        hourly_ms=int(settings.retention_1h_days * 24 * HOUR_MS),
        observations_ms=int(settings.retention_observations_days * 24 * HOUR_MS),
    )
    return Ingestor(
        store,
        clock,
        lookback_ms=int(settings.ingest_lookback_hours * HOUR_MS),
        retention=retention,
        slow_interval_ms=int(settings.ingest_slow_interval * 1000) if worker else 0,
        **kwargs,
    )


def build_candle_stream(settings: Settings, store: Store, symbols: list[str]):
    """A ``CandleStream`` of ``symbols``' 1m candles: the WebSocket URL, the REST URL its
    markets load from and the reconnect back-off from settings. Raises ``NotFoundError`` for a
    symbol the asset registry does not know (before anything connects)."""
    from autotrader.core.errors import NotFoundError
    from autotrader.market import repo
    from autotrader.market.sources.hyperliquid_stream import CandleStream, ReconnectBackoff

    markets = {}
    for symbol in symbols:
        asset = repo.get_asset(store, symbol)
        if asset is None:
            raise NotFoundError(f"unknown symbol {symbol!r}; run `autotrader ingest assets sync`")
        markets[symbol] = asset.ccxt_symbol
    return CandleStream(
        markets,
        ws_url=settings.hyperliquid_ws_url,
        rest_url=settings.hyperliquid_url,
        backoff=ReconnectBackoff(
            base=settings.stream_reconnect_base,
            cap=settings.stream_reconnect_max,
            jitter=settings.stream_reconnect_jitter,
        ),
        timeout_ms=int(settings.http_timeout * 1000),
    )
