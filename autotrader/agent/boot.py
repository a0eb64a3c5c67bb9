"""Booting the agent: everything it needs is checked before its first step, nothing traded.

The settings pass ``config check``; the store is migrated (by whoever opened it); the clone
exists, has an active prop account and a pipeline whose assets the registry (the markets
precision comes from) knows. For each live venue among the clone's accounts, a real-money one
has a deposit cap, the key may sign for the wallet, the wallet's balance and positions read
back, and the venue lists every asset the clone trades. Any problem is one clear error and the
agent never starts; reconciliation follows, as on every worker start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from autotrader.clones.management import require_clone
from autotrader.clones.pipelines import compiled
from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import ConfigError, InvalidInputError
from autotrader.core.settings import Settings, check_settings
from autotrader.live.cap import effective_cap
from autotrader.prop import repo as prop_repo
from autotrader.prop.factory import precision
from autotrader.prop.vocabulary import AccountStatus, Venue

if TYPE_CHECKING:
    from autotrader.live.client import HyperliquidTrader


@dataclass(frozen=True)
class Booted:
    """What the agent trades: the clone's active accounts, their live venues, its assets, and
    one line per venue saying whose key signs and what the wallet holds."""

    clone_id: int
    account_ids: list[int]
    venues: list[Venue]
    symbols: list[str]
    checks: list[str] = field(default_factory=list)


def boot(
    settings: Settings,
    store: Store,
    clock: Clock,
    clone_id: int,
    traders: Callable[[Venue], HyperliquidTrader],
) -> Booted:
    """Check everything the agent needs (module docstring); raises a ``UserError`` (a
    ``ConfigError`` for settings and credentials) on the first thing missing, or
    ``TemporaryError`` when a venue cannot be reached."""
    problems = check_settings(settings)
    if problems:
        raise ConfigError(problems)
    require_clone(store, clone_id)
    accounts = prop_repo.list_accounts(store, clone_id=clone_id, status=AccountStatus.ACTIVE)
    if not accounts:
        raise InvalidInputError(
            f"clone {clone_id} has no active prop account "
            f"(open one: autotrader prop accounts create --clone-id {clone_id})"
        )
    precision(store, clock)  # the asset registry the gates size and round with
    symbols = sorted(
        {entry.symbol for s in compiled(store, clone_id).strategies for entry in s.universe}
    )
    venues = sorted({Venue(a["venue"]) for a in accounts if Venue(a["venue"]).is_live})
    for account in accounts:
        venue = Venue(account["venue"])
        cap = effective_cap(account["deposit_cap"], settings.deposit_cap_usdc)
        if venue.is_real and cap is None:
            raise ConfigError(
                [f"account {account['id']} trades real money on {venue} without a deposit cap"],
                header="deposit cap",
            )
    checks = [_check_venue(traders(venue), venue, symbols) for venue in venues]
    return Booted(clone_id, [a["id"] for a in accounts], venues, symbols, checks)


def _check_venue(trader: HyperliquidTrader, venue: Venue, symbols: list[str]) -> str:
    signer = trader.signer_approved()
    wallet = trader.snapshot()
    unlisted = [s for s in symbols if not trader.lists(s)]
    if unlisted:
        raise ConfigError(
            [f"{venue} lists no perp for {', '.join(unlisted)}, which the clone trades"],
            header="markets",
        )
    return (
        f"{venue}: {signer}; account value {wallet.account_value:,.2f} USDC, "
        f"{len(wallet.positions)} position(s)"
    )
