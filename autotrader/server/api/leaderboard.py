"""The leaderboard (``ledger leaderboard``): return, PnL, drawdown, Sharpe/Sortino, win rate,
profit factor, fees and model cost per account, clone or model.

It reads every account's ledger, snapshots and model costs, so it is served from the app's
read cache (``server.cache``): at most ``AUTOTRADER_SERVER_REFRESH_S`` old, ``computed_at``
says when it was computed."""

from __future__ import annotations

from dataclasses import fields
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from autotrader.ledger.leaderboard import SORTABLE, LeaderRow, leaderboard, sort_rows
from autotrader.prop.vocabulary import AccountKind
from autotrader.server.encoding import ApiResponse

router = APIRouter(prefix="/api/v1", tags=["leaderboard"], default_response_class=ApiResponse)

SortColumn = Literal[SORTABLE]  # type: ignore[valid-type]


def cached_leaderboard(
    request: Request, *, kind: str | None, by: str, sort: str, ascending: bool
) -> tuple[list[LeaderRow], int]:
    """The rows (sorted) and when they were computed (epoch ms): one cache entry per kind and
    grouping; sorting a cached list is cheap, so it is not part of the key."""
    app = request.app

    def compute() -> tuple[list[LeaderRow], int]:
        with app.state.stores.snapshot() as store:
            now = app.state.clock.now_ms()
            return leaderboard(store, now_ms=now, kind=kind, by=by), now

    cached = app.state.cache.get(("leaderboard", kind, by), compute)
    rows, computed_at = cached.value
    return sort_rows(list(rows), sort, ascending=ascending), computed_at


@router.get("/leaderboard", summary="Performance per account, clone or model, sortable")
def get_leaderboard(
    request: Request,
    kind: Annotated[AccountKind | None, Query()] = None,
    by: Annotated[Literal["account", "clone", "model"], Query()] = "account",
    sort: Annotated[SortColumn, Query()] = "return_pct",
    asc: Annotated[bool, Query(description="Smallest first.")] = False,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> ApiResponse:
    rows, computed_at = cached_leaderboard(
        request, kind=kind.value if kind else None, by=by, sort=sort, ascending=asc
    )
    shown = [_row(r) for r in rows[:limit]]
    return ApiResponse({"rows": shown, "by": by, "sort": sort, "computed_at": computed_at})


_SHOWN = tuple(f.name for f in fields(LeaderRow) if f.name not in ("series", "trade_pnls"))


def _row(row: LeaderRow) -> dict:
    """A row without what it was computed from (a whole equity series per account)."""
    return {name: getattr(row, name) for name in _SHOWN}
