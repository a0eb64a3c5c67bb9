"""The artifact index: one row per stored blob, keyed by the sha256 hex of its bytes.

The blobs themselves live in a backend (memory, file, S3-compatible); this table says what each
one is (kind, size, content type), where it went (backend) and when (epoch ms). A row is only
written after its blob is stored, so a row never points to nothing (see ``artifacts.index``).
"""

from __future__ import annotations

from autotrader.core._sqlite_utils import Database, Migrations

migrations = Migrations("artifacts")


@migrations()
def m001_artifacts(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE artifacts (
            key TEXT PRIMARY KEY,                  -- sha256 hex of the bytes (64 chars)
            kind TEXT NOT NULL
                CHECK (kind IN ('prompt', 'context', 'response', 'request', 'other')),
            size INTEGER NOT NULL CHECK (size >= 0),   -- bytes
            content_type TEXT NOT NULL,
            backend TEXT NOT NULL,                 -- memory | file | s3 (where it was first put)
            created_at INTEGER NOT NULL            -- UTC epoch ms
        ) STRICT
        """
    )
