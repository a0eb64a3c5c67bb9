"""Move a store between backends: every row of every table from one store into a new one
(SQLite → PostgreSQL or back), in one transaction on the target.

Both stores must carry the same, complete migration history: the target is created and
migrated by opening it, and a source with pending migrations is migrated first by the caller.
The target must be new: only what its migrations seed (the model registry, the version in
``meta``) may be there, and it is replaced by the source's rows. Tables are filled parents
first, so foreign keys hold at every insert; PostgreSQL identities then continue past the
copied ids.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from autotrader.core import repo
from autotrader.core.db import Store
from autotrader.core.errors import ConflictError, OperationalError

# What a freshly migrated store already holds: the migration history itself, the version in
# meta, and what the clones migrations seed.
_SEEDED = {"_sqlite_migrations", "meta", "models", "owners"}
_HISTORY = "_sqlite_migrations"
_BATCH = 1000


@dataclass(frozen=True)
class CopyReport:
    tables: int
    rows: int

    def summary(self) -> str:
        return f"{self.rows:,} rows in {self.tables} tables"


def copy_store(source: Store, target: Store) -> CopyReport:
    """Copy every row of ``source`` into the new store ``target``; see the module docstring."""
    _refuse_unless_same_history(source, target)
    tables = sorted(source.tables() - {_HISTORY})
    occupied = [t for t in sorted(target.tables() - _SEEDED) if repo.count_rows(target, t)]
    if occupied:
        raise ConflictError(
            f"{target.path} is not a new store (it has rows in {', '.join(occupied[:3])}"
            + (", ..." if occupied[3:] else "")
            + "); copy into a new, empty database"
        )
    order = _parents_first(tables, repo.table_parents(target))
    copied = 0
    with source.read(), target.atomic():
        for table in reversed(order):  # children first, so the seeded parents can go
            if table in _SEEDED:
                repo.clear_table(target, table)
        for table in order:
            columns = repo.table_columns(source, table)
            rows = repo.stream_rows(source, table, columns)
            while batch := list(itertools.islice(rows, _BATCH)):
                repo.insert_rows(target, table, columns, batch)
                copied += len(batch)
        if target.dialect == "postgres":
            target.resync_identities()  # type: ignore[attr-defined]
    return CopyReport(len(order), copied)


def _refuse_unless_same_history(source: Store, target: Store) -> None:
    pending = source.pending_migrations()
    if pending:
        raise OperationalError(
            f"{source.path} has {len(pending)} pending migration(s): run `autotrader db migrate`"
            " on it first"
        )
    unknown = source.unknown_migrations()
    if unknown:
        raise OperationalError(
            f"{source.path} has migrations this version does not know ({', '.join(unknown[:3])});"
            " copy it with the autotrader that migrated it"
        )
    if target.pending_migrations():
        raise OperationalError(f"{target.path} is not fully migrated")


def _parents_first(tables: list[str], parents: dict[str, set[str]]) -> list[str]:
    """``tables`` ordered so that each comes after every table its foreign keys refer to."""
    ordered: list[str] = []
    placed: set[str] = set()
    copied = set(tables)
    remaining = list(tables)
    while remaining:
        ready = [t for t in remaining if (parents.get(t, set()) & copied) <= placed]
        if not ready:
            raise OperationalError(f"foreign keys form a cycle among {', '.join(remaining)}")
        for table in ready:
            ordered.append(table)
            placed.add(table)
        remaining = [t for t in remaining if t not in placed]
    return ordered
