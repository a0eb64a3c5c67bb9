"""Prop accounts: their live state, positions with exit plans, fills, NAV series, the ledger
(cursor-paged) and trades (``prop accounts``, ``prop positions``, ``ledger show|trades``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from autotrader.core.clock import parse_iso_utc
from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError
from autotrader.ledger import metrics
from autotrader.ledger.queries import (
    LEDGER_KINDS,
    LedgerFilter,
    TradeFilter,
    entries_before,
    equity_series,
    trades,
)
from autotrader.prop import repo as prop_repo
from autotrader.prop.accounts import AccountState, account_state, require_account
from autotrader.prop.vocabulary import AccountKind, AccountStatus
from autotrader.server.deps import AccountId, AppClock, ReadStore
from autotrader.server.encoding import ApiResponse
from autotrader.server.paging import MAX_KEY, decode_cursor, encode_cursor

router = APIRouter(prefix="/api/v1", tags=["accounts"], default_response_class=ApiResponse)

Limit = Annotated[int, Query(ge=1, le=1_000, description="At most this many rows.")]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_KEY)]
Symbol = Annotated[str | None, Query(max_length=32, pattern=r"^[A-Za-z0-9/:._-]+$")]
Time = Annotated[str | None, Query(max_length=40, description="ISO-8601 UTC.")]


def _time(text: str | None, name: str) -> int | None:
    if text is None:
        return None
    try:
        return parse_iso_utc(text)
    except ValueError:
        raise InvalidInputError(f"{name}: not an ISO-8601 UTC time") from None


@router.get("/accounts", summary="Prop accounts with their live equity, by id, cursor-paged")
def list_accounts(
    store: ReadStore,
    clock: AppClock,
    clone_id: OptionalId = None,
    kind: Annotated[AccountKind | None, Query()] = None,
    status: Annotated[AccountStatus | None, Query()] = None,
    limit: Limit = 100,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> ApiResponse:
    after = decode_cursor(cursor, parts=1)[0] if cursor else 0
    rows = prop_repo.list_accounts(store, clone_id=clone_id, status=status, kind=kind)
    rows = [row for row in rows if row["id"] > after]
    page, more = rows[:limit], len(rows) > limit
    now = clock.now_ms()
    states = [account_state(store, row["id"], now, account=row) for row in page]
    return ApiResponse(
        {
            "accounts": [_state(s) for s in states],
            "next_cursor": encode_cursor(page[-1]["id"]) if more else None,
        }
    )


@router.get("/accounts/{account_id}", summary="An account: balance, margin, equity, drawdown")
def show_account(account_id: AccountId, store: ReadStore, clock: AppClock) -> ApiResponse:
    return ApiResponse(_state(account_state(store, account_id, clock.now_ms())))


@router.get("/accounts/{account_id}/positions", summary="Positions with their exit plans")
def positions(
    account_id: AccountId,
    store: ReadStore,
    status: Annotated[Literal["open", "closed", "all"], Query()] = "all",
    limit: Limit = 200,
) -> ApiResponse:
    require_account(store, account_id)
    wanted = None if status == "all" else status.upper()
    rows = prop_repo.positions(store, account_id=account_id, status=wanted, limit=limit)
    return ApiResponse({"positions": rows})


@router.get("/accounts/{account_id}/fills", summary="The newest fills, newest first")
def fills(account_id: AccountId, store: ReadStore, clock: AppClock, limit: Limit = 50):
    require_account(store, account_id)
    rows = prop_repo.recent_fills(store, account_id, until_ms=clock.now_ms(), limit=limit)
    return ApiResponse({"fills": rows[::-1]})


@router.get("/accounts/{account_id}/nav", summary="Equity (NAV) and drawdown over time")
def nav(account_id: AccountId, store: ReadStore) -> ApiResponse:
    return ApiResponse({"account_id": account_id, "points": nav_points(store, account_id)})


def nav_points(store: Store, account_id: int) -> list[dict]:
    """``{time, equity, drawdown}`` per snapshot (drawdown: fraction below the running peak)."""
    series = equity_series(store, account_id)
    drawdowns = metrics.drawdowns([equity for _, equity in series])
    return [
        {"time": time, "equity": equity, "drawdown": drawdown}
        for (time, equity), drawdown in zip(series, drawdowns, strict=True)
    ]


@router.get("/ledger", summary="Ledger entries, newest first, cursor-paged")
def ledger(
    store: ReadStore,
    account_id: OptionalId = None,
    clone_id: OptionalId = None,
    kind: Annotated[str | None, Query(max_length=200, description="FEE,REALIZED_PNL")] = None,
    symbol: Symbol = None,
    since: Time = None,
    until: Time = None,
    limit: Limit = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ApiResponse:
    kinds = tuple(k.strip().upper() for k in (kind or "").split(",") if k.strip())
    unknown = [k for k in kinds if k not in LEDGER_KINDS]
    if unknown:
        raise InvalidInputError(f"kind: unknown {', '.join(unknown)}")
    flt = LedgerFilter(
        account_id=account_id,
        clone_id=clone_id,
        kinds=kinds,
        symbol=symbol.upper() if symbol else None,
        since_ms=_time(since, "since"),
        until_ms=_time(until, "until"),
    )
    before = decode_cursor(cursor, parts=2) if cursor else None
    before = (before[0], before[1]) if before else None
    entries, after = entries_before(store, flt, before=before, limit=limit)
    return ApiResponse(
        {"entries": entries, "next_cursor": encode_cursor(*after) if after else None}
    )


@router.get("/trades", summary="Closed positions with fee-exact PnL, and open ones marked")
def list_trades(
    store: ReadStore,
    clock: AppClock,
    account_id: OptionalId = None,
    clone_id: OptionalId = None,
    symbol: Symbol = None,
    status: Annotated[Literal["open", "closed", "all"], Query()] = "all",
    limit: Limit = 100,
) -> ApiResponse:
    flt = TradeFilter(account_id, clone_id, symbol.upper() if symbol else None, status=status)
    return ApiResponse(trades(store, flt, now_ms=clock.now_ms(), limit=limit))


def _state(state: AccountState) -> dict:
    """An AccountState as the API shows it: the account row, its money, its open positions
    with their mark and unrealized PnL."""
    return {
        "account": state.account,
        "balance": state.balance,
        "margin_used": state.margin_used,
        "cash": state.cash,
        "unrealized_pnl": state.unrealized_pnl,
        "equity": state.equity,
        "peak_equity": state.peak_equity,
        "drawdown": state.drawdown,
        "positions": [
            {**p.row, "mark_price": p.mark, "unrealized_pnl": p.unrealized} for p in state.positions
        ],
    }
