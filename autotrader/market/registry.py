"""The asset registry: which markets exist, their precision and limits, their channels and
categories. It is the source of truth for what (channel, asset) pairs exist.

The package ships an offline snapshot of Hyperliquid's markets, so a fresh store knows every
market's precision, minimum notional and maximum leverage with no network; ``sync`` with
``refresh=True`` reloads them from the exchange.
"""

from __future__ import annotations

import json
from typing import Any

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import NotFoundError
from autotrader.core.repo import get_meta, set_meta
from autotrader.market import repo
from autotrader.market.models import AssetInfo


def _categorized(hyperliquid: Any, *, refresh: bool) -> list[AssetInfo]:
    """The source's markets as assets, categorised with the shipped taxonomy."""
    from autotrader.market.taxonomy import categorize, load_taxonomy

    taxonomy = load_taxonomy()
    return [categorize(asset, taxonomy) for asset in hyperliquid.assets(refresh=refresh)]


def _packaged_assets() -> list[AssetInfo]:
    from autotrader.market.sources.hyperliquid import HyperliquidSource

    return sorted(_categorized(HyperliquidSource(), refresh=False), key=lambda a: a.symbol)


def sync_assets(store: Store, clock: Clock, hyperliquid: Any, *, refresh: bool = False) -> int:
    """Load markets (packaged snapshot, or the exchange when ``refresh``), categorise them with
    the shipped taxonomy, and upsert them. Returns how many assets the registry now holds."""
    assets = _categorized(hyperliquid, refresh=refresh)
    with store.atomic():
        repo.upsert_assets(store, assets, now_ms=clock.now_ms())
        if refresh:
            remember_markets(store, hyperliquid.markets(), now_ms=clock.now_ms())
    return repo.count_assets(store)


def ensure_assets(store: Store, clock: Clock) -> None:
    """Seed an empty registry from the packaged snapshot (offline, idempotent). A write: read
    paths use :func:`known_assets` instead."""
    if repo.count_assets(store):
        return
    from autotrader.market.sources.hyperliquid import HyperliquidSource

    sync_assets(store, clock, HyperliquidSource(), refresh=False)


def known_assets(store: Store) -> list[AssetInfo]:
    """Every registered asset, by symbol. A registry no write has seeded yet reads as the
    packaged snapshot it would be seeded with, so a read never has to write it."""
    return repo.list_assets(store) or _packaged_assets()


def resolve(store: Store, symbol: str) -> AssetInfo:
    """The registered asset for ``symbol`` (case-insensitive), or NotFoundError naming it. An
    unseeded registry is looked up in the packaged snapshot, as :func:`known_assets` does."""
    asset = repo.get_asset(store, symbol) or repo.get_asset(store, symbol.upper())
    if asset is None and not repo.count_assets(store):
        asset = next((a for a in _packaged_assets() if a.symbol in {symbol, symbol.upper()}), None)
    if asset is None:
        raise NotFoundError(
            f"unknown asset {symbol!r}; see `autotrader ingest assets list` "
            "(or refresh with `autotrader ingest assets sync --refresh`)"
        )
    return asset


MARKETS_META_KEY = "hyperliquid_markets"


def remember_markets(store: Store, markets: dict[str, Any], *, now_ms: int) -> None:
    """Keep the exchange's ccxt market structures, so fills use the precision of the last sync."""
    set_meta(store, MARKETS_META_KEY, json.dumps(markets, default=str), now_ms=now_ms)


def stored_markets(store: Store) -> dict[str, Any]:
    """The ccxt markets of the last exchange sync, else the packaged snapshot."""
    stored = get_meta(store, MARKETS_META_KEY)
    if stored:
        return json.loads(stored)
    from autotrader.market.sources.hyperliquid import packaged_markets_snapshot

    return packaged_markets_snapshot()
