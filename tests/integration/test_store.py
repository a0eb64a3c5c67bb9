"""The store on a real SQLite file: pragmas, migrations, units of work, claims, backups."""

from __future__ import annotations

import multiprocessing
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlite_utils.migrations import Migrations

from autotrader.bootstrap import open_store
from autotrader.core.db import Store
from autotrader.core.errors import OperationalError
from autotrader.schema import MIGRATION_SETS


def test_every_connection_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(store):
    assert store.pragma("journal_mode") == "wal"
    assert store.pragma("foreign_keys") == 1
    assert store.pragma("synchronous") == 1  # NORMAL
    assert store.pragma("busy_timeout") == 10_000


def test_foreign_keys_are_enforced(store):
    store.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    store.execute(
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id))"
    )
    with pytest.raises(OperationalError, match="FOREIGN KEY"):
        store.execute("INSERT INTO child (parent_id) VALUES (99)")


def test_migrations_apply_once_and_reopening_applies_nothing(tmp_path, settings):
    path = tmp_path / "m.db"
    first = open_store(settings, path=path, migrate=False)
    applied = first.migrate()
    assert [s.name for s in applied] == [s.name for s in first.migration_status()]
    assert first.migrate() == []
    first.close()
    again = open_store(settings, path=path)
    assert again.pending_migrations() == []
    rows = again.query("SELECT name FROM _sqlite_migrations")
    assert len(rows) == len({r["name"] for r in rows})  # each recorded exactly once
    again.close()


def test_a_failing_migration_rolls_back_and_stays_pending(tmp_path):
    broken = Migrations("broken")

    @broken()
    def m001_ok(db):
        db.execute("CREATE TABLE fine (id INTEGER)")

    @broken()
    def m002_fails(db):
        db.execute("CREATE TABLE half (id INTEGER)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        Store(tmp_path / "b.db", migrations=[broken])
    store = Store(tmp_path / "b.db", migrations=[broken], migrate=False)
    assert [s.name for s in store.pending_migrations()] == ["m001_ok", "m002_fails"]
    assert not {"half", "fine"} & store.tables()


def test_atomic_commits_everything_or_nothing(store):
    store.execute("CREATE TABLE t (v INTEGER)")
    with store.atomic():
        store.execute("INSERT INTO t VALUES (1)")
        store.execute("INSERT INTO t VALUES (2)")

    def crash_between_two_writes():
        with store.atomic():
            store.execute("INSERT INTO t VALUES (3)")
            raise RuntimeError("crash between two writes")

    with pytest.raises(RuntimeError, match="crash"):
        crash_between_two_writes()
    assert [r["v"] for r in store.query("SELECT v FROM t ORDER BY v")] == [1, 2]


def test_nested_atomic_blocks_are_savepoints(store):
    store.execute("CREATE TABLE t (v INTEGER)")

    def inner_unit_that_fails():
        with store.atomic():
            store.execute("INSERT INTO t VALUES (2)")
            raise ValueError("inner fails")

    with store.atomic():
        store.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(ValueError, match="inner"):
            inner_unit_that_fails()
        store.execute("INSERT INTO t VALUES (3)")
    assert [r["v"] for r in store.query("SELECT v FROM t ORDER BY v")] == [1, 3]


def _make_jobs(path: Path, count: int) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, status TEXT, claimed_by TEXT)")
        conn.executemany("INSERT INTO jobs (status) VALUES ('queued')", [()] * count)


def _claim_all(path: str, worker: str) -> list[int]:
    store = Store(path)
    claimed: list[int] = []
    batch = 1
    while True:
        rows = store.claim(
            "jobs",
            where="status = 'queued'",
            set_values={"status": "running", "claimed_by": worker},
            limit=batch,
        )
        if not rows:
            break
        claimed.extend(row["id"] for row in rows)
        batch = batch % 3 + 1  # vary the batch size: 1, 2, 3, 1, ...
    store.close()
    return claimed


@pytest.mark.slow
@pytest.mark.xdist_group("processes")  # on one worker, one at a time: they start processes
def test_four_processes_claiming_from_one_table_never_claim_a_row_twice(tmp_path):
    path = tmp_path / "jobs.db"
    _make_jobs(path, 600)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.starmap(_claim_all, [(str(path), f"w{i}") for i in range(4)])
    everything = [job for claimed in results for job in claimed]
    assert len(everything) == 600
    assert sorted(everything) == list(range(1, 601))
    with sqlite3.connect(path) as conn:
        by_worker = dict(conn.execute("SELECT claimed_by, COUNT(*) FROM jobs GROUP BY claimed_by"))
    assert sum(by_worker.values()) == 600
    for i, claimed in enumerate(results):
        assert by_worker.get(f"w{i}", 0) == len(claimed)


def test_claim_returns_the_updated_rows_in_order(store):
    store.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, status TEXT, claimed_by TEXT)")
    for _ in range(5):
        store.execute("INSERT INTO jobs (status) VALUES ('queued')")
    rows = store.claim(
        "jobs",
        where="status = ?",
        params=["queued"],
        set_values={"status": "running", "claimed_by": "a"},
        limit=3,
    )
    assert [(r["id"], r["status"], r["claimed_by"]) for r in rows] == [
        (1, "running", "a"),
        (2, "running", "a"),
        (3, "running", "a"),
    ]


def test_claim_refuses_identifiers_that_are_not_plain_names(store):
    with pytest.raises(ValueError, match="identifier"):
        store.claim("jobs; DROP TABLE x", where="1", set_values={"status": "x"})


_WRITER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
conn.execute("PRAGMA journal_mode=WAL")
deadline = time.time() + float(sys.argv[2])
print("ready", flush=True)
i = 0
while time.time() < deadline:
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO ticks (v) VALUES (?)", [(i + k,) for k in range(50)])
    conn.execute("COMMIT")
    i += 50
"""


@pytest.mark.slow
@pytest.mark.xdist_group("processes")  # on one worker, one at a time: they start processes
def test_backup_is_a_readable_consistent_copy_while_a_writer_is_active(store, tmp_path):
    store.execute("CREATE TABLE ticks (v INTEGER)")
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(store.path), "3"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(0.3)
        copy = store.backup(tmp_path / "backup" / "copy.db")
    finally:
        writer.wait(timeout=30)
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT COUNT(*) FROM ticks").fetchone()[0]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        applied = conn.execute("SELECT COUNT(*) FROM _sqlite_migrations").fetchone()[0]
    assert rows > 0
    assert rows % 50 == 0
    assert applied == len(store.migration_status())
    assert not Path(f"{copy}-wal").exists()


def _open_and_count(path: str) -> int:
    store = Store(path, migrations=MIGRATION_SETS)
    count = len(store.query("SELECT name FROM _sqlite_migrations"))
    store.close()
    return count


@pytest.mark.slow
@pytest.mark.xdist_group("processes")  # on one worker, one at a time: they start processes
def test_processes_opening_a_new_file_at_once_migrate_it_exactly_once(tmp_path):
    path = str(tmp_path / "race.db")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        counts = pool.map(_open_and_count, [path] * 4)
    expected = sum(len(m._migrations) for m in MIGRATION_SETS)
    assert counts == [expected] * 4


def test_unique_columns_are_those_a_unique_constraint_covers_alone(store):
    assert store.unique_columns("prop_fills") == {"order_id", "idempotency_key"}
    assert store.unique_columns("positions") == set()  # its unique index is partial
    assert store.unique_columns("candles") == set()  # its primary key spans four columns
