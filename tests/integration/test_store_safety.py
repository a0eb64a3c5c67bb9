"""The store's own guards on a real SQLite file: outputs never land on it or its side files
(even while another process holds it open), read-only connections leave no trace, damage and
newer migrations are seen, and the product version is recorded."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlite_utils.migrations import Migrations

from autotrader import __version__
from autotrader.bootstrap import open_store
from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError, OperationalError
from autotrader.core.outputs import output_file
from autotrader.schema import MIGRATION_SETS

# Holds the store open with a committed row still in its -wal (SQLite folds the WAL back only
# when the last connection closes), until told to stop on stdin.
_HOLDER = textwrap.dedent(
    """
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("INSERT INTO meta (key, value, updated_at) VALUES ('fill', 'committed', 0)")
    print("ready", flush=True)
    sys.stdin.readline()
    """
)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def path(tmp_path, settings) -> Path:
    target = tmp_path / "stores" / "store.db"
    open_store(settings, path=target).close()
    return target


@pytest.mark.slow
@pytest.mark.xdist_group("processes")  # starts a process of its own
def test_backup_onto_the_wal_of_a_store_another_process_holds_open_is_refused(cli, path):
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        wal = Path(f"{path}-wal")
        live = wal.read_bytes()

        result = cli("db", "backup", str(wal), "--force", "--db", str(path))

        assert result.exit_code == 1
        assert "-wal file of the store" in result.stderr
        assert wal.read_bytes() == live
    finally:
        holder.communicate("stop\n", timeout=30)
    with Store(path, readonly=True) as after:
        assert after.scalar("SELECT value FROM meta WHERE key = 'fill'") == "committed"


def _export_failing_midway(target: Path) -> None:
    with output_file(target, stores=[], force=True) as temp:
        temp.write_text("half of the new")
        raise RuntimeError("the export failed midway")


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "reports" / "report.csv"
    target.parent.mkdir()
    target.write_text("the old report")

    with pytest.raises(RuntimeError, match="midway"):
        _export_failing_midway(target)

    assert target.read_text() == "the old report"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.csv"]


def test_an_output_through_a_symlink_replaces_the_file_it_points_to(tmp_path):
    real = tmp_path / "reports" / "latest.csv"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "latest.csv"
    link.symlink_to(real)

    with output_file(link, stores=[], force=True) as temp:
        temp.write_text("new")

    assert link.is_symlink()
    assert real.read_text() == "new"


def test_a_new_output_gets_the_permissions_open_would_give(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        with output_file(tmp_path / "out.csv", stores=[], force=False) as temp:
            temp.write_text("x")
    finally:
        os.umask(umask)
    assert (tmp_path / "out.csv").stat().st_mode & 0o777 == 0o644


def test_a_read_only_store_creates_no_side_files_and_never_writes(path):
    before = digest(path)

    with Store(path, migrations=MIGRATION_SETS, readonly=True) as store:
        assert store.scalar("SELECT COUNT(*) FROM _sqlite_migrations") > 0
        with pytest.raises(OperationalError, match="readonly"):
            store.execute("DELETE FROM meta")

    assert digest(path) == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["store.db"]


def test_writers_check_every_page_as_they_read_it(path, settings):
    with open_store(settings, path=path) as store:
        assert store.pragma("cell_size_check") == 1


def test_migrating_records_the_product_version(path, settings):
    with open_store(settings, path=path, readonly=True) as store:
        assert store.recorded_version() == __version__


def test_a_store_with_unknown_migrations_opens_read_only_but_not_for_writing(path, settings):
    future = Migrations("future")

    @future()
    def m001_next_feature(db):
        db.execute("CREATE TABLE next_feature (id INTEGER PRIMARY KEY)")

    Store(path, migrations=(*MIGRATION_SETS, future), version="9.0.0").close()

    with open_store(settings, path=path, readonly=True) as store:
        assert store.unknown_migrations() == ["future.m001_next_feature"]
        assert store.recorded_version() == "9.0.0"
    with pytest.raises(OperationalError, match=r"autotrader 9\.0\.0.*future\.m001_next_feature"):
        open_store(settings, path=path)


def test_a_foreign_database_is_refused_before_anything_is_written(tmp_path):
    import sqlite3
    from contextlib import closing

    path = tmp_path / "other.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
    before = digest(path)

    with pytest.raises(InvalidInputError, match="tables photos"):
        Store(path, migrations=MIGRATION_SETS)

    assert digest(path) == before  # not even switched to WAL mode


def test_quick_check_finds_a_damaged_page_and_require_intact_names_the_store(path, settings):
    with open_store(settings, path=path) as store:
        root = store.scalar("SELECT rootpage FROM sqlite_master WHERE name = 'candles'")
        page_size = store.pragma("page_size")
    with path.open("r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\xff" * page_size)

    with open_store(settings, path=path, migrate=False) as store:
        assert store.integrity_problems() != []
        with pytest.raises(OperationalError, match=f"the store {path} is damaged"):
            store.require_intact()
