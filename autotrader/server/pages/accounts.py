"""``/accounts/{id}``: an account's equity and drawdown chart, its positions with their exit
plans, and its recent fills (each linked to its trace)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from autotrader.prop import repo as prop_repo
from autotrader.prop.accounts import account_state
from autotrader.server.api.accounts import nav_points
from autotrader.server.deps import AccountId, AppClock, ReadStore
from autotrader.server.pages._render import page

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
RECENT = 25


@router.get("/accounts/{account_id}")
def account_page(
    request: Request, account_id: AccountId, store: ReadStore, clock: AppClock
) -> HTMLResponse:
    now = clock.now_ms()
    state = account_state(store, account_id, now)
    closed = prop_repo.positions(store, account_id=account_id, status="CLOSED", limit=RECENT)
    fills = prop_repo.recent_fills(store, account_id, until_ms=now, limit=RECENT)[::-1]
    return page(
        request,
        "account.html",
        f"Account {account_id}",
        state=state,
        account=state.account,
        closed=closed,
        fills=fills,
        nav=nav_points(store, account_id),
    )
