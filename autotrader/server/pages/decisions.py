"""``/decisions``: decision runs, newest first, with an "older" link (cursor paging); each run
links to its trace, which shows its actions, gates, model calls and artifacts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from autotrader.decisions import repo as decisions_repo
from autotrader.server.deps import ReadStore
from autotrader.server.pages._render import page
from autotrader.server.paging import MAX_KEY

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
PAGE = 50


@router.get("/decisions")
def decisions_page(
    request: Request,
    store: ReadStore,
    clone_id: Annotated[int | None, Query(ge=1, le=MAX_KEY)] = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_KEY)] = None,
) -> HTMLResponse:
    rows = decisions_repo.list_runs(store, clone_id=clone_id, before_id=before, limit=PAGE + 1)
    older = rows[PAGE - 1]["id"] if len(rows) > PAGE else None
    return page(
        request,
        "decisions.html",
        "Decision runs",
        runs=rows[:PAGE],
        older=older,
        clone_id=clone_id,
    )
