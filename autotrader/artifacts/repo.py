"""The only SQL of the artifacts package: the ``artifacts`` index table (one row per stored blob,
keyed by the sha256 hex of its bytes). The blobs themselves live in a backend (``stores``).

Every function takes the ``Store`` to use and joins the caller's unit of work when there is one.
Other packages (the ledger's traces) read the index through these functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autotrader.core.db import Store

_COLUMNS = "key, kind, size, content_type, backend, created_at"


def index_artifact(
    store: Store,
    *,
    key: str,
    kind: str,
    size: int,
    content_type: str,
    backend: str,
    now_ms: int,
) -> None:
    """Write the index row of a stored blob, unless one with this key exists (``put`` is
    idempotent: the first row, with its backend and time, stays)."""
    store.execute(
        "INSERT OR IGNORE INTO artifacts (key, kind, size, content_type, backend, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (key, kind, size, content_type, backend, now_ms),
    )


def get_artifact(store: Store, key: str) -> dict[str, Any] | None:
    """The index row of ``key`` (key, kind, size, content_type, backend, created_at), or None
    when it was never indexed."""
    return store.query_one(f"SELECT {_COLUMNS} FROM artifacts WHERE key = ?", (key,))
