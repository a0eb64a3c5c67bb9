"""The leaderboard by policy: how each policy id's trades did, across every clone that ran it.

A policy's trades are the positions its executed OPENs started (a position counts once, for the
policy that opened it: adding to it under another policy does not move it). A trade's result is
its net PnL — every ledger entry naming the position: realized PnL, fees, funding, liquidation —
once the position has closed; its return is that over its entry value (entry price × largest
quantity), as the Planner's memory reads it. Rejections are the policy's intents the gates
refused. Experiments come through the decisions repo, positions' ledger amounts through the
ledger's own queries over prop's tables.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields
from decimal import Decimal

from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError
from autotrader.core.money import ZERO
from autotrader.decisions import repo as decisions_repo
from autotrader.ledger import metrics
from autotrader.ledger.queries import decimal_sum, performance

_PERCENT = Decimal("0.0001")


@dataclass
class PolicyRow:
    """One policy's record (money Decimal, ratios float; None where undefined)."""

    policy: str
    clone_ids: list[int]
    accounts: list[int]
    opened: int  # positions its OPENs started
    open_now: int  # of those, still open
    rejected: int  # its intents the gates refused
    trades: int  # closed positions
    win_rate: float | None
    profit_factor: float | None
    pnl: Decimal  # Σ net PnL of its closed trades
    mean_return_pct: Decimal | None  # mean per-trade return, percent


POLICY_COLUMNS = tuple(f.name for f in fields(PolicyRow) if f.name not in ("clone_ids", "accounts"))


def policy_leaderboard(
    store: Store, *, sort: str = "pnl", ascending: bool = False
) -> list[PolicyRow]:
    """A row per policy id that ever acted, sorted by ``sort`` (None last either way)."""
    if sort not in POLICY_COLUMNS:
        raise InvalidInputError(f"--sort: unknown column {sort!r}: use {', '.join(POLICY_COLUMNS)}")
    results = {
        position: (decimal_sum(amounts.split(",")), Decimal(entry) * Decimal(qty))
        for position, amounts, entry, qty in performance.closed_position_results(store)
    }
    groups: dict[str, dict] = defaultdict(
        lambda: {"clones": set(), "accounts": set(), "positions": [], "rejected": 0}
    )
    seen: set[int] = set()
    for row in decisions_repo.policy_outcomes(store):
        group = groups[row["policy_id"]]
        group["clones"].add(row["clone_id"])
        group["accounts"].add(row["account_id"])
        if row["outcome"] == "rejected":
            group["rejected"] += 1
        # A position is one trade, of the policy that opened it: an add to it is not a new one.
        elif row["action"] == "OPEN" and row["position_id"] not in (seen | {None}):
            seen.add(row["position_id"])
            group["positions"].append(row["position_id"])
    rows = [_row(policy, group, results) for policy, group in groups.items()]
    return _sorted(rows, sort, ascending=ascending)


def _row(policy: str, group: dict, results: dict[int, tuple[Decimal, Decimal]]) -> PolicyRow:
    closed = [results[p] for p in group["positions"] if p in results]
    pnls = [net for net, _ in closed]
    returns = [net / value * 100 for net, value in closed if value]
    return PolicyRow(
        policy=policy,
        clone_ids=sorted(group["clones"]),
        accounts=sorted(group["accounts"]),
        opened=len(group["positions"]),
        open_now=len(group["positions"]) - len(closed),
        rejected=group["rejected"],
        trades=len(closed),
        win_rate=metrics.win_rate(pnls),
        profit_factor=metrics.profit_factor(pnls),
        pnl=sum(pnls, ZERO),
        mean_return_pct=(sum(returns, ZERO) / len(returns)).quantize(_PERCENT) if returns else None,
    )


def _sorted(rows: list[PolicyRow], column: str, *, ascending: bool) -> list[PolicyRow]:
    present = [r for r in rows if getattr(r, column) is not None]
    missing = [r for r in rows if getattr(r, column) is None]
    present.sort(key=lambda r: (getattr(r, column), r.policy), reverse=not ascending)
    return present + sorted(missing, key=lambda r: r.policy)
