"""Exit plans on the exchange: a live position's stop and target as reduce-only triggers.

After every change to a live position — a fill, a new exit plan, a close — :func:`sync`
makes the exchange's trigger orders match the store: one stop and one target at the plan's
prices, sized to the whole position; a level that moved or a position that shrank is cancelled
and placed anew; a closed position keeps none. A trigger the exchange refuses is recorded
(REFUSED, with its message) and logged: the fill stands, the position is unprotected there.
Each sync is a few exchange calls inside the trading step's transaction, like the fill itself.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from autotrader.core.db import Store
from autotrader.live import repo as live_repo
from autotrader.live.errors import ExchangeRefusal
from autotrader.live.vocabulary import ProtectionKind, ProtectionStatus
from autotrader.prop import repo as prop_repo
from autotrader.prop.vocabulary import PositionStatus, Side

if TYPE_CHECKING:
    from autotrader.live.client import HyperliquidTrader

log = logging.getLogger("autotrader.live.protection")


def wanted_levels(position: dict) -> dict[ProtectionKind, object]:
    """The trigger prices the position's exit plan asks for (none once it is closed)."""
    if position["status"] != PositionStatus.OPEN:
        return {}
    levels = {ProtectionKind.STOP: position["stop"], ProtectionKind.TARGET: position["target"]}
    return {kind: price for kind, price in levels.items() if price is not None}


def sync(store: Store, trader: HyperliquidTrader, position_id: int, now_ms: int) -> None:
    position = prop_repo.get_position(store, position_id)
    assert position is not None
    wanted = wanted_levels(position)
    for row in live_repo.active_protections(store, position_id):
        kind = ProtectionKind(row["kind"])
        if wanted.get(kind) == row["trigger_price"] and row["qty"] == position["qty"]:
            wanted.pop(kind)  # already on the exchange as the plan wants it
            continue
        if not trader.cancel(position["symbol"], row["exchange_oid"]) and trader.fills_of(
            row["exchange_oid"]
        ):
            # It triggered: the exchange closed the position, and reconciliation books that
            # close from this order's fills (it stays ACTIVE until then; nothing replaces it).
            wanted.pop(kind, None)
            continue
        live_repo.end_protection(store, row["id"], ProtectionStatus.CANCELLED.value, now_ms=now_ms)
    closing_side = "sell" if Side(position["side"]) is Side.LONG else "buy"
    for kind, price in wanted.items():
        cloid = "0x" + uuid.uuid4().hex
        oid, status, message = None, ProtectionStatus.ACTIVE, None
        try:
            oid = trader.place_trigger(
                position["symbol"],
                closing_side,
                position["qty"],
                price,
                stop=kind is ProtectionKind.STOP,
                cloid=cloid,
            )
        except ExchangeRefusal as exc:
            status, message = ProtectionStatus.REFUSED, exc.message
            log.warning(
                "position %s: the exchange refused its %s at %s: %s",
                position_id,
                kind.value,
                price,
                exc.message,
            )
        live_repo.insert_protection(
            store,
            account_id=position["account_id"],
            position_id=position_id,
            kind=kind.value,
            cloid=cloid,
            exchange_oid=oid,
            trigger_price=price,
            qty=position["qty"],
            status=status.value,
            message=message,
            now_ms=now_ms,
        )
