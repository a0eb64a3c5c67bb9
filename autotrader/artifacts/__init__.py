"""Content-addressed storage of large payloads (prompts, contexts, responses, requests).

Usage::

    artifacts = artifact_store_from_settings(settings, store, clock)
    key = artifacts.put_json(context_packet, kind="context")   # sha256 hex of the bytes
    packet = artifacts.get_json(key)                             # verified against the key

Backends: ``MemoryStore`` (per process), ``FileStore`` (default, under the data dir) and
``S3Store`` (AWS, Cloudflare R2, MinIO through an endpoint URL). boto3 is imported only when an
S3 store is built.
"""

from __future__ import annotations

from autotrader.artifacts.index import (
    KINDS,
    ArtifactInfo,
    Artifacts,
    artifact_key,
    artifact_store_from_settings,
    canonical_json,
)
from autotrader.artifacts.stores import (
    BlobStore,
    FileStore,
    MemoryStore,
    S3Store,
    backend_from_settings,
)

__all__ = [
    "KINDS",
    "ArtifactInfo",
    "Artifacts",
    "BlobStore",
    "FileStore",
    "MemoryStore",
    "S3Store",
    "artifact_key",
    "artifact_store_from_settings",
    "backend_from_settings",
    "canonical_json",
]
