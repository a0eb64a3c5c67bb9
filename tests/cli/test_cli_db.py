import json
import sqlite3


def test_init_creates_the_store_and_is_idempotent(cli, tmp_path):
    path = tmp_path / "s.db"
    first = cli("init", "--db", str(path))
    assert first.exit_code == 0, first.stderr
    assert "initialised" in first.stdout
    second = cli("init", "--db", str(path))
    assert second.exit_code == 0
    assert "already up to date" in second.stdout
    assert "0 migrations applied now" in second.stdout


def test_the_default_store_lives_in_the_data_dir(cli, tmp_path):
    result = cli("init")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "home" / "data" / "autotrader.db").exists()


def test_db_status_lists_applied_and_pending_migrations_as_json(cli, tmp_path):
    path = tmp_path / "s.db"
    path.touch()  # an empty file is a store with every migration pending
    fresh = json.loads(cli("db", "status", "--db", str(path), "--json").stdout)
    assert all(m["applied_at"] is None for m in fresh["migrations"])
    assert cli("db", "migrate", "--db", str(path)).exit_code == 0
    done = json.loads(cli("db", "status", "--db", str(path), "--json").stdout)
    assert done["journal_mode"] == "wal"
    assert done["foreign_keys"] is True
    assert done["integrity"] == "ok"
    assert all(m["applied_at"] for m in done["migrations"])
    assert {m["set"] for m in done["migrations"]} >= {"core"}


def test_db_backup_writes_a_readable_copy_and_refuses_to_overwrite(cli, tmp_path):
    path = tmp_path / "s.db"
    cli("init", "--db", str(path))
    target = tmp_path / "b.db"
    result = cli("db", "backup", str(target), "--db", str(path))
    assert result.exit_code == 0, result.stderr
    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    again = cli("db", "backup", str(target), "--db", str(path))
    assert again.exit_code == 1
    assert "--force" in again.stderr
    assert cli("db", "backup", str(target), "--db", str(path), "--force").exit_code == 0


def test_db_backup_refuses_to_overwrite_the_store_itself(cli, tmp_path):
    path = tmp_path / "s.db"
    cli("init", "--db", str(path))
    result = cli("db", "backup", str(path), "--db", str(path), "--force")
    assert result.exit_code == 1
    assert f"it is the store {path}" in result.stderr
