"""``ledger trace`` over HTTP: from a fill, order, intent, position, entry or run, the whole
chain back to the model call, and the stored prompt/response artifacts it names."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import Response

from autotrader.artifacts import repo as artifacts_repo
from autotrader.artifacts.stores import BlobStore
from autotrader.core.db import Store
from autotrader.core.errors import NotFoundError
from autotrader.ledger.trace import parse_ref, trace
from autotrader.server.deps import Blobs, ReadStore
from autotrader.server.encoding import ApiResponse

router = APIRouter(prefix="/api/v1", tags=["trace"], default_response_class=ApiResponse)

Ref = Annotated[str, Path(max_length=40, description="fill:12, order:7, position:3, run:5")]
Key = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="sha256 hex of the artifact")]
MAX_ARTIFACT_BYTES = 2_000_000


@router.get("/trace/{ref}", summary="entries ← fill → order → gates → intent → run → model")
def trace_ref(ref: Ref, store: ReadStore) -> ApiResponse:
    kind, number = parse_ref(ref)
    return ApiResponse(trace(store, kind, number))


@router.get(
    "/artifacts/{key}",
    summary="A stored prompt, context or model response, as stored (plain text)",
    response_class=Response,
)
def artifact(key: Key, store: ReadStore, blobs: Blobs) -> Response:
    info, data = read_artifact(store, blobs, key)
    # Served as plain text whatever its type, so a browser never runs what a model wrote.
    disposition = f'inline; filename="{key[:16]}.{info["kind"]}.txt"'
    return Response(
        data, media_type="text/plain; charset=utf-8", headers={"content-disposition": disposition}
    )


def read_artifact(store: Store, blobs: BlobStore, key: str) -> tuple[dict, bytes]:
    """The index row and the bytes of an artifact; NotFoundError when the index or the
    backend does not have it, or it is larger than the API serves."""
    info = artifacts_repo.get_artifact(store, key)
    if info is None:
        raise NotFoundError(f"artifact {key} is not in the index")
    if info["size"] > MAX_ARTIFACT_BYTES:
        raise NotFoundError(f"artifact {key} is {info['size']} bytes, more than this API serves")
    try:
        return info, blobs.get(key)
    except NotFoundError:
        raise NotFoundError(
            f"artifact {key} is indexed but not in the {info['backend']} store"
        ) from None
