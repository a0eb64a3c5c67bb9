import json
import os
import signal
import subprocess
import sys
import time

import pytest

from autotrader.bootstrap import open_store
from autotrader.core.settings import load_settings


def test_workers_status_says_when_no_worker_has_run(cli, tmp_path):
    result = cli("workers", "status", "--db", str(tmp_path / "s.db"))
    assert result.exit_code == 0
    assert "no worker" in result.stdout


def test_housekeeping_runs_one_tick_through_the_harness(cli, tmp_path):
    db = str(tmp_path / "s.db")
    result = cli("workers", "housekeeping", "--db", db)
    assert result.exit_code == 0, result.stderr
    assert "housekeeping:" in result.stdout
    views = json.loads(cli("workers", "status", "--db", db, "--json").stdout)
    assert [(v["name"], v["status"], v["ticks"], v["stale"]) for v in views] == [
        ("housekeeping", "stopped", 1, False)
    ]


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
    views = json.loads(cli("workers", "status", "--db", str(db), "--json").stdout)
    assert views[0]["stale"] is True
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
