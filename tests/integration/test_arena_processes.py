"""Real processes on one store: a settlement killed with SIGKILL inside its transaction leaves
nothing half-written and a rerun settles the race once, conserved; any number of races workers
launch and settle every race once."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from autotrader.arena.races import race_detail, require_race
from autotrader.arena.verify import verify_races
from autotrader.core.clock import MINUTE_MS, iso_utc
from autotrader.lifecycle import economy
from tests.conftest import REPO_ROOT
from tests.fakes.arena import arena_store, launch, new_race, paid_ticket, settler

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("processes")]


def environment(home: Path, now_ms: int) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AUTOTRADER_", "OPENAI_"))},
        "AUTOTRADER_DATA_DIR": str(home),
        "AUTOTRADER_NOW": iso_utc(now_ms),
        "PYTHONPATH": str(REPO_ROOT),
    }


def settlement_rows(store) -> dict[str, int]:
    return {
        "settlements": store.scalar("SELECT COUNT(*) FROM arena_settlements"),
        "rows": store.scalar("SELECT COUNT(*) FROM arena_payouts"),
        "legs": store.scalar(
            "SELECT COUNT(*) FROM economy_entries WHERE txn = 'race:1:settlement'"
        ),
        "finished": store.scalar("SELECT COUNT(*) FROM arena_entrants WHERE status = 'finished'"),
        "strikes": store.scalar("SELECT COUNT(*) FROM arena_strikes"),
    }


def test_a_settlement_killed_mid_transaction_is_completed_once_by_a_rerun(tmp_path):
    store, clock, settings = arena_store(tmp_path / "kill.db")
    race = new_race(store, clock, settings)
    for owner, clone_id, amount in (("bob", 42, "10"), ("dave", 43, "3.333333"),
                                    ("carol", 44, "7")):  # fmt: skip
        paid_ticket(store, clock, settings, race["id"], clone_id, owner, amount)
    clock.set(race["starts_at"])
    launch(store, clock)
    clock.set(race["ends_at"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.arena_stuck_settler", str(tmp_path / "kill.db"),
         iso_utc(clock.now_ms())],
        cwd=REPO_ROOT, env=environment(tmp_path / "home", clock.now_ms()),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        assert ready, f"the settler never reached its booking: {proc.stderr.read()}"
        assert proc.stdout.readline().strip() == "booking race:1:settlement"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    assert settlement_rows(store) == {"settlements": 0, "rows": 0, "legs": 0, "finished": 0,
                                      "strikes": 0}  # fmt: skip
    left = require_race(store, race["id"])
    assert (left["status"], left["claimed_by"]) == ("settling", "stuck@test:1")
    # the pool still holds every paid ticket
    assert economy.balance(store, "protocol:race:1") == Decimal("20.333333")

    rerun = settler(store, clock, settings, worker_id="alive@test:2")
    assert rerun.settle_due().settled == []  # the dead worker's claim is fresh
    clock.advance(ms=int(settings.worker_stale_after * 1000) + MINUTE_MS)
    (settled,) = rerun.settle_due().settled
    assert settled.race_id == race["id"]
    assert rerun.settle_due().claimed == 0
    counts = settlement_rows(store)
    assert (counts["settlements"], counts["finished"], counts["strikes"]) == (1, 3, 1)
    detail = race_detail(store, race["id"])
    assert sum(r["amount"] for r in detail["rows"]) == detail["settlement"]["pool"]
    finalizes = store.scalar(
        "SELECT COUNT(*) FROM ledger_entries WHERE reason = 'admin finalize: race 1 ended'"
    )
    assert finalizes == 3  # each account finalized once, across the kill
    assert verify_races(store) == []
    assert economy.verify_economy(store) == []
    store.close()


@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_races_workers_launch_and_settle_every_race_once(tmp_path, workers):
    store, clock, settings = arena_store(tmp_path / "workers.db")
    races = [new_race(store, clock, settings, starts_in_ms=n * MINUTE_MS) for n in (1, 2, 3)]
    for race in races:
        paid_ticket(store, clock, settings, race["id"], 42, "bob", "5")
        paid_ticket(store, clock, settings, race["id"], 44, "dave", "2.5")
    store.close()
    command = [sys.executable, "-m", "autotrader", "arena", "races", "worker", "--max-ticks", "3",
               "--interval", "0.05", "--db", str(tmp_path / "workers.db")]  # fmt: skip
    env = environment(tmp_path / "home", max(r["ends_at"] for r in races) + MINUTE_MS)
    procs = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(workers)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        assert "0 failed" in out, out
    from tests.fakes.decisions import open_test_store

    store = open_test_store(tmp_path / "workers.db")
    try:
        assert [r["status"] for r in store.query("SELECT status FROM arena_races")] == [
            "settled"
        ] * 3
        accounts = store.query(
            "SELECT clone_id, COUNT(*) AS n FROM prop_accounts WHERE kind = 'race'"
            " GROUP BY clone_id"
        )
        assert accounts == [{"clone_id": c, "n": 3} for c in (42, 43, 44)]
        assert store.scalar("SELECT COUNT(*) FROM arena_settlements") == 3
        assert store.scalar("SELECT COUNT(*) FROM arena_strikes") == 3
        assert verify_races(store) == []
        assert economy.verify_economy(store) == []
    finally:
        store.close()
