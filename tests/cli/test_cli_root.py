"""The root command: help, version, and how errors reach the user."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_help_lists_only_groups_with_working_commands(cli):
    result = cli("--help")
    assert result.exit_code == 0
    for group in (
        "init",
        "demo",
        "config",
        "db",
        "workers",
        "ingest",
        "prop",
        "clones",
        "decisions",
        "ledger",
        "lifecycle",
    ):
        assert group in result.output
    assert " decide " not in result.output  # a hidden alias of decisions


def test_version_prints_the_package_version(cli):
    from autotrader import __version__

    result = cli("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"autotrader {__version__}"


def test_a_usage_error_exits_2(cli):
    result = cli("db", "status", "--no-such-flag")
    assert result.exit_code == 2


def test_invalid_settings_give_one_line_per_problem_and_exit_1(cli, monkeypatch):
    monkeypatch.setenv("AUTOTRADER_MODE", "yolo")
    monkeypatch.setenv("AUTOTRADER_DB_BUSY_TIMEOUT_MS", "-5")
    result = cli("db", "status")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert all(line.startswith("error: AUTOTRADER_") for line in lines)
    assert "Traceback" not in result.output + result.stderr


def test_a_store_path_that_is_a_folder_is_a_usage_error_not_a_traceback(cli, tmp_path):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    result = cli("db", "status", "--db", str(folder))
    assert result.exit_code == 2
    assert "is a directory" in " ".join(result.stderr.replace("│", " ").split())
    assert "Traceback" not in result.output + result.stderr


def test_an_unwritable_store_location_is_one_line(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = cli("init", "--db", str(blocker / "sub" / "x.db"))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ")


@pytest.mark.slow  # spawns the console script
def test_console_script_runs_as_a_module_and_shows_no_traceback_on_errors(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "AUTOTRADER_DATA_DIR": str(tmp_path), "AUTOTRADER_MODE": "bad"}
    proc = subprocess.run(
        [sys.executable, "-m", "autotrader", "db", "status"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: AUTOTRADER_MODE:")
    assert "Traceback" not in proc.stderr


@pytest.mark.slow  # spawns the console script
def test_debug_shows_the_traceback(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "AUTOTRADER_DATA_DIR": str(tmp_path), "AUTOTRADER_MODE": "bad"}
    proc = subprocess.run(
        [sys.executable, "-m", "autotrader", "--debug", "db", "status"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr


def test_a_file_system_error_is_one_actionable_line(cli, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    db = str(tmp_path / "s.db")
    assert cli("init", "--db", db).exit_code == 0
    result = cli("db", "backup", str(blocker / "copy.db"), "--db", db)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "a bug" not in result.stderr
    assert "Traceback" not in result.stderr
