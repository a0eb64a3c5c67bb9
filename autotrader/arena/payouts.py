"""What the arena paid whom: settlement rows (payouts, royalties, rake, unclaimed pools, dust,
refunds) and every holder's economy balance — an owner's is their credit with the product."""

from __future__ import annotations

from decimal import Decimal

from autotrader.arena.repo import settlements as repo
from autotrader.arena.vocabulary import PayoutKind
from autotrader.core.db import Store
from autotrader.lifecycle import economy
from autotrader.lifecycle.repo import economy as economy_repo


def payouts(
    store: Store,
    *,
    owner: str | None = None,
    race_id: int | None = None,
    kinds: tuple[str, ...] = (),
) -> list[dict]:
    """Settlement rows, oldest first (of one holder, one race, some kinds)."""
    for kind in kinds:
        PayoutKind(kind)
    return repo.rows(store, race_id=race_id, holder=owner, kinds=kinds)


def balances(store: Store) -> list[tuple[str, str, Decimal]]:
    """``(holder, what it is, balance)`` of every holder in the economy ledger."""
    return [
        (holder, _what(holder), amount) for holder, amount in economy_repo.balances(store).items()
    ]


def _what(holder: str) -> str:
    if not economy.is_protocol(holder):
        return "owner credit"
    if holder.startswith(f"{economy.PROTOCOL_PREFIX}race:"):
        return "race pool"
    return "protocol"
