"""The ``Artifacts`` facade: content-addressed put/get over a blob backend, with an index table.

An artifact's key is the sha256 hex of its bytes, so the same payload stored twice is one object
and one index row (``put`` is idempotent), and a key says nothing but what the bytes are.

Ordering promise: the blob is stored first, the index row second (``INSERT OR IGNORE``). A crash
between the two leaves at worst an unindexed blob, never an index row pointing to nothing; the
next put of the same payload writes the missing row. Every read re-hashes the bytes: a blob that
does not match its key raises ``OperationalError("artifact … corrupted")``.

Transactions: the index insert joins the caller's ``store.atomic()`` block when there is one (a
rollback then leaves an unindexed blob, which is harmless). Store large payloads *before* opening
a trading transaction, so a slow upload never holds the database's write lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from autotrader.artifacts import repo
from autotrader.artifacts.stores import BlobStore, backend_from_settings, check_key
from autotrader.core.errors import InvalidInputError, NotFoundError, OperationalError

if TYPE_CHECKING:
    from autotrader.core.clock import Clock
    from autotrader.core.db import Store
    from autotrader.core.settings import Settings

KINDS = ("prompt", "context", "response", "request", "other")
JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"
BYTES_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class ArtifactInfo:
    """One index row: what an artifact is, its size in bytes, where and when it was first put."""

    key: str
    kind: str
    size: int
    content_type: str
    backend: str
    created_at: int  # UTC epoch ms


def artifact_key(data: bytes) -> str:
    """The key of ``data``: its sha256 as 64 lowercase hex characters."""
    return hashlib.sha256(data).hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # As text, so money keeps its exact digits (a float would round it).
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def canonical_json(obj: Any) -> bytes:
    """``obj`` as canonical JSON bytes: sorted keys, no whitespace, UTF-8, Decimals as strings.

    Equal objects give equal bytes (and so equal keys) whatever their dict insertion order.
    Raises InvalidInputError for values JSON cannot carry (NaN, infinity, arbitrary objects).
    """
    try:
        text = json.dumps(
            obj,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
            default=_json_default,
        )
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"cannot store as JSON: {exc}") from None
    return text.encode("utf-8")


class Artifacts:
    """Put and get large payloads by content hash; ``backend`` holds bytes, ``store`` the index."""

    def __init__(self, store: Store, backend: BlobStore, clock: Clock) -> None:
        self.store = store
        self.backend = backend
        self.clock = clock

    # -- writing ---------------------------------------------------------------------------

    def put_bytes(self, data: bytes, *, kind: str, content_type: str = BYTES_TYPE) -> str:
        """Store ``data`` (once) and index it; return its key. Idempotent.

        Raises InvalidInputError for an unknown ``kind`` (before anything is stored), and the
        backend's TemporaryError/OperationalError if the blob cannot be stored (then no index
        row is written).
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"put_bytes takes bytes, not {type(data).__name__}")
        if kind not in KINDS:
            raise InvalidInputError(f"unknown artifact kind {kind!r}; one of {', '.join(KINDS)}")
        data = bytes(data)
        key = artifact_key(data)
        # Content addressing: an existing object already holds these exact bytes, so skip the
        # upload (a HEAD is much cheaper than re-sending megabytes to S3).
        if not self.backend.exists(key):
            self.backend.put(key, data, content_type)
        repo.index_artifact(
            self.store,
            key=key,
            kind=kind,
            size=len(data),
            content_type=content_type,
            backend=self.backend.name,
            now_ms=self.clock.now_ms(),
        )
        return key

    def put_json(self, obj: Any, *, kind: str) -> str:
        """Store ``obj`` as canonical JSON (see ``canonical_json``); return its key."""
        return self.put_bytes(canonical_json(obj), kind=kind, content_type=JSON_TYPE)

    def put_text(self, text: str, *, kind: str) -> str:
        """Store ``text`` as UTF-8; return its key."""
        return self.put_bytes(text.encode("utf-8"), kind=kind, content_type=TEXT_TYPE)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Make the blobs put inside the block durable together when it ends (the file
        backend's :meth:`~autotrader.artifacts.stores.FileStore.batch`: one flush pass instead
        of one per put); backends without batching store as usual."""
        batch = getattr(self.backend, "batch", None)
        if batch is None:
            yield
            return
        with batch():
            yield

    # -- reading ---------------------------------------------------------------------------

    def get_bytes(self, key: str) -> bytes:
        """The bytes stored under ``key``, verified against it.

        Raises InvalidInputError for a malformed key, NotFoundError when the backend has no such
        blob, OperationalError when the blob's sha256 does not match the key (corruption).
        """
        check_key(key)
        data = self.backend.get(key)
        if artifact_key(data) != key:
            raise OperationalError(
                f"artifact {key} corrupted in the {self.backend.name} store: its bytes hash to "
                f"{artifact_key(data)}"
            )
        return data

    def get_json(self, key: str) -> Any:
        """The JSON value under ``key`` (Decimals come back as the strings they were stored as)."""
        data = self.get_bytes(key)
        try:
            return json.loads(data)
        except ValueError as exc:
            raise InvalidInputError(f"artifact {key} is not JSON: {exc}") from None

    def get_text(self, key: str) -> str:
        """The UTF-8 text under ``key``; InvalidInputError when the bytes are not UTF-8."""
        data = self.get_bytes(key)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"artifact {key} is not UTF-8 text: {exc}") from None

    def info(self, key: str) -> ArtifactInfo:
        """The index row of ``key``; NotFoundError when it was never indexed."""
        row = repo.get_artifact(self.store, check_key(key))
        if row is None:
            raise NotFoundError(f"artifact {key} is not in the index")
        return ArtifactInfo(**row)


def artifact_store_from_settings(settings: Settings, store: Store, clock: Clock) -> Artifacts:
    """``Artifacts`` over the configured backend (``AUTOTRADER_ARTIFACTS``, file by default)."""
    return Artifacts(store, backend_from_settings(settings), clock)
