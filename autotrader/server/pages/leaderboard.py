"""``/``: the leaderboard, sortable by any column, per account, clone or model."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from autotrader.prop.vocabulary import AccountKind
from autotrader.server.api.leaderboard import SortColumn, cached_leaderboard
from autotrader.server.pages._render import page

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/")
def leaderboard_page(
    request: Request,
    kind: Annotated[AccountKind | None, Query()] = None,
    by: Annotated[Literal["account", "clone", "model"], Query()] = "account",
    sort: Annotated[SortColumn, Query()] = "return_pct",
    asc: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    rows, computed_at = cached_leaderboard(
        request, kind=kind.value if kind else None, by=by, sort=sort, ascending=asc
    )
    return page(
        request,
        "leaderboard.html",
        "Leaderboard",
        rows=rows,
        by=by,
        sort=sort,
        asc=asc,
        kind=kind.value if kind else "",
        kinds=[k.value for k in AccountKind],
        computed_at=computed_at,
    )
