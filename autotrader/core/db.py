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
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
    """A connection to the autotrader SQLite file with our pragmas and migration sets applied.

    The interface every other package is written against: :meth:`query`/:meth:`query_one`/
    :meth:`scalar` hand back plain rows, :meth:`execute` a row count, :meth:`insert`,
    :meth:`insert_or_ignore` and :meth:`upsert` hide the dialect's conflict syntax,
    :meth:`atomic` is a unit of work, :meth:`read` a read snapshot and :meth:`claim` an atomic
    job claim. Nothing outside ``core/`` touches the driver connection.
    """

    dialect = "sqlite"

    def __init__(
        self,
        path: str | Path,
        *,
        migrations: Sequence[Migrations] = (),
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        migrate: bool = True,
        readonly: bool = False,
    ) -> None:
        self.path = Path(path)
        self.migration_sets = tuple(migrations)
        self.readonly = readonly
        self._busy_timeout_ms = busy_timeout_ms
        memory = str(path) == ":memory:"
        if readonly and not memory and not self.path.is_file():
            raise OperationalError(f"no store at {self.path}")
        if not memory and not readonly:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OperationalError(
                    f"cannot create the folder for the store {self.path}: {exc.strerror}"
                ) from None
        target = f"file:{self.path.resolve()}?mode=ro" if readonly and not memory else str(path)
        try:
            # isolation_level=None: no implicit transactions; atomic() is the only way to group.
            self._conn = sqlite3.connect(
                target,
                timeout=busy_timeout_ms / 1000,
                isolation_level=None,
                check_same_thread=False,
                uri=readonly and not memory,
            )
            self._conn.row_factory = sqlite3.Row
            self._apply_pragmas(busy_timeout_ms)
        except sqlite3.Error as exc:
            raise OperationalError(f"cannot open the store {self.path}: {exc}") from None
        self._db = Database(self._conn, execute_plugins=False)
        if migrate and not readonly:
            self.migrate()

    def _apply_pragmas(self, busy_timeout_ms: int) -> None:
        self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if self.readonly:
            self._conn.execute("PRAGMA query_only = ON")
            return
        mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal" and str(self.path) != ":memory:":
            raise OperationalError(f"{self.path}: the file system refused WAL mode ({mode})")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute("PRAGMA foreign_keys = ON")

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        self._conn.close()

    def sibling(self) -> Store:
        """Another connection to the same store with the same settings (for a thread or a log
        writer that must not share this connection's transactions). Never migrates."""
        return Store(
            self.path,
            migrations=self.migration_sets,
            busy_timeout_ms=self._busy_timeout_ms,
            migrate=False,
            readonly=self.readonly,
        )

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
        if self._conn.in_transaction:
            with self._db.atomic():
                yield self
            return
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc) from exc
        try:
            yield self
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise translate_sqlite_error(exc) from exc

    @contextlib.contextmanager
    def read(self) -> Iterator[Store]:
        """One consistent snapshot for every read in the block: a writer committing meanwhile
        cannot mix two states of the store into one answer (WAL readers keep the snapshot their
        first read took). Inside a unit of work, that unit already is the snapshot."""
        if self._conn.in_transaction:
            yield self
            return
        try:
            self._conn.execute("BEGIN")
            self._conn.execute("SELECT 1 FROM sqlite_master LIMIT 1")  # pins the snapshot now
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc) from exc
        try:
            yield self
        finally:
            if self._conn.in_transaction:
                self._conn.execute("COMMIT")  # read-only: nothing to keep or roll back

    # -- queries ---------------------------------------------------------------------------
    #
    # Everything hands back plain rows (dicts) or counts, never a driver cursor: callers are
    # written against this interface, not against sqlite3, so a second backend fits behind it.

    @property
    def in_transaction(self) -> bool:
        """Whether a unit of work (or read snapshot) is open on this connection."""
        return self._conn.in_transaction

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> int:
        """Run one statement that returns no rows; the number of rows it changed."""
        try:
            return self._conn.execute(sql, params).rowcount
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> int:
        """Run one statement once per parameter row; the total number of rows changed."""
        try:
            return self._conn.executemany(sql, rows).rowcount
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc) from exc

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict]:
        """Run a query and return its rows as plain dicts."""
        try:
            return [dict(row) for row in self._conn.execute(sql, params).fetchall()]
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc) from exc

    def query_one(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> dict | None:
        """The first row of a query as a dict, or None."""
        try:
            row = self._conn.execute(sql, params).fetchone()
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc) from exc
        return dict(row) if row is not None else None

    def scalar(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] = (), *, default: Any = None
    ) -> Any:
        """The first column of the first row, or ``default`` when there is no row."""
        try:
            row = self._conn.execute(sql, params).fetchone()
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc) from exc
        return default if row is None else row[0]

    def tuples(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Iterator[tuple]:
        """Stream a query's rows as plain tuples, for bulk reads (``ledger verify`` over a
        million entries): building a dict per row would cost seconds there."""
        try:
            cursor = self._conn.cursor()
            cursor.row_factory = None
            cursor.execute(sql, params)
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc) from exc
        return _streamed(cursor)

    # -- dialect helpers ----------------------------------------------------------------------

    def insert(self, table: str, values: Mapping[str, Any], *, returning: str = "id") -> Any:
        """Insert one row and return its ``returning`` column (the new id)."""
        row = self.query_one(_insert_sql(table, values, returning=returning), list(values.values()))
        assert row is not None  # an INSERT without a conflict clause returns its row or raises
        return row[returning]

    def insert_or_ignore(
        self, table: str, values: Mapping[str, Any], *, returning: str = "id"
    ) -> Any | None:
        """Insert one row unless it collides with a unique key; the new row's ``returning``
        column, or None when a row with that key already existed (nothing changed)."""
        sql = _insert_sql(table, values, returning=returning, conflict="ON CONFLICT DO NOTHING")
        row = self.query_one(sql, list(values.values()))
        return None if row is None else row[returning]

    def upsert(
        self,
        table: str,
        values: Mapping[str, Any],
        *,
        key: Sequence[str],
        update: Sequence[str] | None = None,
        returning: str | None = None,
    ) -> Any:
        """Insert one row, or update the existing row with the same ``key`` columns (every other
        given column, or only ``update``). Returns the ``returning`` column when asked."""
        keys = [_identifier(column) for column in key]
        changed = [c for c in (update if update is not None else values) if c not in keys]
        action = (
            "DO UPDATE SET " + ", ".join(f"{_identifier(c)} = excluded.{c}" for c in changed)
            if changed
            else "DO NOTHING"
        )
        conflict = f"ON CONFLICT ({', '.join(keys)}) {action}"
        sql = _insert_sql(table, values, returning=returning, conflict=conflict)
        if returning is None:
            self.execute(sql, list(values.values()))
            return None
        row = self.query_one(sql, list(values.values()))
        return None if row is None else row[returning]

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
            rows = self.query(sql, [*set_values.values(), *params, limit])
        return sorted(rows, key=lambda row: row[key])

    # -- migrations ------------------------------------------------------------------------

    def migration_status(self) -> list[MigrationState]:
        """Every known migration, applied ones with their time, in application order."""
        states: list[MigrationState] = []
        for migration_set in self.migration_sets:
            applied = {m.name: m.applied_at for m in migration_set.applied(self._db)}
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
                    migration_set.apply(self._db)
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
                self._conn.backup(copy)
                copy.execute("PRAGMA journal_mode = DELETE")
        except sqlite3.Error as exc:
            raise OperationalError(f"backup to {target} failed: {exc}") from exc
        return target

    def tables(self) -> set[str]:
        """The names of every table in the store."""
        return {
            name for (name,) in self.tuples("SELECT name FROM sqlite_master WHERE type = 'table'")
        }

    def pragma(self, name: str) -> Any:
        return self.scalar(f"PRAGMA {_identifier(name)}")

    def checkpoint(self) -> tuple[int, int, int]:
        """Fold the WAL back into the database file (PASSIVE: never blocks writers)."""
        row = next(self.tuples("PRAGMA wal_checkpoint(PASSIVE)"))
        return int(row[0]), int(row[1]), int(row[2])


def _insert_sql(
    table: str,
    values: Mapping[str, Any],
    *,
    returning: str | None,
    conflict: str = "",
) -> str:
    columns = [_identifier(column) for column in values]
    sql = (
        f"INSERT INTO {_identifier(table)} ({', '.join(columns)})"
        f" VALUES ({', '.join('?' * len(columns))})"
    )
    if conflict:
        sql += f" {conflict}"
    if returning is not None:
        sql += f" RETURNING {_identifier(returning)}"
    return sql


def _streamed(cursor: sqlite3.Cursor) -> Iterator[tuple]:
    try:
        yield from cursor
    except sqlite3.Error as exc:
        raise translate_sqlite_error(exc) from exc
    finally:
        cursor.close()
