"""The race metric and its tie-break: how a race's finishers are ordered. Pure.

Every entrant starts with the same balance, so the race metric — return — orders them by their
final equity, exactly (Decimal, as the ledger's leaderboard computes it; not the rounded
percentage). Ties are broken, in turn, by:

1. the smaller maximum drawdown (the steadier run wins);
2. the earlier entry into the race (its entrant row: the order of ``--clones``, or of the arena
   slots for ``--entrants all-slots`` — seniority in the arena).

So every finish order is total and the same on every rerun.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autotrader.ledger.leaderboard import LeaderRow


def finishing_order(entrants: Sequence[dict], rows: Mapping[int, LeaderRow]) -> list[dict]:
    """``entrants`` (each with its ``account_id`` and entry ``id``) ordered winner first, by
    their accounts' leaderboard ``rows`` (account id → row)."""

    def key(entrant: dict):
        row = rows[entrant["account_id"]]
        return (-row.equity, row.max_drawdown_pct, entrant["id"])

    return sorted(entrants, key=key)
