"""``/``: the leaderboard, sortable by any column, per account, clone or model."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from autotrader.prop.vocabulary import AccountKind
from autotrader.server.api.leaderboard import TOP, SortColumn, cached_leaderboard, sorted_rows
from autotrader.server.pages._render import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/")
def leaderboard_page(
    request: Request,
    kind: Annotated[AccountKind | None, Query()] = None,
    by: Annotated[Literal["account", "clone", "model"], Query()] = "account",
    sort: Annotated[SortColumn, Query()] = "return_pct",
    asc: Annotated[bool, Query()] = False,
    limit: Annotated[int, Query(ge=1, le=10_000)] = TOP,
) -> HTMLResponse:
    kind_name = kind.value if kind else None
    source = cached_leaderboard(request, kind=kind_name, by=by)

    def build() -> str:
        rows = sorted_rows(source, sort, ascending=asc)
        return render(
            request,
            "leaderboard.html",
            "Leaderboard",
            as_of_ms=source.value[1],  # the page shows what was computed then
            rows=rows[:limit],
            total=len(rows),
            limit=limit,
            by=by,
            sort=sort,
            asc=asc,
            kind=kind_name or "",
            kinds=[k.value for k in AccountKind],
        )

    key = ("page", kind_name, by, sort, asc, limit)
    return HTMLResponse(request.app.state.derived.get(key, source, build))
