"""``/trace/{ref}``: ledger entries ← fill → order → gates → intent → decision run → model
calls → the prompt and response artifacts themselves (shown as text, truncated)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from autotrader.artifacts.stores import BlobStore
from autotrader.core.db import Store
from autotrader.core.errors import AutotraderError
from autotrader.ledger.trace import parse_ref, trace
from autotrader.server.api.trace import read_artifact
from autotrader.server.deps import Blobs, ReadStore
from autotrader.server.pages._render import page

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
SHOWN_CHARS = 20_000  # of one artifact; the API serves it whole


@router.get("/trace")
def trace_form(ref: Annotated[str, Query(max_length=40)]) -> Response:
    """The page's "trace" box: normalise the reference, then show its trace."""
    kind, number = parse_ref(ref)
    return RedirectResponse(f"/trace/{kind}:{number}", status_code=303)


@router.get("/trace/{ref}")
def trace_page(
    request: Request,
    ref: Annotated[str, Path(max_length=40)],
    store: ReadStore,
    blobs: Blobs,
) -> HTMLResponse:
    kind, number = parse_ref(ref)
    result = trace(store, kind, number)
    contents = {}
    for run in result.runs:
        for item in run.artifacts:
            contents[item["key"]] = _artifact_text(store, blobs, item["key"])
    return page(request, "trace.html", f"Trace {result.ref}", trace=result, contents=contents)


def _artifact_text(store: Store, blobs: BlobStore, key: str) -> str:
    try:
        _info, data = read_artifact(store, blobs, key)
    except AutotraderError as exc:  # a missing blob is a note on the page, not a failed page
        return f"({exc})"
    text = data.decode("utf-8", errors="replace")
    if len(text) > SHOWN_CHARS:
        return text[:SHOWN_CHARS] + f"\n… ({len(text) - SHOWN_CHARS} more characters)"
    return text
