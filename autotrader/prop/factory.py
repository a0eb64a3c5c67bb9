"""Building the prop services over a store: ccxt precision from the registry, the desk."""

from __future__ import annotations

from autotrader.core.clock import Clock
from autotrader.core.db import Store


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
