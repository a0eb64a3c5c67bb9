"""Decision runs (``decisions list``, cursor-paged) and one run's whole story with its model
invocations (``decisions show``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from autotrader.decisions import repo as decisions_repo
from autotrader.decisions.story import run_story
from autotrader.decisions.vocabulary import RunStatus
from autotrader.server.deps import ReadStore, RunId
from autotrader.server.encoding import ApiResponse
from autotrader.server.paging import MAX_KEY, decode_cursor, encode_cursor

router = APIRouter(
    prefix="/api/v1/decisions", tags=["decisions"], default_response_class=ApiResponse
)
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_KEY)]


@router.get("/runs", summary="Decision runs, newest first, cursor-paged")
def list_runs(
    store: ReadStore,
    clone_id: OptionalId = None,
    account_id: OptionalId = None,
    status: Annotated[RunStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> ApiResponse:
    before = decode_cursor(cursor, parts=1)[0] if cursor else None
    rows = decisions_repo.list_runs(
        store,
        clone_id=clone_id,
        account_id=account_id,
        status=status.value if status else None,
        before_id=before,
        limit=limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return ApiResponse(
        {"runs": rows, "next_cursor": encode_cursor(rows[-1]["id"]) if more else None}
    )


@router.get("/runs/{run_id}", summary="A run: context, plan, actions, gates, fills, model calls")
def show_run(run_id: RunId, store: ReadStore) -> ApiResponse:
    return ApiResponse(run_story(store, run_id))
