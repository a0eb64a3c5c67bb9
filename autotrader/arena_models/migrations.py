"""Tables of model arenas: what each arena was set up with, and the clone and account of each of
its (model, variant) cells. Never edited once released: add the next migration."""

from __future__ import annotations

from autotrader.core._sqlite_utils import Database, Migrations

migrations = Migrations("arena_models")


@migrations()
def m001_model_arenas(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE model_arenas (
            name TEXT PRIMARY KEY,
            spec TEXT NOT NULL,                    -- canonical JSON of the grid it was set up as
            started_at INTEGER NOT NULL,           -- every member account's start
            created_at INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE model_arena_members (
            arena TEXT NOT NULL REFERENCES model_arenas (name),
            model TEXT NOT NULL,
            variant TEXT NOT NULL,
            clone_id INTEGER NOT NULL UNIQUE REFERENCES clones (id),
            account_id INTEGER NOT NULL UNIQUE REFERENCES prop_accounts (id),
            PRIMARY KEY (arena, model, variant)
        ) STRICT
        """
    )
