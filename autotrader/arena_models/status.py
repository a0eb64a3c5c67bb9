"""An arena as it stands (``arena-models status``): each member's equity, return, trades and
model cost, and each model's total over its variants, ranked — the leaderboard's numbers
(``ledger.leaderboard``) over the arena's accounts only, marked as of ``now_ms``."""

from __future__ import annotations

import json
from dataclasses import dataclass

from autotrader.arena_models import repo
from autotrader.arena_models.grid import members
from autotrader.clones.vocabulary import Variant
from autotrader.core.db import Store
from autotrader.ledger.leaderboard import LeaderRow, leaderboard

_VARIANT_ORDER = {variant.value: i for i, variant in enumerate(Variant)}


@dataclass(frozen=True)
class ArenaStatus:
    name: str
    started_at: int
    spec: dict  # what the arena was set up with (decimals as text)
    members: list[LeaderRow]  # one per account: grouped by model in setup order, then variant
    models: list[LeaderRow]  # one per model, summed over its variants, best return first


def arena_status(store: Store, name: str, *, now_ms: int) -> ArenaStatus:
    """The arena ``name`` as of ``now_ms``; NotFoundError when there is none by that name."""
    cells = members(store, name)
    arena = repo.get_arena(store, name)
    assert arena is not None  # ``members`` raised otherwise
    accounts = {cell.account_id for cell in cells}
    model_order = {model: i for i, model in enumerate(dict.fromkeys(c.model for c in cells))}
    cell_of = {cell.account_id: cell for cell in cells}
    rows = leaderboard(store, now_ms=now_ms, by="account", account_ids=accounts)
    rows.sort(
        key=lambda row: (
            model_order[cell_of[row.accounts[0]].model],
            _VARIANT_ORDER[cell_of[row.accounts[0]].variant],
        )
    )
    return ArenaStatus(
        name=name,
        started_at=arena["started_at"],
        spec=json.loads(arena["spec"]),
        members=rows,
        models=leaderboard(store, now_ms=now_ms, by="model", account_ids=accounts),
    )
