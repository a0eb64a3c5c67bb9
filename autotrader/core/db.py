"""The SQLite store: connection pragmas, migrations, units of work, atomic claims, backups.

One ``Store`` wraps one connection. Every connection gets the same pragmas (WAL, synchronous
NORMAL, foreign keys, a busy timeout), so any number of worker processes can share one file.

Transactions are explicit: the connection runs in autocommit mode and ``store.atomic()`` opens a
``BEGIN IMMEDIATE`` transaction (nested blocks become savepoints through sqlite-utils). Taking the
write lock up front matters in WAL mode: a deferred transaction that reads and then writes can
fail with ``SQLITE_BUSY`` without waiting for the busy timeout when another writer got in between.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autotrader.core._sqlite_utils import Database, Migrations
from autotrader.core.errors import OperationalError, TemporaryError

DEFAULT_BUSY_TIMEOUT_MS = 10_000
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class MigrationState:
    """One migration as ``db status`` shows it."""

    migration_set: str
    name: str
    applied_at: str | None

    @property
    def applied(self) -> bool:
        return self.applied_at is not None


def _identifier(name: str) -> str:
    """Refuse anything but a plain SQL identifier, so table/column names can be interpolated."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


def translate_sqlite_error(exc: sqlite3.Error) -> Exception:
    """Map a sqlite3 error to our tree: a locked/busy database may clear, anything else stops."""
    message = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in message or "busy" in message):
        return TemporaryError(f"the database is busy ({message}); try again")
    return OperationalError(f"database error: {message}")


class Store:
    """A connection to the autotrader SQLite file with our pragmas and migration sets applied."""

    def __init__(
        self,
        path: str | Path,
        *,
        migrations: Sequence[Migrations] = (),
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        migrate: bool = True,
    ) -> None:
        self.path = Path(path)
        self.migration_sets = tuple(migrations)
        if str(path) != ":memory:":
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OperationalError(
                    f"cannot create the folder for the store {self.path}: {exc.strerror}"
                ) from None
        try:
            # isolation_level=None: no implicit transactions; atomic() is the only way to group.
            self.conn = sqlite3.connect(
                str(path),
                timeout=busy_timeout_ms / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            self.conn.row_factory = sqlite3.Row
            self._apply_pragmas(busy_timeout_ms)
        except sqlite3.Error as exc:
            raise OperationalError(f"cannot open the store {self.path}: {exc}") from None
        self.db = Database(self.conn, execute_plugins=False)
        if migrate:
            self.migrate()

    def _apply_pragmas(self, busy_timeout_ms: int) -> None:
        self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal" and str(self.path) != ":memory:":
            raise OperationalError(f"{self.path}: the file system refused WAL mode ({mode})")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute("PRAGMA foreign_keys = ON")

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- units of work ---------------------------------------------------------------------

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Store]:
        """Commit everything in the block as one, or roll all of it back on any exception.

        The outermost block takes the write lock at once (``BEGIN IMMEDIATE``); nested blocks are
        savepoints, so a service that is atomic on its own composes into a larger unit of work.
        """
        if self.conn.in_transaction:
            with self.db.atomic():
                yield self
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc) from exc
        try:
            yield self
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise translate_sqlite_error(exc) from exc

    # -- queries ---------------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc) from exc

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict]:
        """Run a query and return plain dicts."""
        return [dict(row) for row in self.execute(sql, params).fetchall()]

    def query_one(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> dict | None:
        row = self.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def claim(
        self,
        table: str,
        *,
        where: str,
        set_values: Mapping[str, Any],
        params: Sequence[Any] = (),
        order_by: str = "id",
        limit: int = 1,
        key: str = "id",
    ) -> list[dict]:
        """Atomically claim up to ``limit`` rows of a job table and return them as updated.

        ``where`` selects claimable rows (e.g. ``"status = 'queued'"``), ``set_values`` marks them
        claimed (e.g. ``{"status": "running", "claimed_by": worker_id}``). The select and the
        update run under one ``BEGIN IMMEDIATE`` write lock, so two processes never claim the same
        row. ``where`` and ``order_by`` are SQL written by our code, never user text; values go in
        ``params``.
        """
        if limit < 1:
            return []
        table, key = _identifier(table), _identifier(key)
        assignments = ", ".join(f"{_identifier(column)} = ?" for column in set_values)
        sql = (
            f"UPDATE {table} SET {assignments} "
            f"WHERE {key} IN (SELECT {key} FROM {table} WHERE {where} ORDER BY {order_by} LIMIT ?) "
            "RETURNING *"
        )
        with self.atomic():
            rows = self.execute(sql, [*set_values.values(), *params, limit]).fetchall()
        return sorted((dict(row) for row in rows), key=lambda row: row[key])

    # -- migrations ------------------------------------------------------------------------

    def migration_status(self) -> list[MigrationState]:
        """Every known migration, applied ones with their time, in application order."""
        states: list[MigrationState] = []
        for migration_set in self.migration_sets:
            applied = {m.name: m.applied_at for m in migration_set.applied(self.db)}
            for migration in migration_set._migrations:
                states.append(
                    MigrationState(migration_set.name, migration.name, applied.get(migration.name))
                )
        return states

    def pending_migrations(self) -> list[MigrationState]:
        return [state for state in self.migration_status() if not state.applied]

    def migrate(self) -> list[MigrationState]:
        """Apply pending migrations, in order, and return the ones applied now.

        All of it happens under one write lock, so two processes starting on a new file do not
        both try to create the same tables; a failing migration rolls back with nothing recorded.
        """
        if not self.migration_sets:
            return []
        try:
            if not self.pending_migrations():
                return []
            before = {(s.migration_set, s.name) for s in self.migration_status() if s.applied}
            with self.atomic():
                for migration_set in self.migration_sets:
                    migration_set.apply(self.db)
        except sqlite3.Error as exc:
            raise OperationalError(f"migrating {self.path} failed: {exc}") from exc
        return [
            state
            for state in self.migration_status()
            if state.applied and (state.migration_set, state.name) not in before
        ]

    # -- maintenance -----------------------------------------------------------------------

    def backup(self, destination: str | Path) -> Path:
        """Copy the store to ``destination`` with SQLite's online backup API.

        Safe while other processes write: the copy is a consistent snapshot that includes what is
        still in the ``-wal`` file (copying the ``.db`` file alone would lose it). The copy is a
        single self-contained file in rollback-journal mode.
        """
        target = Path(destination)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with contextlib.closing(sqlite3.connect(str(target))) as copy:
                self.conn.backup(copy)
                copy.execute("PRAGMA journal_mode = DELETE")
        except sqlite3.Error as exc:
            raise OperationalError(f"backup to {target} failed: {exc}") from exc
        return target

    def pragma(self, name: str) -> Any:
        return self.execute(f"PRAGMA {_identifier(name)}").fetchone()[0]

    def checkpoint(self) -> tuple[int, int, int]:
        """Fold the WAL back into the database file (PASSIVE: never blocks writers)."""
        row = self.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(row[0]), int(row[1]), int(row[2])
