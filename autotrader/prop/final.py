"""An account's final result: the snapshot finalizing takes, and what it reads back later.

Finalizing (``prop admin finalize``) closes every position and then writes a snapshot of the
flat account at that minute (replacing a mark-to-market snapshot of the same minute: the final
one is taken after the closes). :func:`final_result` reads it back with the totals an audition
or a race is judged on: balance, equity, return on the starting balance, the deepest drawdown
any snapshot saw, fills and fees.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from autotrader.core.clock import MINUTE_MS
from autotrader.core.db import Store
from autotrader.prop import repo as prop_repo
from autotrader.prop.accounts import account_state
from autotrader.prop.vocabulary import AccountStatus


@dataclass(frozen=True)
class FinalResult:
    """A finalized account's result (Decimal USD; ``return_fraction`` 0.05 = +5 %)."""

    finalized_at: int
    balance: Decimal
    equity: Decimal
    return_fraction: Decimal
    max_drawdown: Decimal
    trades: int
    fees: Decimal


def take_final_snapshot(store: Store, account_id: int, now_ms: int) -> None:
    """Snapshot the account as it stands now (inside the finalizing transaction)."""
    state = account_state(store, account_id, now_ms)
    prop_repo.put_snapshot(
        store,
        {
            "account_id": account_id,
            "time": now_ms // MINUTE_MS * MINUTE_MS,
            "balance": state.balance,
            "cash": state.cash,
            "margin_used": state.margin_used,
            "unrealized_pnl": state.unrealized_pnl,
            "equity": state.equity,
            "peak_equity": state.peak_equity,
            "drawdown": state.drawdown,
            "open_positions": len(state.positions),
            "last_ledger_id": prop_repo.last_ledger_id(store, account_id),
        },
    )


def final_result(store: Store, account: dict) -> FinalResult | None:
    """The result of a finalized account, from its final snapshot; None for any other."""
    if account["status"] != AccountStatus.FINALIZED:
        return None
    snapshot = prop_repo.latest_snapshot(store, account["id"])
    if snapshot is None:
        return None  # finalized before finalizing took a snapshot
    start = Decimal(account["starting_balance"])
    equity = Decimal(snapshot["equity"])
    return FinalResult(
        finalized_at=account["ended_at"] or snapshot["time"],
        balance=Decimal(snapshot["balance"]),
        equity=equity,
        return_fraction=(equity - start) / start if start else Decimal(0),
        max_drawdown=prop_repo.max_snapshot_drawdown(store, account["id"]),
        trades=prop_repo.fill_count(store, account["id"]),
        fees=prop_repo.fees_paid(store, account["id"]),
    )
