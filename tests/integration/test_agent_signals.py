"""``agent run`` as systemd runs it: a real process on the wall clock, asleep until its clone is
next due, stopped by SIGTERM — promptly, cleanly (exit 0), its heartbeat saying so."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

from tests.fakes.decisions import CLONE_ID, market_template, world


def _rows(db, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(db, timeout=10)) as conn:
        return conn.execute(sql).fetchall()


def test_sigterm_stops_a_sleeping_agent_at_once_and_cleanly(tmp_path, tmp_path_factory):
    w = world(market_template(tmp_path_factory), tmp_path)
    w.store.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOTRADER_", "OPENAI_"))}
    env |= {"AUTOTRADER_DATA_DIR": str(tmp_path / "home"), "AUTOTRADER_ARTIFACTS": "memory"}
    env["AUTOTRADER_AGENT_MIN_SLEEP_S"] = "3600"  # after its first step it sleeps an hour
    args = ["agent", "run", "--clone-id", str(CLONE_ID), "--db", str(w.path)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "autotrader", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _rows(w.path, "SELECT 1 FROM action_runs WHERE name = 'agent'"):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the agent never finished its first step"
            time.sleep(0.05)
        # Its first step is done: it now sleeps for an hour, unless the signal wakes it.
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert time.monotonic() - sent < 60  # it did not sleep its hour out
    assert "agent: stopped (signal) after 1 steps, 0 failed" in out
    assert _rows(w.path, "SELECT last_status FROM worker_heartbeats") == [("stopped",)]
