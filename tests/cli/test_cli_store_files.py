"""The store knows what it is opening: a foreign file, a damaged store or a store migrated by a
newer autotrader is refused in one line and never written; read-only commands leave the store's
bytes as they were and create no ``-wal``/``-shm`` file."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from autotrader import __version__

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pipelines" / "btc-eth-rules.json"
REPLAY_NOW = "2026-02-19T19:20:00Z"  # the demo's replay ends here


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def side_files(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.glob(f"{path.name}-*"))


def one_line(result) -> bool:
    return result.stderr.startswith("error: ") and result.stderr.strip().count("\n") == 0


@pytest.fixture
def db(cli, tmp_path) -> Path:
    path = tmp_path / "store.db"
    assert cli("init", "--db", str(path)).exit_code == 0
    assert cli("clones", "create", "--name", "first", "--id", "1", "--db", str(path)).exit_code == 0
    return path


def spoil_page(path: Path, table: str) -> None:
    """Overwrite the b-tree root page of ``table`` with garbage (it is never page 1: the
    database header and the schema stay readable)."""
    with closing(sqlite3.connect(path)) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()
    assert root > 1
    with path.open("r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\xde\xad\xbe\xef" * (page_size // 4))


# -- foreign files ---------------------------------------------------------------------------------

FOREIGN = {
    "text": b"hello, this is a shopping list\nmilk\n",
    "one byte": b"x",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64),
    "a truncated SQLite header": b"SQLite format 3\x00\x10\x00",
}


@pytest.mark.parametrize("kind", FOREIGN)
@pytest.mark.parametrize(
    "command", [["init"], ["db", "migrate"], ["clones", "list"], ["ledger", "verify"]]
)
def test_a_foreign_file_is_refused_in_one_line_and_never_overwritten(cli, tmp_path, kind, command):
    path = tmp_path / "not-a-store"
    path.write_bytes(FOREIGN[kind])

    result = cli(*command, "--db", str(path))

    assert result.exit_code == 1
    assert one_line(result), result.stderr
    assert "not an autotrader store" in result.stderr
    assert str(path) in result.stderr
    assert "a bug" not in result.stderr
    assert path.read_bytes() == FOREIGN[kind]
    assert side_files(path) == []


def test_a_sqlite_database_of_another_program_is_refused_and_left_alone(cli, tmp_path):
    path = tmp_path / "notes.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('keep me')")
        conn.commit()
    before = digest(path)

    result = cli("init", "--db", str(path))

    assert result.exit_code == 1
    assert one_line(result), result.stderr
    assert "not an autotrader store" in result.stderr
    assert "notes" in result.stderr
    assert digest(path) == before


def test_a_zero_length_file_is_a_new_store(cli, tmp_path):
    path = tmp_path / "empty.db"
    path.touch()

    result = cli("init", "--db", str(path))

    assert result.exit_code == 0, result.stderr
    assert "initialised" in result.stdout


# -- a damaged store -------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["init"], ["db", "migrate"]])
def test_init_and_migrate_refuse_a_damaged_store_and_change_nothing(cli, db, command):
    spoil_page(db, "candles")
    before = digest(db)

    result = cli(*command, "--db", str(db))

    assert result.exit_code == 1
    assert one_line(result), result.stderr
    assert str(db) in result.stderr
    assert "damaged" in result.stderr
    assert "autotrader db check" in result.stderr
    assert digest(db) == before


def test_a_write_that_meets_a_damaged_page_is_refused_naming_the_store(cli, db):
    spoil_page(db, "clones")
    before = digest(db)

    result = cli("clones", "create", "--name", "second", "--id", "2", "--db", str(db))

    assert result.exit_code == 1
    assert one_line(result), result.stderr
    assert str(db) in result.stderr
    assert "damaged" in result.stderr
    assert digest(db) == before


def test_a_worker_loop_does_not_start_on_a_damaged_store(cli, db):
    spoil_page(db, "candles")
    before = digest(db)

    result = cli("workers", "run", "housekeeping", "--max-ticks", "1", "--db", str(db))

    assert result.exit_code == 1
    assert one_line(result), result.stderr
    assert "damaged" in result.stderr
    assert digest(db) == before


def test_db_status_reports_a_damaged_store_and_exits_1(cli, db):
    spoil_page(db, "candles")
    before = digest(db)

    result = cli("db", "status", "--db", str(db))

    assert result.exit_code == 1
    assert "damaged" in result.stderr
    assert "autotrader db check" in result.stderr
    assert digest(db) == before


def test_db_check_lists_every_problem_one_line_each_and_exits_1(cli, db):
    spoil_page(db, "candles")
    spoil_page(db, "clones")
    before = digest(db)

    result = cli("db", "check", "--db", str(db))

    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) >= 2
    assert all(line.startswith("error: ") for line in lines)
    assert digest(db) == before
    assert side_files(db) == []


def test_db_check_passes_a_healthy_store_in_one_line(cli, db):
    result = cli("db", "check", "--db", str(db))

    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().count("\n") == 0
    assert "ok" in result.stdout


def test_db_check_reports_rows_whose_parent_is_missing(cli, db):
    with closing(sqlite3.connect(db)) as conn:  # a foreign-key-blind writer
        conn.execute(
            "INSERT INTO clone_entitlements (clone_id, max_model_strength, max_active_assets,"
            " reason, updated_at) VALUES (999, 1, 1, 'orphan', 0)"
        )
        conn.commit()

    result = cli("db", "check", "--db", str(db))

    assert result.exit_code == 1
    assert "clone_entitlements" in result.stderr
    assert "clones" in result.stderr


# -- a store from a newer autotrader ---------------------------------------------------------------


def migrate_as_newer(path: Path) -> None:
    """What a future release leaves behind: a migration this version does not know, and its
    version in ``meta``."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
            " VALUES ('market', 'm099_from_the_future', '2030-01-01 00:00:00+00:00')"
        )
        conn.execute(
            "INSERT INTO meta (key, value, updated_at) VALUES ('product_version', '9.0.0', 0)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )
        conn.commit()


@pytest.mark.parametrize(
    "command",
    [["init"], ["db", "migrate"], ["clones", "create", "--name", "second", "--id", "2"]],
)
def test_a_store_migrated_by_a_newer_version_is_not_written(cli, db, command):
    migrate_as_newer(db)
    before = digest(db)

    result = cli(*command, "--db", str(db))

    assert result.exit_code == 1
    assert one_line(result), result.stderr
    assert "9.0.0" in result.stderr
    assert __version__ in result.stderr
    assert "m099_from_the_future" in result.stderr
    assert digest(db) == before


def test_migrating_records_the_product_version(cli, db):
    with closing(sqlite3.connect(db)) as conn:
        (value,) = conn.execute("SELECT value FROM meta WHERE key = 'product_version'").fetchone()
    assert value == __version__


# -- read-only commands ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["ingest", "assets", "list"],
        ["ingest", "assets", "show", "BTC"],
        ["clones", "pipeline", "validate", str(EXAMPLE)],
        ["ledger", "verify"],
        ["db", "status"],
        ["db", "check"],
    ],
)
def test_a_read_only_command_on_a_fresh_store_writes_nothing(cli, db, command):
    """The asset registry is seeded on the first write, never by a read."""
    before = digest(db)

    result = cli(*command, "--db", str(db))

    assert result.exit_code == 0, result.stderr
    assert digest(db) == before
    assert side_files(db) == []


@pytest.mark.parametrize(
    "command",
    [
        ["ledger", "show"],
        ["clones", "list"],
        ["workers", "status"],
        ["db", "status"],
        ["desk", "status"],
        ["desk", "agents", "list"],
        ["desk", "proposals", "list"],
        ["desk", "memory", "list"],
        ["lifecycle", "status", "--clone-id", "42"],
        ["lifecycle", "fees", "list"],
        ["lifecycle", "economy", "verify"],
        ["lifecycle", "arena", "list"],
        ["alerts", "log"],
    ],
    ids=" ".join,
)
def test_a_read_only_command_on_a_missing_store_says_how_to_create_it(cli, tmp_path, command):
    path = tmp_path / "missing.db"

    result = cli(*command, "--db", str(path))

    assert result.exit_code == 1
    assert one_line(result), result.stderr
    assert f"no store at {path}" in result.stderr
    assert "autotrader init" in result.stderr
    assert not path.exists()
    assert side_files(path) == []


def test_a_read_only_command_on_a_store_with_pending_migrations_says_to_migrate(cli, db):
    with closing(sqlite3.connect(db)) as conn:  # as if the store predates the newest migration
        conn.execute(
            "DELETE FROM _sqlite_migrations WHERE id = (SELECT MAX(id) FROM _sqlite_migrations)"
        )
        conn.commit()
    before = digest(db)

    result = cli("clones", "list", "--db", str(db))

    assert result.exit_code == 1
    assert one_line(result), result.stderr
    assert "autotrader db migrate" in result.stderr
    assert digest(db) == before


def test_a_read_only_command_leaves_a_live_writers_wal_alone(cli, db):
    """Another process holds the store open with a committed row still in its -wal: a read-only
    command sees the row and, closing, removes neither file."""
    with closing(sqlite3.connect(db, isolation_level=None)) as writer:
        writer.execute("PRAGMA journal_mode = WAL")
        writer.execute(
            "INSERT INTO clones (id, name, model, created_at, updated_at)"
            " VALUES (7, 'seven', 'gpt-5-mini', 0, 0)"
        )
        wal = Path(f"{db}-wal").read_bytes()

        result = cli("clones", "list", "--db", str(db), "--json")

        assert result.exit_code == 0, result.stderr
        assert '"seven"' in result.stdout
        assert Path(f"{db}-wal").read_bytes() == wal
        assert side_files(db) == ["store.db-shm", "store.db-wal"]


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Path:
    """The demo's store: clone 42 with a pipeline, decisions, fills, snapshots, heartbeats."""
    from typer.testing import CliRunner

    from autotrader.cli.app import app

    folder = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AUTOTRADER_DATA_DIR", str(folder / "data"))
        env.chdir(folder)
        result = CliRunner().invoke(app, ["demo", "--db", str(folder / "demo.db"), "--quiet"])
    assert result.exit_code == 0, result.output
    return folder / "demo.db"


READ_ONLY_COMMANDS = [
    ["ledger", "show"],
    ["ledger", "trades"],
    ["ledger", "trace", "fill:1"],
    ["ledger", "verify"],
    ["ledger", "export", "--format", "csv"],
    ["ledger", "leaderboard"],
    ["ledger", "plot", "--account", "1", "--out", "chart.png"],
    ["ledger", "plot", "--by", "variant", "--out", "variants.png"],
    ["ledger", "nav", "--by", "model", "--every", "1h"],
    ["ledger", "nav", "--format", "csv", "--out", "nav.csv"],
    ["ledger", "leaderboard", "--by", "variant"],
    ["arena-models", "status", "--name", "variants"],
    ["clones", "models", "stats"],
    ["decisions", "list"],
    ["decisions", "show", "1"],
    ["clones", "list"],
    ["clones", "show", "42"],
    ["clones", "context", "--clone-id", "42", "--asset", "BTC"],
    ["clones", "pipeline", "show", "--clone-id", "42"],
    ["clones", "pipeline", "history", "--clone-id", "42"],
    ["clones", "pipeline", "compile", "--clone-id", "42"],
    ["clones", "pipeline", "validate", str(EXAMPLE), "--clone-id", "42"],
    ["clones", "models", "list"],
    ["clones", "entitlements", "show", "--clone-id", "42"],
    ["prop", "accounts", "list"],
    ["prop", "accounts", "show", "1"],
    ["prop", "positions"],
    ["ingest", "latest", "--symbol", "BTC"],
    ["ingest", "status"],
    ["ingest", "assets", "list"],
    ["ingest", "assets", "show", "BTC"],
    ["workers", "status"],
    ["db", "status"],
    ["db", "check"],
    ["desk", "status"],
    ["desk", "report"],
    ["desk", "agents", "list"],
    ["desk", "agents", "show", "sage"],
    ["desk", "policy", "show"],
    ["desk", "proposals", "list"],
    ["desk", "proposals", "show", "1"],
    ["desk", "missions", "list"],
    ["desk", "missions", "show", "1"],
    ["desk", "events", "list"],
    ["desk", "events", "show", "1"],
    ["desk", "signals", "list", "--symbol", "BTC"],
    ["desk", "signals", "show", "1"],
    ["desk", "triggers", "list"],
    ["desk", "reactions", "list"],
    ["desk", "roundtables", "list"],
    ["desk", "roundtables", "formats"],
    ["desk", "memory", "list"],
    ["desk", "memory", "show", "1"],
    ["desk", "relationships"],
    ["lifecycle", "status", "--clone-id", "42"],
    ["lifecycle", "fees", "list"],
    ["lifecycle", "fees", "show", "1"],
    ["lifecycle", "auditions", "list"],
    ["lifecycle", "auditions", "show", "1"],
    ["lifecycle", "profiles", "show", "--clone-id", "42"],
    ["lifecycle", "moderation", "queue"],
    ["lifecycle", "arena", "list"],
    ["lifecycle", "arena", "queue"],
    ["lifecycle", "arena", "show", "--clone-id", "42"],
    ["lifecycle", "economy", "show"],
    ["lifecycle", "economy", "verify"],
    ["alerts", "log"],
]


@pytest.mark.slow  # builds the demo store once (a few seconds)
@pytest.mark.parametrize("command", READ_ONLY_COMMANDS, ids=" ".join)
def test_a_read_only_command_leaves_the_store_byte_identical(
    cli, demo_store, tmp_path, monkeypatch, command
):
    path = tmp_path / "demo.db"
    path.write_bytes(demo_store.read_bytes())
    monkeypatch.setenv("AUTOTRADER_NOW", REPLAY_NOW)
    before = path.stat()

    result = cli(*command, "--db", str(path))

    assert result.exit_code == 0, result.stderr
    assert path.read_bytes() == demo_store.read_bytes()
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert side_files(path) == []
