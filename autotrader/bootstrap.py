"""Wiring: build the real collaborators from settings (the CLI's only way to get services)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.settings import Settings
from autotrader.schema import MIGRATION_SETS

_MIN_CLAIM_BATCH = 16  # decision runs one worker claims at once, at least


def open_store(settings: Settings, *, path: Path | None = None, migrate: bool = True) -> Store:
    """Open the store at ``path`` (default: the settings' store) with every migration set."""
    return Store(
        path or settings.db_path,
        migrations=MIGRATION_SETS,
        busy_timeout_ms=settings.db_busy_timeout_ms,
        migrate=migrate,
    )


def ingestor(
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
        slow_interval_ms=int(settings.ingest_slow_interval * 1000) if worker else 0,
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


class _LazyModelClient:
    """Builds the model client on its first call: a tick of rules or hold decisions never pays
    for importing the openai SDK (about a second) or opening the client's log connection."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._client: Any = None
        self._lock = threading.Lock()

    def complete(self, **kwargs: Any) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._build()
        return self._client.complete(**kwargs)


def engines(settings: Settings, store: Store, clock: Clock) -> dict:
    """Every decision engine by name. Model-backed engines share one model client."""
    from autotrader.decisions.engines.committee import CommitteeEngine
    from autotrader.decisions.engines.hold import HoldEngine
    from autotrader.decisions.engines.llm import LlmEngine
    from autotrader.decisions.engines.rules import RulesEngine

    client = _LazyModelClient(lambda: model_client(settings, store, clock))
    return {
        "hold": HoldEngine(),
        "rules": RulesEngine(),
        "llm": LlmEngine(client, settings=settings),
        "committee": CommitteeEngine(client, settings=settings),
    }


def model_client(settings: Settings, store: Store, clock: Clock):
    """The model client, logging invocations on a connection of its own to ``store``'s file (it
    is called from the decision runner's threads while the main connection runs transactions).
    Prices come from the model registry (USD per 1M tokens)."""
    from decimal import Decimal

    from autotrader.clones.repo import list_models
    from autotrader.llm.client import LlmConfig, ModelClient

    prices: dict[str, tuple[Decimal, Decimal]] = {}
    for m in list_models(store):
        prices[m["name"]] = prices[m["api_model"]] = (
            m["input_usd_per_mtok"],
            m["output_usd_per_mtok"],
        )

    def price_for(model: str) -> tuple[Decimal, Decimal]:
        return prices.get(model, (Decimal(0), Decimal(0)))

    log_store = open_store(settings, path=store.path, migrate=False)
    return ModelClient(LlmConfig.from_settings(settings), log_store, clock, price_for=price_for)


def decision_runner(settings: Settings, store: Store, clock: Clock, *, worker_id: str):
    """The decision loop over ``store`` with every engine, the prop desk and its settings.

    A worker claims a few pools' worth of runs at a time, not every due run: other worker
    processes share the rest, and a claimed run starts well within the stale-claim window
    (hundreds of model calls claimed at once could sit "running" past it and be recovered by
    another worker while this one still holds them).
    """
    from autotrader.artifacts.index import artifact_store_from_settings
    from autotrader.decisions.requests import RequestBuilder
    from autotrader.decisions.runner import DecisionRunner

    return DecisionRunner(
        store,
        clock,
        engines=engines(settings, store, clock),
        desk=prop_desk(store, clock),
        build_request=RequestBuilder(clock),
        open_thread_store=lambda: open_store(settings, path=store.path, migrate=False),
        worker_id=worker_id,
        concurrency=settings.decision_concurrency,
        batch=max(_MIN_CLAIM_BATCH, 2 * settings.decision_concurrency),
        artifacts=artifact_store_from_settings(settings, store, clock),
    )
