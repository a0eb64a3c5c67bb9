"""Tables owned by the kernel: key/value metadata, worker heartbeats, tick history.

Migrations are named, ordered functions and are never edited once released: change a table by
adding a new migration below the last one.
"""

from __future__ import annotations

import re

from autotrader.core._sqlite_utils import Database, Migrations

migrations = Migrations("core")


def extend_check_values(db: Database, table: str, column: str, *new_values: str) -> None:
    """Allow more values in ``table``'s ``column IN (...)`` CHECK, keeping every row, index and
    trigger (an append-only ledger's included).

    SQLite cannot alter a CHECK constraint, so the table is rebuilt under the caller's
    transaction: the same columns with the longer list, every row copied, its triggers and
    indexes recreated from their stored SQL. Call it from a new, named migration of the package
    that owns ``table``, with the values added to the package's enum in the same change (a test
    pins each enum to its CHECK).
    """
    for value in new_values:
        # Letters, digits, '_' and the '.' of a family prefix (the alerts' ``race.settled``):
        # nothing that could end the quoted literal it becomes.
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.]*", value):
            raise ValueError(f"not a {column} value: {value!r}")
    if getattr(db, "dialect", None) == "postgres":
        _extend_postgres_check(db, table, column, new_values)
        return
    check = re.compile(rf"\b{re.escape(column)} IN \((?P<values>[^)]*)\)")
    table_sql = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()[0]
    match = check.search(table_sql)
    if match is None:
        raise RuntimeError(f"{table} has no {column} IN (...) CHECK to extend")
    values = [v.strip().strip("'") for v in match["values"].split(",") if v.strip()]
    for value in new_values:
        if value not in values:
            values.append(value)
    listed = ", ".join(f"'{value}'" for value in values)
    rebuilt = table_sql[: match.start()] + f"{column} IN ({listed})" + table_sql[match.end() :]
    dependents = db.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ?"
        " AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name",
        (table,),
    ).fetchall()
    for kind, name, _ in dependents:
        db.execute(f"DROP {kind.upper()} {name}")  # the triggers first: no DELETE may fire
    # After a rebuild SQLite stores the renamed table as CREATE TABLE "name".
    db.execute(re.sub(rf'^CREATE TABLE "?{re.escape(table)}"?', "CREATE TABLE staged", rebuilt))
    db.execute(f"INSERT INTO staged SELECT * FROM {table}")
    db.execute(f"DROP TABLE {table}")
    db.execute(f"ALTER TABLE staged RENAME TO {table}")
    for _, _, sql in dependents:
        db.execute(sql)


def _extend_postgres_check(db: Database, table: str, column: str, new_values: tuple) -> None:
    """PostgreSQL alters a CHECK in place: the constraint naming ``column`` is dropped and
    added again with the longer list (PostgreSQL stores ``column IN (...)`` as
    ``column = ANY (ARRAY['a'::text, ...])``)."""
    rows = db.execute(
        "SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c"
        " JOIN pg_class t ON t.oid = c.conrelid WHERE t.relname = ? AND c.contype = 'c'",
        (table,),
    ).fetchall()
    mentions = re.compile(rf"\b{re.escape(column)}\b")
    found = [(name, sql) for name, sql in rows if mentions.search(sql) and "'" in sql]
    if not found:
        raise RuntimeError(f"{table} has no {column} IN (...) CHECK to extend")
    name, sql = found[0]
    values = re.findall(r"'([^']*)'", sql)
    values += [value for value in new_values if value not in values]
    listed = ", ".join(f"'{value}'" for value in values)
    db.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    db.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({column} IN ({listed}))")


@migrations()
def m001_meta(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT
        """
    )


@migrations()
def m002_worker_heartbeats(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE worker_heartbeats (
            worker_id TEXT PRIMARY KEY,            -- name@host:pid
            name TEXT NOT NULL,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            started_at INTEGER NOT NULL,           -- epoch ms UTC
            last_beat_at INTEGER NOT NULL,
            interval_s REAL NOT NULL,
            last_status TEXT NOT NULL,             -- starting|ok|failed|degraded|stopped
            last_error TEXT,
            ticks INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            consecutive_failures INTEGER NOT NULL DEFAULT 0
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_worker_heartbeats_name ON worker_heartbeats (name, last_beat_at)")


@migrations()
def m003_action_runs(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE action_runs (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            worker_id TEXT NOT NULL,
            started_at INTEGER NOT NULL,
            duration_ms INTEGER NOT NULL,
            status TEXT NOT NULL,                  -- ok|failed
            summary TEXT,
            error TEXT
        ) STRICT
        """
    )
    db.execute("CREATE INDEX idx_action_runs_name ON action_runs (name, started_at)")
