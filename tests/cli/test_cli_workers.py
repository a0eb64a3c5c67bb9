import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

import pytest

from autotrader.bootstrap import open_store
from autotrader.core.settings import load_settings


def test_workers_status_says_when_no_worker_has_run(cli, tmp_path):
    cli("init", "--db", str(tmp_path / "s.db"))
    result = cli("workers", "status", "--db", str(tmp_path / "s.db"))
    assert result.exit_code == 0
    assert "no worker" in result.stdout


def test_housekeeping_runs_one_tick_through_the_harness(cli, tmp_path):
    db = str(tmp_path / "s.db")
    result = cli("workers", "housekeeping", "--db", db)
    assert result.exit_code == 0, result.stderr
    assert "housekeeping:" in result.stdout
    views = json.loads(cli("workers", "status", "--db", db, "--json").stdout)["workers"]
    assert [(v["name"], v["status"], v["ticks"], v["stale"]) for v in views] == [
        ("housekeeping", "stopped", 1, False)
    ]


def test_status_lists_every_registered_job_even_before_any_has_run(cli, tmp_path):
    from autotrader.jobs import JOBS

    cli("init", "--db", str(tmp_path / "s.db"))
    status = json.loads(cli("workers", "status", "--db", str(tmp_path / "s.db"), "--json").stdout)
    assert [job["name"] for job in status["jobs"]] == list(JOBS.names)
    assert {job["state"] for job in status["jobs"]} == {"never run"}
    assert status["workers"] == []


def test_workers_run_runs_any_registered_job_once_and_status_shows_its_last_tick(cli, tmp_path):
    db = str(tmp_path / "s.db")
    result = cli("workers", "run", "mark-to-market", "--once", "--db", db)
    assert result.exit_code == 0, result.stderr
    assert "mark-to-market: 0 accounts" in result.stdout
    status = json.loads(cli("workers", "status", "--db", db, "--json").stdout)
    job = next(job for job in status["jobs"] if job["name"] == "mark-to-market")
    assert (job["state"], job["last_tick_status"]) == ("stopped", "ok")
    assert job["last_tick_summary"].startswith("0 accounts")


def test_workers_run_loops_a_job_until_max_ticks(cli, tmp_path):
    db = str(tmp_path / "s.db")
    result = cli(
        "workers", "run", "housekeeping", "--interval", "0.01", "--max-ticks", "2", "--db", str(db)
    )
    assert result.exit_code == 0, result.stderr
    assert "housekeeping: stopped (max_ticks) after 2 ticks, 0 failed" in result.stdout


def test_a_worker_whose_every_tick_failed_exits_1_with_its_last_error(cli, tmp_path, monkeypatch):
    db = tmp_path / "s.db"
    open_store(load_settings(), path=db).close()
    monkeypatch.setenv("AUTOTRADER_DB_BUSY_TIMEOUT_MS", "1")
    with closing(sqlite3.connect(db, isolation_level=None)) as other_process:
        other_process.execute("BEGIN IMMEDIATE")  # holds the write lock throughout
        result = cli(
            "workers",
            "run",
            "housekeeping",
            "--interval",
            "0.01",
            "--max-ticks",
            "2",
            "--db",
            str(db),
        )
        other_process.execute("ROLLBACK")
    assert result.exit_code == 1
    assert "housekeeping: stopped (max_ticks) after 2 ticks, 2 failed" in result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: housekeeping: the worker stopped while failing (2 of 2")
    assert "the database is busy" in last
    assert "Traceback" not in result.stderr


def test_workers_run_refuses_an_unknown_job_naming_the_registered_ones(cli, tmp_path):
    result = cli("workers", "run", "nope", "--once", "--db", str(tmp_path / "s.db"))
    assert result.exit_code == 1
    assert "no job named 'nope'" in result.stderr
    assert "decisions" in result.stderr


def test_housekeeping_loop_stops_after_max_ticks(cli, tmp_path):
    db = str(tmp_path / "s.db")
    result = cli(
        "workers", "housekeeping", "--db", db, "--loop", "--interval", "0.01", "--max-ticks", "3"
    )
    assert result.exit_code == 0, result.stderr
    assert "after 3 ticks" in result.stdout


def test_a_running_worker_whose_beat_is_old_is_flagged_stale(cli, tmp_path):
    db = tmp_path / "s.db"
    store = open_store(load_settings(), path=db)
    old = int(time.time() * 1000) - 3_600_000
    store.execute(
        "INSERT INTO worker_heartbeats (worker_id, name, pid, host, started_at, last_beat_at,"
        " interval_s, last_status, ticks, failures, consecutive_failures)"
        " VALUES ('ingest@h:1', 'ingest', 1, 'h', ?, ?, 60, 'ok', 5, 0, 0)",
        (old, old),
    )
    store.close()
    status = json.loads(cli("workers", "status", "--db", str(db), "--json").stdout)
    assert status["workers"][0]["stale"] is True
    ingest = next(job for job in status["jobs"] if job["name"] == "ingest")
    assert (ingest["state"], ingest["live_workers"]) == ("stale", 0)
    table = cli("workers", "status", "--db", str(db)).stdout
    assert "STALE" in table


@pytest.mark.slow
@pytest.mark.xdist_group("processes")  # on one worker, one at a time: they start processes
def test_a_looping_worker_stops_cleanly_on_sigterm_after_its_tick(tmp_path):
    db = tmp_path / "s.db"
    env = {**os.environ, "AUTOTRADER_DATA_DIR": str(tmp_path), "AUTOTRADER_LOG_FORMAT": "json"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autotrader",
            "workers",
            "housekeeping",
            "--db",
            str(db),
            "--loop",
            "--interval",
            "0.2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.time() + 30
        ticks = 0
        while time.time() < deadline and ticks < 2:
            time.sleep(0.1)
            if db.exists():
                store = open_store(load_settings(), path=db)
                row = store.query_one("SELECT ticks FROM worker_heartbeats")
                store.close()
                ticks = row["ticks"] if row else 0
        assert ticks >= 2, "the worker never ticked"
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "stopped (signal)" in stdout
    store = open_store(load_settings(), path=db)
    assert store.query_one("SELECT last_status FROM worker_heartbeats")["last_status"] == "stopped"
    store.close()
