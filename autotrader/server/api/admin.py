"""Admin routes (bearer token): save a clone's pipeline graph after full validation, or only
validate one. Mounted only when ``AUTOTRADER_SERVER_TOKEN`` is set (``app.create_app``); they
are the server's only writes, each one unit of work on a connection of its own."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request

from autotrader.clones import pipelines
from autotrader.clones.pipelines import PipelineRejected
from autotrader.server.deps import AppClock, CloneId
from autotrader.server.encoding import ApiResponse

router = APIRouter(prefix="/api/v1/admin", tags=["admin"], default_response_class=ApiResponse)
Graph = Body(description="A pipeline graph, as `clones pipeline set` reads it from a file.")


@router.post("/clones/{clone_id}/pipeline/validate", summary="Every problem of a graph")
def validate_pipeline(
    clone_id: CloneId, request: Request, clock: AppClock, graph: Any = Graph
) -> ApiResponse:
    with request.app.state.stores.snapshot() as store:
        problems = pipelines.validate(store, graph, clone_id=clone_id)
    return ApiResponse(
        {
            "ok": not any(p.severity == "error" for p in problems),
            "problems": [
                {"severity": p.severity, "node": p.node_id, "path": p.path, "reason": p.reason}
                for p in problems
            ],
        }
    )


@router.post("/clones/{clone_id}/pipeline", summary="Validate and save a new pipeline version")
def save_pipeline(
    clone_id: CloneId, request: Request, clock: AppClock, graph: Any = Graph
) -> ApiResponse:
    with request.app.state.open_writer() as store:
        try:
            version, warnings = pipelines.save(store, clock, clone_id, graph)
        except PipelineRejected as exc:
            return ApiResponse({"error": str(exc), "problems": exc.problems}, status_code=400)
    return ApiResponse({"version": version, "warnings": warnings}, status_code=201)
