"""The PostgreSQL store: the same interface as :class:`autotrader.core.db.Store`, over psycopg 3.

Selected by a ``postgresql://`` URL (``AUTOTRADER_DB`` or ``--db``), for workers on several hosts
sharing one database. Every package keeps writing SQLite's dialect: each distinct statement is
translated once (:mod:`autotrader.core.pg_dialect`). What stays the same on both backends:

- money is canonical decimal TEXT and times are epoch-ms BIGINT, so values round-trip exactly
  and the same code reads them on both (no NUMERIC: it would hand back Decimals where SQLite
  hands back the text the code parses);
- parameters are bound as SQLite binds them, loosely typed: numbers go to the server as untyped
  literals and take the type of the column they meet, as in SQLite;
- a unit of work (``atomic()``) holds the store's write lock, as ``BEGIN IMMEDIATE`` does in
  SQLite: a transaction-scoped advisory lock, so a trading step's read-check-write cannot
  interleave with another worker's. Read snapshots (``read()``) are REPEATABLE READ and take
  no lock;
- claims pick their rows ``FOR UPDATE SKIP LOCKED``, so claimers never wait on each other's
  rows;
- migrations run in one transaction under an advisory lock: hosts racing on a new database
  migrate it once. DDL is transactional here, so a failing migration leaves nothing behind;
- errors read as SQLite's do (``UNIQUE constraint failed``, the append-only message), and a
  serialization failure, deadlock or lost connection is a TemporaryError (retry).

The URL's password never appears in what this module says: :attr:`path` is the masked URL.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg import errors as pg_errors
from psycopg.adapt import Dumper, Loader
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row

from autotrader.core._sqlite_utils import Migrations
from autotrader.core.db import (
    VERSION_KEY,
    MigrationState,
    _claim_sql,
    _insert_sql,
    _upsert_sql,
    refuse_foreign_schema,
    refuse_unknown_migrations,
)
from autotrader.core.errors import OperationalError, TemporaryError
from autotrader.core.outputs import output_file
from autotrader.core.pg_dialect import translate, translate_claim
from autotrader.core.store_url import masked, redact

_MIGRATIONS_TABLE = Migrations.migrations_table  # the same history table on both backends
# pg_advisory_xact_lock keys: one for the store's writers, one for migrating it.
_WRITE_LOCK = 0x6175746F  # "auto"
_MIGRATE_LOCK = 0x6D696772  # "migr"
_RETRY_STATES = (
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
    pg_errors.LockNotAvailable,
    pg_errors.AdminShutdown,
)


class _UntypedNumberDumper(Dumper):
    """Send a number as an untyped literal: the server gives it the type of the column or
    operator it meets, as SQLite does (a typed bigint could not meet a TEXT column)."""

    oid = 0

    def dump(self, obj: Any) -> bytes:
        return str(int(obj) if isinstance(obj, bool) else obj).encode()


class _NumericLoader(Loader):
    """NUMERIC only arises from SUM/AVG over integers (no column is NUMERIC): hand back an int
    or a float, as SQLite does, not a Decimal."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        return float(text) if any(c in text for c in ".eEN") else int(text)


def _configure(conn: psycopg.Connection) -> None:
    for python_type in (int, float, bool, Decimal):
        conn.adapters.register_dumper(python_type, _UntypedNumberDumper)
    conn.adapters.register_loader("numeric", _NumericLoader)


def translate_pg_error(exc: psycopg.Error, url: str) -> Exception:
    """A psycopg error as our tree, worded as SQLite words it and without the password."""
    if isinstance(exc, (*_RETRY_STATES, psycopg.OperationalError)):
        return TemporaryError(f"the database is busy ({redact(str(exc), url)}); try again")
    diag = exc.diag
    if isinstance(exc, pg_errors.UniqueViolation):
        message = f"UNIQUE constraint failed: {diag.table_name} ({diag.constraint_name})"
    elif isinstance(exc, pg_errors.CheckViolation):
        message = f"CHECK constraint failed: {diag.table_name} ({diag.constraint_name})"
    elif isinstance(exc, pg_errors.NotNullViolation):
        message = f"NOT NULL constraint failed: {diag.table_name}.{diag.column_name}"
    elif isinstance(exc, pg_errors.ForeignKeyViolation):
        message = f"FOREIGN KEY constraint failed: {diag.table_name} ({diag.constraint_name})"
    else:
        message = diag.message_primary or str(exc)
    return OperationalError(f"database error: {redact(message, url)}")


class PostgresStore:
    """A connection to an autotrader PostgreSQL database; see the module docstring."""

    dialect = "postgres"

    def __init__(
        self,
        url: str,
        *,
        migrations: Sequence[Migrations] = (),
        migrate: bool = True,
        readonly: bool = False,
        version: str | None = None,
        busy_timeout_ms: int | None = None,
    ) -> None:
        self.url = url
        self.path = masked(url)  # how messages name the store
        self.migration_sets = tuple(migrations)
        self.readonly = readonly
        self.version = version
        self._busy_timeout_ms = busy_timeout_ms
        self._identities: dict[str, str | None] = {}
        self._savepoints = 0  # names nested savepoints uniquely on this connection
        try:
            self._conn = psycopg.connect(
                url, autocommit=True, cursor_factory=psycopg.RawCursor, connect_timeout=10
            )
        except psycopg.Error as exc:
            raise OperationalError(
                f"cannot open the store {self.path}: {redact(' '.join(str(exc).split()), url)}"
            ) from None
        _configure(self._conn)
        try:
            if busy_timeout_ms is not None:
                # A writer waits this long for the write lock, as SQLite's busy timeout.
                self.execute_native(f"SET lock_timeout = {int(busy_timeout_ms)}")
            if readonly:
                self.execute_native("SET default_transaction_read_only = on")
            if self.migration_sets:
                self._refuse_foreign_schema()
                if not readonly:
                    self._refuse_unknown_migrations()
        except BaseException:
            self.close()
            raise
        if migrate and not readonly:
            self.migrate()

    def _refuse_foreign_schema(self) -> None:
        refuse_foreign_schema(self, "a PostgreSQL database")

    def _refuse_unknown_migrations(self) -> None:
        refuse_unknown_migrations(self)

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        self._conn.close()

    def sibling(self) -> PostgresStore:
        """Another connection to the same database with the same settings. Never migrates."""
        return PostgresStore(
            self.url,
            migrations=self.migration_sets,
            migrate=False,
            readonly=self.readonly,
            version=self.version,
            busy_timeout_ms=self._busy_timeout_ms,
        )

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- units of work ---------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._conn.info.transaction_status != TransactionStatus.IDLE

    @contextlib.contextmanager
    def atomic(self) -> Iterator[PostgresStore]:
        """Commit everything in the block as one, or roll all of it back on any exception.

        The outermost block takes the store's write lock first (SQLite's ``BEGIN IMMEDIATE``);
        nested blocks are savepoints.
        """
        if self.in_transaction:
            with self._savepoint():
                yield self
            return
        self._begin("BEGIN", lock=_WRITE_LOCK)
        try:
            yield self
        except BaseException:
            self._end("ROLLBACK")
            raise
        self._end("COMMIT")

    @contextlib.contextmanager
    def read(self) -> Iterator[PostgresStore]:
        """One consistent snapshot for every read in the block (REPEATABLE READ, read only)."""
        if self.in_transaction:
            yield self
            return
        self._begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            yield self
        finally:
            self._end("COMMIT")

    @contextlib.contextmanager
    def _savepoint(self) -> Iterator[None]:
        self._savepoints += 1
        name = f"autotrader_{self._savepoints}"
        self.execute_native(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.execute_native(f"ROLLBACK TO SAVEPOINT {name}")
            self.execute_native(f"RELEASE SAVEPOINT {name}")
            raise
        self.execute_native(f"RELEASE SAVEPOINT {name}")

    def _begin(self, statement: str, *, lock: int | None = None) -> None:
        try:
            self._conn.execute(statement)
            if lock is not None:
                self._conn.execute(f"SELECT pg_advisory_xact_lock({lock})")
        except psycopg.Error as exc:
            if self.in_transaction:
                self._conn.execute("ROLLBACK")
            raise translate_pg_error(exc, self.url) from exc

    def _end(self, statement: str) -> None:
        if not self.in_transaction or self._conn.closed:
            return
        try:
            self._conn.execute(statement)
        except psycopg.Error as exc:
            if self.in_transaction:
                self._conn.execute("ROLLBACK")
            raise translate_pg_error(exc, self.url) from exc

    # -- queries ---------------------------------------------------------------------------

    def execute_native(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement already in PostgreSQL's dialect (``$n`` parameters)."""
        try:
            return self._conn.execute(sql, list(params)).rowcount
        except psycopg.Error as exc:
            raise translate_pg_error(exc, self.url) from exc

    def _run(self, sql: str, params: Sequence[Any] | Mapping[str, Any], *, rows: str = "") -> Any:
        """Translate ``sql`` (SQLite's dialect) and run it; the cursor, positioned after it."""
        statements = translate(sql)
        try:
            cursor = (
                self._conn.cursor(row_factory=dict_row) if rows == "dict" else self._conn.cursor()
            )
            for statement in statements:
                cursor.execute(statement.sql, statement.bind(params))
            return cursor
        except psycopg.Error as exc:
            raise translate_pg_error(exc, self.url) from exc

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> int:
        return self._run(sql, params).rowcount

    def executemany(self, sql: str, rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> int:
        (statement,) = translate(sql)
        try:
            cursor = self._conn.cursor()
            cursor.executemany(statement.sql, [statement.bind(row) for row in rows])
        except psycopg.Error as exc:
            raise translate_pg_error(exc, self.url) from exc
        return cursor.rowcount

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict]:
        return self._fetch(self._run(sql, params, rows="dict"), all_rows=True)

    def query_one(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> dict | None:
        return self._fetch(self._run(sql, params, rows="dict"), all_rows=False)

    def scalar(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] = (), *, default: Any = None
    ) -> Any:
        row = self._fetch(self._run(sql, params), all_rows=False)
        return default if row is None else row[0]

    def tuples(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Iterator[tuple]:
        cursor = self._run(sql, params)
        return self._streamed(cursor)

    def _fetch(self, cursor: psycopg.Cursor, *, all_rows: bool) -> Any:
        try:
            if cursor.description is None:
                return [] if all_rows else None
            return cursor.fetchall() if all_rows else cursor.fetchone()
        except psycopg.Error as exc:
            raise translate_pg_error(exc, self.url) from exc

    def _streamed(self, cursor: psycopg.Cursor) -> Iterator[tuple]:
        try:
            if cursor.description is not None:
                yield from cursor
        except psycopg.Error as exc:
            raise translate_pg_error(exc, self.url) from exc
        finally:
            cursor.close()

    # -- dialect helpers -------------------------------------------------------------------

    def insert(self, table: str, values: Mapping[str, Any], *, returning: str = "id") -> Any:
        values = self._identity_values(table, values)
        row = self.query_one(_insert_sql(table, values, returning=returning), list(values.values()))
        assert row is not None
        self._follow_explicit_ids(table, values)
        return row[returning]

    def insert_or_ignore(
        self, table: str, values: Mapping[str, Any], *, returning: str = "id"
    ) -> Any | None:
        values = self._identity_values(table, values)
        sql = _insert_sql(table, values, returning=returning, conflict="ON CONFLICT DO NOTHING")
        row = self.query_one(sql, list(values.values()))
        self._follow_explicit_ids(table, values)
        return None if row is None else row[returning]

    def _identity_column(self, table: str) -> str | None:
        """The table's identity column (SQLite's ``INTEGER PRIMARY KEY``), if it has one."""
        if table not in self._identities:
            self._identities[table] = self.scalar(
                "SELECT column_name FROM information_schema.columns WHERE table_schema ="
                " current_schema() AND table_name = ? AND is_identity = 'YES'",
                [table],
            )
        return self._identities[table]

    def _identity_values(self, table: str, values: Mapping[str, Any]) -> Mapping[str, Any]:
        """SQLite gives a row inserted with a NULL rowid the next id; PostgreSQL would refuse
        the NULL, so the column is left out and the identity supplies it."""
        column = self._identity_column(table)
        if column is not None and column in values and values[column] is None:
            return {key: value for key, value in values.items() if key != column}
        return values

    def _follow_explicit_ids(self, table: str, values: Mapping[str, Any]) -> None:
        """A row inserted with its own id moves the identity past it, as SQLite's rowid does,
        so the next row without one does not collide."""
        column = self._identity_column(table)
        if column is not None and values.get(column) is not None:
            self.execute_native(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
                f" GREATEST((SELECT MAX({column}) FROM {table}), 1))"
            )

    def upsert(
        self,
        table: str,
        values: Mapping[str, Any],
        *,
        key: Sequence[str],
        update: Sequence[str] | None = None,
        returning: str | None = None,
    ) -> Any:
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
        """Atomically claim up to ``limit`` rows (see ``Store.claim``): the rows are picked
        ``FOR UPDATE SKIP LOCKED``, so concurrent claimers take different rows."""
        if limit < 1:
            return []
        statement = translate_claim(
            _claim_sql(table, where=where, set_values=set_values, order_by=order_by, key=key)
        )
        with self.atomic():
            try:
                cursor = self._conn.cursor(row_factory=dict_row)
                cursor.execute(
                    statement.sql, statement.bind([*set_values.values(), *params, limit])
                )
                rows = cursor.fetchall()
            except psycopg.Error as exc:
                raise translate_pg_error(exc, self.url) from exc
        return sorted(rows, key=lambda row: row[key])

    # -- migrations ------------------------------------------------------------------------

    def _applied(self) -> dict[tuple[str, str], str]:
        if _MIGRATIONS_TABLE not in self.tables():
            return {}
        rows = self.tuples(f"SELECT migration_set, name, applied_at FROM {_MIGRATIONS_TABLE}")
        return {(group, name): applied_at for group, name, applied_at in rows}

    def migration_status(self) -> list[MigrationState]:
        applied = self._applied()
        return [
            MigrationState(s.name, m.name, applied.get((s.name, m.name)))
            for s in self.migration_sets
            for m in s._migrations
        ]

    def pending_migrations(self) -> list[MigrationState]:
        return [state for state in self.migration_status() if not state.applied]

    def unknown_migrations(self) -> list[str]:
        if _MIGRATIONS_TABLE not in self.tables():
            return []
        known = {(s.name, m.name) for s in self.migration_sets for m in s._migrations}
        rows = self.tuples(f"SELECT migration_set, name FROM {_MIGRATIONS_TABLE} ORDER BY id")
        return [f"{group}.{name}" for group, name in rows if (group, name) not in known]

    def recorded_version(self) -> str | None:
        if "meta" not in self.tables():
            return None
        return self.scalar("SELECT value FROM meta WHERE key = ?", (VERSION_KEY,))

    def migrate(self) -> list[MigrationState]:
        """Apply pending migrations in one transaction under the migration lock: a second host
        starting on the same new database waits, then finds nothing left to do."""
        if not self.migration_sets:
            return []
        self._refuse_unknown_migrations()
        if not self.pending_migrations():
            return []
        applied: list[MigrationState] = []
        try:
            with self.atomic():
                self.execute_native(f"SELECT pg_advisory_xact_lock({_MIGRATE_LOCK})")
                self.execute_native(
                    f"CREATE TABLE IF NOT EXISTS {_MIGRATIONS_TABLE} (id BIGINT GENERATED BY"
                    " DEFAULT AS IDENTITY PRIMARY KEY, migration_set TEXT, name TEXT,"
                    " applied_at TEXT, UNIQUE (migration_set, name))"
                )
                done = self._applied()  # after the lock: what another host may have applied
                database = _MigrationDatabase(self)
                for migration_set in self.migration_sets:
                    for migration in migration_set._migrations:
                        if (migration_set.name, migration.name) in done:
                            continue
                        migration.fn(database)
                        now = str(datetime.datetime.now(datetime.UTC))
                        self.insert(
                            _MIGRATIONS_TABLE,
                            {
                                "migration_set": migration_set.name,
                                "name": migration.name,
                                "applied_at": now,
                            },
                        )
                        applied.append(MigrationState(migration_set.name, migration.name, now))
                if applied:
                    self.resync_identities()
                if applied and self.version and "meta" in self.tables():
                    self.upsert(
                        "meta",
                        {
                            "key": VERSION_KEY,
                            "value": self.version,
                            "updated_at": int(time.time() * 1000),
                        },
                        key=("key",),
                    )
        except (psycopg.Error, OperationalError) as exc:
            raise OperationalError(f"migrating {self.path} failed: {exc}") from exc
        return applied

    def resync_identities(self) -> None:
        """Point every identity column's sequence past its largest id: rows copied in with their
        ids (a table rebuilt by a migration, ``db copy``) must not collide with the next one."""
        columns = self.tuples(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND is_identity = 'YES'"
        )
        for table, column in list(columns):
            self.execute_native(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
                f" COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
            )

    # -- maintenance -----------------------------------------------------------------------

    def integrity_problems(self, *, full: bool = False, limit: int = 100) -> list[str]:
        """PostgreSQL checks pages as it reads them and keeps no whole-file check to run here
        (``amcheck`` is an extension an operator installs): nothing to report."""
        return []

    def require_intact(self) -> None:
        """Nothing to check up front on PostgreSQL (see :meth:`integrity_problems`)."""

    def foreign_key_problems(self) -> list[str]:
        """PostgreSQL enforces every foreign key on every write: there are no orphans to find."""
        return []

    def tables(self) -> set[str]:
        return {
            name
            for (name,) in self._conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        }

    def unique_columns(self, table: str) -> set[str]:
        """The columns of ``table`` a UNIQUE constraint or full unique index covers on its own."""
        return {
            name
            for (name,) in self._conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid"
                " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]"
                " WHERE t.relname = $1 AND i.indisunique AND i.indpred IS NULL"
                " AND i.indnatts = 1",
                (table,),
            )
        }

    def pragma(self, name: str) -> Any:
        """What ``db status`` asks SQLite's pragmas for, answered for PostgreSQL: writes go
        through its write-ahead log, and foreign keys are always enforced."""
        answers = {"journal_mode": "postgresql", "foreign_keys": 1}
        if name not in answers:
            raise ValueError(f"PostgreSQL has no pragma {name!r}")
        return answers[name]

    def backup(self, destination: str | Path, *, force: bool = False) -> Path:
        """Dump the database with ``pg_dump`` (custom format, ``pg_restore`` reads it) into
        ``destination``, whole or not at all. The password goes to pg_dump in its environment,
        never on its command line (which any user of the host can list)."""
        target = Path(destination)
        dump = shutil.which("pg_dump")
        if dump is None:
            raise OperationalError(
                "backing up a PostgreSQL store needs pg_dump (apt-get install postgresql-client);"
                " or copy it to SQLite with: autotrader db copy --to backup.db"
            )
        parts = urlsplit(self.url)
        # pg_dump runs with this process's environment (PATH, locale) plus the password.
        env = {**os.environ, "PGPASSWORD": parts.password or ""}  # noqa: TID251
        without_password = masked(self.url).replace(":***@", "@")
        with output_file(target, stores=[], force=force) as temp:
            done = subprocess.run(
                [dump, "--format=custom", f"--file={temp}", f"--dbname={without_password}"],
                env=env,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                problem = " ".join(redact(done.stderr, self.url).split())
                raise OperationalError(f"backup to {target} failed: {problem}")
        return target

    def checkpoint(self) -> tuple[int, int, int]:
        """SQLite folds its WAL back here; PostgreSQL checkpoints on its own: nothing done."""
        return 0, 0, 0


class _MigrationDatabase:
    """What a migration function is handed on PostgreSQL: the ``execute`` it calls on the
    sqlite-utils ``Database`` (SQLite DDL, translated), returning a cursor it may fetch from."""

    dialect = "postgres"

    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        return self._store._run(sql, params)


__all__ = ["PostgresStore", "translate_pg_error"]
