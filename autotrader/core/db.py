"""The SQLite store: connection pragmas, migrations, units of work, atomic claims, backups.

One ``Store`` wraps one connection. Every connection gets the same pragmas (WAL, synchronous
NORMAL, foreign keys, a busy timeout), so any number of worker processes can share one file.

A store knows what it opens: the file's header is checked before SQLite sees it (a foreign file is
refused, never turned into a database), a SQLite file without autotrader's migration history is
refused, and a store carrying migrations this version does not know (a newer autotrader migrated
it) is opened read-only or not at all. Writers check each b-tree page as they read it
(``cell_size_check``), so a damaged page stops the write that meets it instead of spreading;
:meth:`Store.integrity_problems` runs SQLite's whole-file checks, which take seconds on a large
store and so run only where a command asks for them (``init``, ``db migrate``, ``db status``,
``db check``, a worker's start).

Transactions are explicit: the connection runs in autocommit mode and ``store.atomic()`` opens a
``BEGIN IMMEDIATE`` transaction (nested blocks become savepoints through sqlite-utils). Taking the
write lock up front matters in WAL mode: a deferred transaction that reads and then writes can
fail with ``SQLITE_BUSY`` without waiting for the busy timeout when another writer got in between.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autotrader.core._sqlite_utils import Database, Migrations
from autotrader.core.errors import (
    InvalidInputError,
    NotFoundError,
    OperationalError,
    TemporaryError,
)
from autotrader.core.outputs import output_file
from autotrader.core.store_file import check_store_file, store_files

DEFAULT_BUSY_TIMEOUT_MS = 10_000
VERSION_KEY = "product_version"  # meta: the autotrader version that last applied migrations
_MIGRATIONS_TABLE = Migrations.migrations_table
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DAMAGE_CODES = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)  # primary codes of a damaged file


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


def translate_sqlite_error(exc: sqlite3.Error, path: Path | None = None) -> Exception:
    """Map a sqlite3 error to our tree: a locked/busy database may clear, a damaged file (SQLite
    found a page it cannot read) stops and says so, naming the store; anything else stops."""
    message = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in message or "busy" in message):
        return TemporaryError(f"the database is busy ({message}); try again")
    if _is_damage(exc):
        return OperationalError(damaged(path, message))
    return OperationalError(f"database error: {message}")


def _is_damage(exc: sqlite3.Error) -> bool:
    """Whether SQLite found the file damaged (any SQLITE_CORRUPT or SQLITE_NOTADB code)."""
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _DAMAGE_CODES


def _open_error(path: Path, exc: sqlite3.Error) -> OperationalError:
    if _is_damage(exc):
        return OperationalError(damaged(path, str(exc)))
    return OperationalError(f"cannot open the store {path}: {exc}")


def damaged(path: Path | None, problem: str) -> str:
    """The one line that reports a damaged store and what to do about it."""
    store = f"the store {path}" if path is not None else "the store"
    return (
        f"{store} is damaged ({problem}); nothing was written. `autotrader db check` lists the"
        " damage; restore the store from a backup"
    )


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
        version: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.migration_sets = tuple(migrations)
        self.readonly = readonly
        self.version = version  # the product's version, recorded in meta when migrating
        self._busy_timeout_ms = busy_timeout_ms
        self._intact = False  # quick_check passed on this connection (see require_intact)
        memory = str(path) == ":memory:"
        if not memory:
            check_store_file(self.path)
        if readonly and not memory and not self.path.is_file():
            raise NotFoundError(f"no store at {self.path}")
        # A read-only connection cannot delete the -wal/-shm files it makes: see close().
        self._leaves_side_files = (
            readonly
            and not memory
            and not any(side.exists() for side in store_files(self.path)[1:])
        )
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
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        except sqlite3.Error as exc:
            raise _open_error(self.path, exc) from None
        self._db = Database(self._conn, execute_plugins=False)
        try:
            # Before any pragma that writes (WAL mode rewrites the header), so a file that is
            # refused is left exactly as it was.
            if self.migration_sets:
                self._refuse_foreign_schema()
                if not readonly:
                    self._refuse_unknown_migrations()
            self._apply_pragmas()
        except BaseException as exc:
            self.close()
            if isinstance(exc, sqlite3.Error):
                raise _open_error(self.path, exc) from None
            raise
        if migrate and not readonly:
            self.migrate()

    def _apply_pragmas(self) -> None:
        self._conn.execute("PRAGMA foreign_keys = ON")
        if self.readonly:
            self._conn.execute("PRAGMA query_only = ON")
            return
        mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal" and str(self.path) != ":memory:":
            raise OperationalError(f"{self.path}: the file system refused WAL mode ({mode})")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        # Check each b-tree page's cells as it is read: a damaged page then fails the statement
        # that meets it (SQLITE_CORRUPT, rolled back) instead of being written on.
        self._conn.execute("PRAGMA cell_size_check = ON")

    def _refuse_foreign_schema(self) -> None:
        """A SQLite file with tables but no migration history is another program's database."""
        refuse_foreign_schema(self, "a SQLite database")

    def _refuse_unknown_migrations(self) -> None:
        """Writing to a store a newer autotrader migrated could break what that version expects."""
        refuse_unknown_migrations(self)

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        self._conn.close()
        if self._leaves_side_files:
            self._leaves_side_files = False
            _release_side_files(self.path)

    def sibling(self) -> Store:
        """Another connection to the same store with the same settings (for a thread or a log
        writer that must not share this connection's transactions). Never migrates."""
        return Store(
            self.path,
            migrations=self.migration_sets,
            busy_timeout_ms=self._busy_timeout_ms,
            migrate=False,
            readonly=self.readonly,
            version=self.version,
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
            raise translate_sqlite_error(exc, self.path) from exc
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
            raise translate_sqlite_error(exc, self.path) from exc

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
            raise translate_sqlite_error(exc, self.path) from exc
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
            raise translate_sqlite_error(exc, self.path) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> int:
        """Run one statement once per parameter row; the total number of rows changed."""
        try:
            return self._conn.executemany(sql, rows).rowcount
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc, self.path) from exc

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict]:
        """Run a query and return its rows as plain dicts."""
        try:
            return [dict(row) for row in self._conn.execute(sql, params).fetchall()]
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc, self.path) from exc

    def query_one(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> dict | None:
        """The first row of a query as a dict, or None."""
        try:
            row = self._conn.execute(sql, params).fetchone()
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc, self.path) from exc
        return dict(row) if row is not None else None

    def scalar(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] = (), *, default: Any = None
    ) -> Any:
        """The first column of the first row, or ``default`` when there is no row."""
        try:
            row = self._conn.execute(sql, params).fetchone()
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc, self.path) from exc
        return default if row is None else row[0]

    def tuples(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Iterator[tuple]:
        """Stream a query's rows as plain tuples, for bulk reads (``ledger verify`` over a
        million entries): building a dict per row would cost seconds there."""
        try:
            cursor = self._conn.cursor()
            cursor.row_factory = None
            cursor.execute(sql, params)
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc, self.path) from exc
        return _streamed(cursor, self.path)

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
        sql = _upsert_sql(table, values, key=key, update=update, returning=returning)
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
        sql = _claim_sql(table, where=where, set_values=set_values, order_by=order_by, key=key)
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

    def unknown_migrations(self) -> list[str]:
        """Applied migrations (``set.name``) that none of this store's migration sets define:
        a newer autotrader migrated the store."""
        if _MIGRATIONS_TABLE not in self.tables():
            return []
        known = {(s.name, m.name) for s in self.migration_sets for m in s._migrations}
        rows = self.tuples(f"SELECT migration_set, name FROM {_MIGRATIONS_TABLE} ORDER BY id")
        return [f"{group}.{name}" for group, name in rows if (group, name) not in known]

    def recorded_version(self) -> str | None:
        """The autotrader version that last applied migrations to this store, if recorded."""
        if "meta" not in self.tables():
            return None
        return self.scalar("SELECT value FROM meta WHERE key = ?", (VERSION_KEY,))

    def migrate(self) -> list[MigrationState]:
        """Apply pending migrations, in order, and return the ones applied now.

        All of it happens under one write lock, so two processes starting on a new file do not
        both try to create the same tables; a failing migration rolls back with nothing recorded.
        An existing store passes ``PRAGMA quick_check`` first (a migration that rebuilds a table
        would carry damage along), and the product version is recorded in ``meta``. Raises
        OperationalError for a damaged store or one a newer autotrader migrated.
        """
        if not self.migration_sets:
            return []
        self._refuse_unknown_migrations()
        try:
            if not self.pending_migrations():
                return []
            before = {(s.migration_set, s.name) for s in self.migration_status() if s.applied}
            if before:
                self.require_intact()
            with self.atomic():
                for migration_set in self.migration_sets:
                    migration_set.apply(self._db)
                if self.version and "meta" in self.tables():
                    now_ms = int(time.time() * 1000)
                    self.upsert(
                        "meta",
                        {"key": VERSION_KEY, "value": self.version, "updated_at": now_ms},
                        key=("key",),
                    )
        except sqlite3.Error as exc:
            raise OperationalError(f"migrating {self.path} failed: {exc}") from exc
        return [
            state
            for state in self.migration_status()
            if state.applied and (state.migration_set, state.name) not in before
        ]

    # -- maintenance -----------------------------------------------------------------------

    def backup(self, destination: str | Path, *, force: bool = False) -> Path:
        """Copy the store to ``destination`` with SQLite's online backup API.

        Safe while other processes write: the copy is a consistent snapshot that includes what is
        still in the ``-wal`` file (copying the ``.db`` file alone would lose it). The copy is a
        single self-contained file in rollback-journal mode, written beside ``destination`` and
        renamed over it when complete. ``destination`` is never the store or one of its side
        files, and an existing file is replaced only with ``force`` (ConflictError otherwise).
        """
        target = Path(destination)
        with output_file(target, stores=[self.path], force=force) as temp:
            try:
                with contextlib.closing(sqlite3.connect(str(temp))) as copy:
                    self._conn.backup(copy)
                    copy.execute("PRAGMA journal_mode = DELETE")
            except sqlite3.Error as exc:
                raise OperationalError(f"backup to {target} failed: {exc}") from exc
        return target

    def integrity_problems(self, *, full: bool = False, limit: int = 100) -> list[str]:
        """SQLite's own check of every page: ``PRAGMA quick_check`` (b-tree structure, about
        5 s on a 450 MB store), or with ``full`` ``PRAGMA integrity_check`` (indexes against
        their tables too, about ten times longer). One line per problem, at most ``limit``;
        empty when the store is intact."""
        pragma = "integrity_check" if full else "quick_check"
        try:
            rows = [row[0] for row in self._conn.execute(f"PRAGMA {pragma}({int(limit)})")]
        except sqlite3.DatabaseError as exc:  # too damaged for the check to walk it
            return [str(exc)]
        if rows == ["ok"]:
            return []
        # A row may hold several lines under a "*** in database main ***" heading.
        lines = (line.strip() for row in rows for line in row.splitlines())
        return [line for line in lines if line and not line.startswith("*** in database")]

    def require_intact(self) -> None:
        """Raise OperationalError naming the store and its first problem unless
        ``PRAGMA quick_check`` passes. Checked once per connection: later damage surfaces as
        SQLITE_CORRUPT on the page that meets it."""
        if self._intact:
            return
        problems = self.integrity_problems(limit=1)
        if problems:
            raise OperationalError(damaged(self.path, problems[0]))
        self._intact = True

    def foreign_key_problems(self) -> list[str]:
        """One line per (table, referenced table) with rows whose parent row is missing."""
        orphans: dict[tuple[str, str], list[int]] = {}
        try:
            for table, rowid, parent, _ in self._conn.execute("PRAGMA foreign_key_check"):
                orphans.setdefault((table, parent), []).append(rowid)
        except sqlite3.DatabaseError as exc:  # a damaged page on the way
            return [f"cannot check every foreign key: {exc}"]
        return [
            f"{table}: {len(rowids)} row(s) refer to a missing {parent} row (rowid "
            + ", ".join(map(str, rowids[:5]))
            + (", ..." if len(rowids) > 5 else "")
            + ")"
            for (table, parent), rowids in orphans.items()
        ]

    def tables(self) -> set[str]:
        """The names of every table in the store."""
        return {
            name for (name,) in self.tuples("SELECT name FROM sqlite_master WHERE type = 'table'")
        }

    def unique_columns(self, table: str) -> set[str]:
        """The columns of ``table`` a UNIQUE constraint or full unique index covers on its own:
        no two of its rows can hold the same value there."""
        found = set()
        for index in self.query(f"PRAGMA index_list({_identifier(table)})"):
            if index["unique"] and not index["partial"]:
                columns = self.query(f"PRAGMA index_info({_identifier(index['name'])})")
                if len(columns) == 1:
                    found.add(columns[0]["name"])
        return found

    def pragma(self, name: str) -> Any:
        return self.scalar(f"PRAGMA {_identifier(name)}")

    def checkpoint(self) -> tuple[int, int, int]:
        """Fold the WAL back into the database file (PASSIVE: never blocks writers)."""
        row = next(self.tuples("PRAGMA wal_checkpoint(PASSIVE)"))
        return int(row[0]), int(row[1]), int(row[2])


def refuse_foreign_schema(store: Any, kind: str) -> None:
    """Refuse a database with tables but no migration history (``kind`` names what it is:
    "a SQLite database", "a PostgreSQL database"): it is another program's."""
    tables = store.tables()
    if tables and _MIGRATIONS_TABLE not in tables:
        names = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise InvalidInputError(
            f"{store.path} is not an autotrader store: {kind} of something else"
            f" (tables {names}); check --db or AUTOTRADER_DB"
        )


def refuse_unknown_migrations(store: Any) -> None:
    """Refuse to write to a store that holds migrations this version does not know."""
    unknown = store.unknown_migrations()
    if not unknown:
        return
    newer = store.recorded_version() or "a newer version"
    ours = store.version or "this version"
    listed = ", ".join(unknown[:3]) + (f" and {len(unknown) - 3} more" if unknown[3:] else "")
    raise OperationalError(
        f"the store {store.path} was migrated by autotrader {newer}: it has migrations"
        f" autotrader {ours} does not know ({listed}); upgrade autotrader to write to it"
    )


def _release_side_files(path: Path) -> None:
    """Remove the empty ``-wal``/``-shm`` files a read-only connection left behind.

    SQLite deletes them when the last connection closes, but only a connection that may write
    can; a read-only one leaves them. So a short-lived connection that may write (and does not:
    ``query_only``) opens and closes: if it is the last one, SQLite folds any WAL content back
    into the database and removes both files; if another process still has the store open,
    SQLite sees that and leaves them to it. A busy or unwritable store keeps its files.
    """
    try:
        conn = sqlite3.connect(str(path), timeout=0, isolation_level=None)
    except sqlite3.Error:
        return
    with contextlib.suppress(sqlite3.Error), contextlib.closing(conn):
        conn.execute("PRAGMA query_only = ON")
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()  # opens the WAL


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


def _upsert_sql(
    table: str,
    values: Mapping[str, Any],
    *,
    key: Sequence[str],
    update: Sequence[str] | None,
    returning: str | None,
) -> str:
    keys = [_identifier(column) for column in key]
    changed = [c for c in (update if update is not None else values) if c not in keys]
    action = (
        "DO UPDATE SET " + ", ".join(f"{_identifier(c)} = excluded.{c}" for c in changed)
        if changed
        else "DO NOTHING"
    )
    conflict = f"ON CONFLICT ({', '.join(keys)}) {action}"
    return _insert_sql(table, values, returning=returning, conflict=conflict)


def _claim_sql(
    table: str, *, where: str, set_values: Mapping[str, Any], order_by: str, key: str
) -> str:
    """The claim statement; its parameters are ``set_values``, the ``where`` ones, the limit."""
    table, key = _identifier(table), _identifier(key)
    assignments = ", ".join(f"{_identifier(column)} = ?" for column in set_values)
    return (
        f"UPDATE {table} SET {assignments} "
        f"WHERE {key} IN (SELECT {key} FROM {table} WHERE {where} ORDER BY {order_by} LIMIT ?) "
        "RETURNING *"
    )


def _streamed(cursor: sqlite3.Cursor, path: Path) -> Iterator[tuple]:
    try:
        yield from cursor
    except sqlite3.Error as exc:
        raise translate_sqlite_error(exc, path) from exc
    finally:
        cursor.close()
