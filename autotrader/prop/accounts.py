"""Prop accounts: open one (with its deposit), list them, and read an account's live state."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError, NotFoundError
from autotrader.core.money import ZERO
from autotrader.prop import pnl
from autotrader.prop import repo as prop_repo
from autotrader.prop.models import AccountKind, AccountRules, Side
from autotrader.prop.vocabulary import Venue

if TYPE_CHECKING:
    from autotrader.prop.execution import MarketSnapshot

MAX_STARTING_BALANCE = Decimal("1e12")


@dataclass(frozen=True)
class PositionState:
    row: dict
    mark: Decimal
    unrealized: Decimal


@dataclass(frozen=True)
class AccountState:
    """An account as ``prop accounts show`` and the snapshots see it (all Decimal, USD)."""

    account: dict
    balance: Decimal  # Σ ledger entries
    margin_used: Decimal
    cash: Decimal  # balance − margin used
    unrealized_pnl: Decimal
    equity: Decimal  # cash + margin + unrealized
    peak_equity: Decimal
    drawdown: Decimal  # fraction below the peak
    positions: list[PositionState]


def open_account(
    store: Store,
    clock: Clock,
    *,
    clone_id: int,
    kind: str,
    starting_balance: Decimal,
    rules: AccountRules,
    venue: str = Venue.PAPER,
    deposit_cap: Decimal | None = None,
) -> int:
    """Create an active account and book its starting balance as a DEPOSIT. Returns its id.

    A live ``venue`` trades on the exchange; the real one needs a ``deposit_cap`` (the most its
    open notional plus pending orders may reach).
    """
    if clone_id <= 0:
        raise InvalidInputError("--clone-id must be a positive integer")
    if not ZERO < starting_balance <= MAX_STARTING_BALANCE:
        raise InvalidInputError(
            f"--balance must be positive and at most {MAX_STARTING_BALANCE:,.0f}"
        )
    AccountKind(kind)  # validated by the CLI too; a service is callable on its own
    _check_venue(Venue(venue), deposit_cap)
    now = clock.now_ms()
    with store.atomic():
        account_id = prop_repo.insert_account(
            store,
            clone_id=clone_id,
            kind=kind,
            starting_balance=starting_balance,
            rules=rules,
            now_ms=now,
            venue=venue,
            deposit_cap=deposit_cap,
        )
        prop_repo.append_entry(
            store, account_id, "DEPOSIT", starting_balance, now_ms=now, reason="starting balance"
        )
    return account_id


def _check_venue(venue: Venue, deposit_cap: Decimal | None) -> None:
    if deposit_cap is not None and deposit_cap <= ZERO:
        raise InvalidInputError("--deposit-cap must be positive")
    if venue.is_real and deposit_cap is None:
        raise InvalidInputError(
            f"a {venue} (real money) account needs a deposit cap: pass --deposit-cap or set "
            "AUTOTRADER_DEPOSIT_CAP_USDC"
        )


def require_account(store: Store, account_id: int) -> dict:
    account = prop_repo.get_account(store, account_id)
    if account is None:
        raise NotFoundError(
            f"prop account {account_id} does not exist (see `autotrader prop accounts list`)"
        )
    return account


def account_state(
    store: Store,
    account_id: int,
    now_ms: int,
    *,
    market: MarketSnapshot | None = None,
    account: dict | None = None,
) -> AccountState:
    """Balance, margin, unrealized PnL at the prices as of ``now_ms``, equity and drawdown.

    ``market`` (taken at ``now_ms``) shares price lookups with the caller's other work;
    ``account`` is the account row when the caller has just read it.
    """
    from autotrader.prop.execution import mark_price

    if account is None or account["id"] != account_id:
        account = require_account(store, account_id)
    rows = prop_repo.open_positions(store, account_id)
    positions = []
    for row in rows:
        mark = mark_price(store, row, now_ms, market)
        positions.append(
            PositionState(
                row,
                mark,
                pnl.unrealized_pnl(Side(row["side"]), row["qty"], row["entry_price"], mark),
            )
        )
    balance = prop_repo.balance(store, account_id)
    margin = prop_repo.margin_used(rows)
    unrealized = sum((p.unrealized for p in positions), ZERO)
    equity = balance + unrealized
    peak = max(account["peak_equity"], equity)
    return AccountState(
        account=account,
        balance=balance,
        margin_used=margin,
        cash=balance - margin,
        unrealized_pnl=unrealized,
        equity=equity,
        peak_equity=peak,
        drawdown=pnl.drawdown(equity, peak),
        positions=positions,
    )
