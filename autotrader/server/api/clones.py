"""Clones, their pipeline versions and compiled plans (``clones show``, ``clones pipeline``)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query

from autotrader.clones import management, pipelines
from autotrader.clones import repo as clones_repo
from autotrader.server.deps import AppClock, CloneId, ReadStore
from autotrader.server.encoding import ApiResponse

router = APIRouter(prefix="/api/v1/clones", tags=["clones"], default_response_class=ApiResponse)
Version = Annotated[int | None, Query(ge=1, le=1_000_000, description="Default: the newest.")]


@router.get("", summary="Every clone with its model, entitlements and pipeline version")
def list_clones(store: ReadStore) -> ApiResponse:
    return ApiResponse({"clones": management.list_clones(store)})


@router.get("/{clone_id}", summary="One clone")
def show_clone(clone_id: CloneId, store: ReadStore) -> ApiResponse:
    return ApiResponse(management.require_clone(store, clone_id))


@router.get("/{clone_id}/pipelines", summary="Every saved version of a clone's pipeline graph")
def pipeline_history(clone_id: CloneId, store: ReadStore) -> ApiResponse:
    management.require_clone(store, clone_id)
    versions = [_decoded(row) for row in clones_repo.pipeline_history(store, clone_id)]
    return ApiResponse({"versions": versions})


@router.get("/{clone_id}/pipeline", summary="A stored pipeline graph (the newest by default)")
def pipeline(clone_id: CloneId, store: ReadStore, version: Version = None) -> ApiResponse:
    return ApiResponse(_decoded(pipelines.stored(store, clone_id, version)))


@router.get("/{clone_id}/plan", summary="A pipeline compiled into per-asset read plans")
def plan(clone_id: CloneId, store: ReadStore, clock: AppClock, version: Version = None):
    return ApiResponse(pipelines.compiled(store, clone_id, version))


def _decoded(row: dict) -> dict:
    """A pipeline row with its JSON columns (graph, layout, warnings) as JSON, not text."""
    return {k: json.loads(v) if k in _JSON_COLUMNS and v else v for k, v in row.items()}


_JSON_COLUMNS = frozenset({"graph", "layout", "warnings"})
