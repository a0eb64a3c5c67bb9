"""Desk workers as real processes on one store file: two executors never run one step twice,
and a worker killed mid-step leaves nothing half done — the heartbeat requeues its step at once."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from autotrader.core.clock import iso_utc
from autotrader.prop import repo as prop_repo
from tests.conftest import REPO_ROOT
from tests.fakes.decisions import market_template
from tests.fakes.desk import ctx, desk_key, desk_world
from tests.integration.test_desk_workers import executor, queue_trade

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("processes")]


def environment(home: Path, now_ms: int) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AUTOTRADER_", "OPENAI_"))},
        "AUTOTRADER_DATA_DIR": str(home),
        "AUTOTRADER_NOW": iso_utc(now_ms),
        "PYTHONPATH": str(REPO_ROOT),
    }


@pytest.fixture
def desk(tmp_path, tmp_path_factory):
    world = desk_world(market_template(tmp_path_factory), tmp_path)
    world.allow_trades_alone()
    from autotrader.desk import policies

    policies.set_policy(world.store, world.clock, "trade_limits", '{"max_open_positions": 5}')
    world.price("SOL", "ADA", "MEME")
    yield world
    world.store.close()


def test_two_executor_processes_fill_every_step_exactly_once(desk, tmp_path):
    for symbol in ("BTC", "ETH", "SOL", "ADA", "MEME"):
        queue_trade(desk, symbol, "12")
    command = [sys.executable, "-m", "autotrader", "desk", "worker", "trade-executor",
               "--max-ticks", "3", "--interval", "0.05", "--db", str(desk.path)]  # fmt: skip
    env = environment(tmp_path / "home", desk.clock.now_ms())
    procs = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err

    steps = desk.store.query("SELECT id, status FROM desk_steps WHERE kind = 'execute_trade'")
    assert {s["status"] for s in steps} == {"succeeded"}
    keys = [
        r["idempotency_key"] for r in desk.store.query("SELECT idempotency_key FROM prop_fills")
    ]
    assert sorted(keys) == sorted(desk_key(desk, s["id"]) for s in steps)
    running = desk.store.query("SELECT name FROM worker_heartbeats WHERE last_status != 'stopped'")
    assert running == []


def test_a_worker_killed_mid_step_has_its_step_requeued_at_the_next_beat(desk, tmp_path):
    queue_trade(desk, "BTC", "20")
    queue_trade(desk, "ETH", "20")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.desk_stuck_worker", str(desk.path),
         iso_utc(desk.clock.now_ms())],
        cwd=REPO_ROOT, env=environment(tmp_path / "home", desk.clock.now_ms()),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "the worker never claimed a step"
        step_id = int(proc.stdout.readline().split()[1])
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    step = desk.store.query_one("SELECT * FROM desk_steps WHERE id = ?", (step_id,))
    claimant = f"trade-executor@{socket.gethostname()}:{proc.pid}"
    assert (step["status"], step["claimed_by"]) == ("running", claimant)
    assert prop_repo.intent_by_key(desk.store, desk_key(desk, step_id)) is None

    desk.beat()  # no clock has to pass: the claiming process is gone

    step = desk.store.query_one("SELECT * FROM desk_steps WHERE id = ?", (step_id,))
    assert (step["status"], step["claimed_by"]) == ("queued", None)
    requeued = desk.store.query(
        "SELECT title FROM desk_events WHERE step_id = ? AND title LIKE '%requeued%'", (step_id,)
    )
    assert [e["title"] for e in requeued] == [
        f"step {step_id} (execute_trade) requeued: its worker is gone"
    ]
    other = executor(desk)(ctx(desk.store, desk.clock))  # a second worker takes over
    assert other.counts["succeeded"] == 2
    step = desk.store.query_one("SELECT * FROM desk_steps WHERE id = ?", (step_id,))
    assert step["status"] == "succeeded"
    assert prop_repo.intent_by_key(desk.store, desk_key(desk, step_id)) is not None
    assert desk.count("SELECT COUNT(*) FROM prop_fills") == 2  # each step filled once
