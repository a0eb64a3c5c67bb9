"""Several roundtable workers as real processes on one store, against the loopback fake model:
together they never pass the day's cap, each scheduled meeting meets once, and no conversation
is held twice."""

from __future__ import annotations

import subprocess
import sys

import pytest

from autotrader.core.clock import parse_iso_utc
from autotrader.desk import policies
from tests.fakes.decisions import market_template
from tests.fakes.desk import desk_world
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.roundtable import Talk
from tests.integration.test_desk_processes import environment

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("processes")]

NOW = "2026-02-19T14:31:00Z"  # 06:31 Pacific: the standup and the day's debates are due
CAP = 2


def test_roundtable_workers_at_once_never_pass_the_daily_cap(tmp_path, tmp_path_factory):
    desk = desk_world(market_template(tmp_path_factory), tmp_path)
    desk.clock.advance(ms=parse_iso_utc(NOW) - desk.clock.now_ms())
    policies.set_policy(
        desk.store, desk.clock, "roundtable_policy", f'{{"max_daily_conversations": {CAP}}}'
    )
    with FakeOpenAI() as fake:
        fake.responder = Talk()
        env = environment(tmp_path / "home", desk.clock.now_ms()) | {
            "OPENAI_BASE_URL": fake.url,
            "OPENAI_API_KEY": "sk-test",
            "AUTOTRADER_LLM_RETRIES": "0",
        }
        command = [
            sys.executable,
            "-m",
            "autotrader",
            "desk",
            "worker",
            "roundtable",
            "--max-ticks",
            "3",
            "--interval",
            "0.05",
            "--db",
            str(desk.path),
        ]
        procs = [
            subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(3)
        ]
        for proc in procs:
            _out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, err

    held = desk.store.query("SELECT * FROM desk_roundtables ORDER BY id")
    assert len(held) == CAP
    assert {r["status"] for r in held} == {"succeeded"}
    slots = [r["slot"] for r in held]
    assert slots[0] == "morning_standup@2026-02-19"
    assert len(set(slots)) == len(slots)
    for roundtable in held:
        turns = desk.store.query(
            "SELECT seq FROM desk_roundtable_turns WHERE roundtable_id = ? ORDER BY seq",
            (roundtable["id"],),
        )
        assert [t["seq"] for t in turns] == list(range(roundtable["turns_planned"]))
    total_turns = desk.count("SELECT COUNT(*) FROM desk_roundtable_turns")
    assert len(fake.requests) == total_turns  # no turn was asked for twice
    desk.store.close()
