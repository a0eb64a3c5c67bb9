"""The leaderboard (``ledger leaderboard``): return, PnL, drawdown, Sharpe/Sortino, win rate,
profit factor, fees and model cost per account, clone or model.

It reads every account's ledger, snapshots and model costs, so it is served from the app's
read cache (``server.cache``), recomputed in the background, with each sorted and encoded view
of it remembered until then; ``computed_at`` says when it was computed."""

from __future__ import annotations

from dataclasses import fields
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from starlette.responses import Response

from autotrader.ledger.leaderboard import SORTABLE, LeaderRow, leaderboard, sort_rows
from autotrader.prop.vocabulary import AccountKind
from autotrader.server.cache import Cached
from autotrader.server.encoding import ApiResponse

router = APIRouter(prefix="/api/v1", tags=["leaderboard"], default_response_class=ApiResponse)

SortColumn = Literal[SORTABLE]  # type: ignore[valid-type]
TOP = 100  # rows shown unless asked for more: a thousand-row table helps nobody on a phone


def cached_leaderboard(request: Request, *, kind: str | None, by: str) -> Cached:
    """The cache entry of the leaderboard of ``kind`` grouped ``by``: ``(rows, computed_at)``
    with the rows unsorted (each view sorts them its way, see :func:`sorted_rows`)."""
    return leaderboard_entry(request.app, kind=kind, by=by)


def leaderboard_entry(app: FastAPI, *, kind: str | None, by: str) -> Cached:
    """:func:`cached_leaderboard` for an app (the server warms the default one at start)."""

    def compute() -> tuple[list[LeaderRow], int]:
        with app.state.stores.snapshot() as store:
            now = app.state.clock.now_ms()
            return leaderboard(store, now_ms=now, kind=kind, by=by), now

    return app.state.cache.get(("leaderboard", kind, by), compute)


def sorted_rows(source: Cached, sort: str, *, ascending: bool) -> list[LeaderRow]:
    return sort_rows(list(source.value[0]), sort, ascending=ascending)


@router.get(
    "/leaderboard",
    summary="Performance per account, clone or model, sortable",
    response_class=ApiResponse,
)
def get_leaderboard(
    request: Request,
    kind: Annotated[AccountKind | None, Query()] = None,
    by: Annotated[Literal["account", "clone", "model"], Query()] = "account",
    sort: Annotated[SortColumn, Query()] = "return_pct",
    asc: Annotated[bool, Query(description="Smallest first.")] = False,
    limit: Annotated[int, Query(ge=1, le=10_000, description="The top N rows.")] = TOP,
) -> Response:
    kind_name = kind.value if kind else None
    source = cached_leaderboard(request, kind=kind_name, by=by)

    def encode() -> bytes:
        rows = sorted_rows(source, sort, ascending=asc)
        body = {"rows": [_row(r) for r in rows[:limit]], "total": len(rows), "by": by,
                "sort": sort, "computed_at": source.value[1]}  # fmt: skip
        return ApiResponse(body).body

    body = request.app.state.derived.get(("api", kind_name, by, sort, asc, limit), source, encode)
    return Response(body, media_type="application/json")


_SHOWN = tuple(f.name for f in fields(LeaderRow) if f.name not in ("series", "trade_pnls"))


def _row(row: LeaderRow) -> dict:
    """A row without what it was computed from (a whole equity series per account)."""
    return {name: getattr(row, name) for name in _SHOWN}
