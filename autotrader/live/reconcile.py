"""Reconciliation: a venue's wallet on the exchange against the store's live accounts.

Positions (per symbol, the signed sum over the venue's accounts) and resting orders are
compared; each difference is a drift event (``autotrader live status``). An unknown position, a
size mismatch or an order we never sent freezes every account of the venue — never trade on
top of unknown state — until an admin acts (``prop admin unfreeze``). First, a stop or target
the exchange triggered is booked from that trigger order's fills; a position the store still
holds and the exchange no longer does after that (a liquidation, say) is recorded only.
The balance is shown, not reconciled: the wallet's value includes deposits the store never saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.money import ZERO, to_text
from autotrader.live import protection
from autotrader.live import repo as live_repo
from autotrader.live.models import Drift, Execution
from autotrader.live.venue import executed_fill
from autotrader.live.vocabulary import DriftKind, ProtectionKind, ProtectionStatus
from autotrader.prop import repo as prop_repo
from autotrader.prop.admin import admin_action
from autotrader.prop.booking import book_system_close, plan_full_close
from autotrader.prop.vocabulary import MARKED_STATUSES, AccountStatus, Side, Venue

if TYPE_CHECKING:
    from autotrader.live.client import HyperliquidTrader


@dataclass(frozen=True)
class Reconciliation:
    venue: Venue
    accounts: list[int]
    account_value: Decimal
    drifts: list[Drift] = field(default_factory=list)
    frozen: list[int] = field(default_factory=list)
    exits: list[str] = field(default_factory=list)  # closes the exchange made, now booked

    def summary(self) -> str:
        froze = f", froze accounts {self.frozen}" if self.frozen else ""
        exits = f", booked {'; '.join(self.exits)}" if self.exits else ""
        return (
            f"{self.venue}: {len(self.accounts)} account(s), {len(self.drifts)} drift(s)"
            f"{froze}{exits}"
        )


def live_accounts(store: Store, venue: Venue) -> list[dict]:
    """The venue's accounts that still hold or may open positions."""
    return [
        a
        for a in prop_repo.list_accounts(store)
        if a["venue"] == venue.value and a["status"] in MARKED_STATUSES
    ]


def reconcile(
    store: Store, clock: Clock, venue: Venue, trader: HyperliquidTrader, precision
) -> Reconciliation:
    """Compare, record drift, freeze on unknown state. Reads the exchange before the store's
    write transaction, so no lock is held across the network."""
    accounts = live_accounts(store, venue)
    exits = book_exchange_exits(store, clock, trader, accounts, precision)
    wallet, resting = trader.snapshot(), trader.open_orders()
    held: dict[str, Decimal] = {}
    for account in accounts:
        for p in prop_repo.open_positions(store, account["id"]):
            held[p["symbol"]] = held.get(p["symbol"], ZERO) + Side(p["side"]).sign * p["qty"]
    exchange = {p.symbol: p.size for p in wallet.positions if p.size != 0}
    drifts = _position_drift(venue, held, exchange)
    cloids = [o["cloid"] for o in resting if o.get("cloid")]
    known = live_repo.known_cloids(store, cloids)
    drifts += [_unknown_order(venue, o) for o in resting if o.get("cloid") not in known]
    now = clock.now_ms()
    freeze = any(d.kind.freezes for d in drifts)
    frozen: list[int] = []
    with store.atomic():
        for drift in drifts:
            live_repo.record_drift(store, drift, froze=freeze, now_ms=now)
        if freeze:
            reason = f"live drift on {venue}: {next(d for d in drifts if d.kind.freezes).detail}"
            for account in accounts:
                if account["status"] == AccountStatus.ACTIVE:
                    admin_action(
                        store,
                        clock,
                        precision,
                        account_id=account["id"],
                        action="freeze",
                        reason=reason,
                    )
                    frozen.append(account["id"])
    return Reconciliation(
        venue, [a["id"] for a in accounts], wallet.account_value, drifts, frozen, exits
    )


def book_exchange_exits(
    store: Store, clock: Clock, trader: HyperliquidTrader, accounts: list[dict], precision
) -> list[str]:
    """Book every close the exchange made by triggering a position's stop or target, from
    that trigger order's fills; the position's other trigger orders are cancelled."""
    booked = []
    for account in accounts:
        for position in prop_repo.open_positions(store, account["id"]):
            for row in live_repo.active_protections(store, position["id"]):
                fills = trader.fills_of(row["exchange_oid"])
                if not fills:
                    continue
                booked.append(
                    _book_exit(store, clock, trader, account, position, row, fills, precision)
                )
                break
    return booked


def _book_exit(
    store: Store,
    clock: Clock,
    trader: HyperliquidTrader,
    account: dict,
    position: dict,
    row: dict,
    fills: tuple,
    precision,
) -> str:
    kind = ProtectionKind(row["kind"])
    execution = Execution(row["exchange_oid"], fills)
    assert execution.avg_price is not None
    planned = plan_full_close(
        position, execution.avg_price, account["rules"], precision, slippage_bps=ZERO
    )
    now = clock.now_ms()
    with store.atomic():
        fill = executed_fill(store, account["id"], planned, execution)
        live_repo.end_protection(store, row["id"], ProtectionStatus.FILLED.value, now_ms=now)
        book_system_close(
            store,
            account=account,
            position=position,
            fill=fill,
            origin="trigger",
            code=kind.value.lower(),
            reason=f"{kind.value.lower()} triggered on {account['venue']} at "
            f"{to_text(execution.avg_price)}",
            trigger=kind.value,
            now_ms=now,
        )
        protection.sync(store, trader, position["id"], now)
    return f"account {account['id']}: {position['symbol']} closed by its {kind.value.lower()}"


def _unknown_order(venue: Venue, order: dict) -> Drift:
    detail = f"order {order['oid']} ({order.get('cloid') or 'no cloid'}) on {venue} is not ours"
    return Drift(
        venue.value,
        DriftKind.UNKNOWN_ORDER,
        order["coin"],
        f"{order['sz']} @ {order['limitPx']}",
        None,
        detail,
    )


def _position_drift(
    venue: Venue, held: dict[str, Decimal], exchange: dict[str, Decimal]
) -> list[Drift]:
    drifts = []
    for symbol in sorted(set(held) | set(exchange)):
        ours, theirs = held.get(symbol, ZERO), exchange.get(symbol, ZERO)
        if ours == theirs:
            continue
        if ours == 0:
            kind, detail = DriftKind.UNKNOWN_POSITION, f"{venue} holds {to_text(theirs)} {symbol}"
        elif theirs == 0:
            kind, detail = (
                DriftKind.MISSING_POSITION,
                f"the store holds {to_text(ours)} {symbol}, {venue} holds none",
            )
        else:
            kind, detail = (
                DriftKind.SIZE_MISMATCH,
                f"{symbol}: {venue} holds {to_text(theirs)}, the store {to_text(ours)}",
            )
        drifts.append(Drift(venue.value, kind, symbol, to_text(theirs), to_text(ours), detail))
    return drifts
