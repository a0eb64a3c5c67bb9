"""Building the live venue from settings (credentials, base URLs, the cap, the halt)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import ConfigError
from autotrader.core.settings import Settings
from autotrader.prop.vocabulary import Venue

if TYPE_CHECKING:
    from autotrader.live.client import HyperliquidTrader
    from autotrader.live.venue import LiveVenue
    from autotrader.prop.execution import PropDesk


def halted(settings: Settings) -> bool:
    """Whether a halt is in force: the setting, or the halt file (`autotrader live halt`)."""
    return settings.live_halt or settings.halt_path.exists()


def trader(settings: Settings, venue: Venue) -> HyperliquidTrader:
    """The signed trading client of ``venue`` for the configured wallet."""
    from autotrader.live.client import HyperliquidTrader
    from autotrader.market.sources.hyperliquid import packaged_markets_snapshot

    if not venue.is_live:
        raise ValueError("paper accounts have no exchange")
    wallet, key = settings.live_wallet_address, settings.live_private_key
    if wallet is None or key is None:
        raise ConfigError(
            [f"set AUTOTRADER_LIVE_WALLET_ADDRESS and AUTOTRADER_LIVE_PRIVATE_KEY for {venue}"],
            header="live credentials",
        )
    testnet = venue is Venue.HYPERLIQUID_TESTNET
    return HyperliquidTrader(
        base_url=settings.hyperliquid_testnet_url if testnet else settings.hyperliquid_url,
        wallet=wallet.get_secret_value(),
        private_key=key.get_secret_value(),
        testnet=testnet,
        markets=packaged_markets_snapshot(),
        timeout_ms=int(settings.http_timeout * 1000),
        max_retries=settings.http_retries,
        rate_limit_ms=settings.hyperliquid_rate_limit_ms,
    )


def live_venue(settings: Settings, store: Store) -> LiveVenue:
    """Execution for live accounts; each venue's client is built on its first order."""
    from autotrader.live.venue import LiveVenue

    clients: dict[Venue, HyperliquidTrader] = {}

    def traders(venue: Venue) -> HyperliquidTrader:
        if venue not in clients:
            clients[venue] = trader(settings, venue)
        return clients[venue]

    return LiveVenue(
        store,
        traders,
        global_cap=settings.deposit_cap_usdc,
        halted=lambda: halted(settings),
    )


def prop_desk(settings: Settings, store: Store, clock: Clock) -> PropDesk:
    """Prop's gates-and-fills service with live accounts executed on their exchange."""
    from autotrader.prop.execution import PropDesk
    from autotrader.prop.factory import precision

    return PropDesk(store, clock, precision(store, clock), venue=live_venue(settings, store))


def reconcile_all(settings: Settings, store: Store, clock: Clock) -> list:
    """Reconcile every live venue that has accounts (the others need no credentials)."""
    from autotrader.live.reconcile import live_accounts, reconcile
    from autotrader.prop.factory import precision

    venues = [v for v in Venue if v.is_live and live_accounts(store, v)]
    return [
        reconcile(store, clock, v, trader(settings, v), precision(store, clock)) for v in venues
    ]
