"""What a backtest reports per clone: the leaderboard's numbers for its account (return,
Sharpe, Sortino, max drawdown, trades, win rate, profit factor, fees — computed exactly as
``ledger leaderboard`` computes them on the backtest store), plus funding and exposure."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from autotrader.core.db import Store
from autotrader.core.money import ZERO
from autotrader.ledger.leaderboard import LeaderRow, account_rows
from autotrader.ledger.queries import Trade, TradeFilter, trades


@dataclass(frozen=True)
class CloneReport:
    clone_id: int
    account_id: int
    metrics: LeaderRow
    funding: Decimal  # net funding credited (negative: paid)
    exposure: float  # the fraction of the period with at least one position open


def clone_reports(
    store: Store, accounts: dict[int, int], *, since_ms: int, until_ms: int
) -> list[CloneReport]:
    """One report per ``{clone_id: account_id}`` of the backtest store, in that order."""
    rows = account_rows(store, list(accounts.values()), now_ms=until_ms)
    reports = []
    for clone_id, account_id in accounts.items():
        found = trades(store, TradeFilter(account_id=account_id), now_ms=until_ms)
        every = [*found.closed, *found.open]
        reports.append(
            CloneReport(
                clone_id=clone_id,
                account_id=account_id,
                metrics=rows[account_id],
                funding=sum((t.funding for t in every), ZERO),
                exposure=exposure(every, since_ms, until_ms),
            )
        )
    return reports


def exposure(positions: list[Trade], since_ms: int, until_ms: int) -> float:
    """The fraction of ``[since, until]`` covered by at least one open position."""
    spans = sorted(
        (max(t.opened_at, since_ms), min(t.closed_at or until_ms, until_ms)) for t in positions
    )
    covered, reach = 0, since_ms
    for start, end in spans:
        start = max(start, reach)
        if end > start:
            covered += end - start
            reach = end
    return covered / (until_ms - since_ms) if until_ms > since_ms else 0.0
