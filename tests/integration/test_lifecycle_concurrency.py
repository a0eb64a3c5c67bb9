"""Any number of lifecycle workers may share a store: two or four arena-entry processes never
admit more than the free slots nor a clone twice; two auditions processes decide each audition
once; a worker killed mid-evaluation leaves a claim the next one takes over once it is stale."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from autotrader.clones.management import create_clone
from autotrader.core.clock import HOUR_MS, iso_utc
from autotrader.lifecycle import moderation
from autotrader.lifecycle.profiles import set_profile
from tests.fakes.decisions import (
    copy_store,
    market_template,
    open_test_store,
    pipeline_graph,
    replay_clock,
    save_pipeline,
)
from tests.fakes.lifecycle import (
    ACTOR,
    end_window,
    evaluator,
    lifecycle_settings,
    start_audition,
)

CLONES = [42, *range(101, 112)]  # twelve clones, each with a pipeline the arena accepts
SLOTS = 5


def env_for(home: Path, now_ms: int, **settings: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOTRADER_", "OPENAI_"))}
    return {**keep, "AUTOTRADER_DATA_DIR": str(home), "AUTOTRADER_NOW": iso_utc(now_ms),
            **{f"AUTOTRADER_{k.upper()}": v for k, v in settings.items()}}  # fmt: skip


def race(path: Path, env: dict[str, str], command: list[str], workers: int) -> None:
    full = [sys.executable, "-m", "autotrader", *command, "--db", str(path)]
    procs = [
        subprocess.Popen(full, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(workers)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        assert "0 failed" in out, out


def queued_world(template: Path, path: Path, *, evaluate: bool) -> int:
    """Twelve clones with a started audition each (evaluated and approved for the arena when
    ``evaluate``); the time after their windows ended."""
    copy_store(template, path)
    store = open_test_store(path)
    clock = replay_clock()
    settings = lifecycle_settings()
    try:
        graph = pipeline_graph()
        for clone_id in CLONES[1:]:
            create_clone(store, clock, name=f"racer-{clone_id}", clone_id=clone_id)
            save_pipeline(store, clock, graph, clone_id=clone_id)
        for clone_id in CLONES:
            start_audition(store, clock, settings, clone_id)
        end_window(clock, settings)
        if evaluate:
            assert len(evaluator(store, clock, settings).evaluate_due().decisions) == len(CLONES)
            for clone_id in CLONES:
                version = set_profile(store, clock, clone_id, name=f"Racer {clone_id}", bio="",
                                      avatar_url=None, denied=(), actor=ACTOR)  # fmt: skip
                moderation.approve(store, clock, version["id"], reason="ok", actor=ACTOR)
    finally:
        store.close()
    return clock.now_ms()


@pytest.mark.slow
@pytest.mark.xdist_group("processes")
@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_arena_entry_workers_never_overfill_the_slots_nor_admit_twice(
    tmp_path, tmp_path_factory, workers
):
    path = tmp_path / "arena.db"
    now = queued_world(market_template(tmp_path_factory), path, evaluate=True)
    env = env_for(tmp_path / "home", now, arena_slots=str(SLOTS))
    command = ["lifecycle", "arena-entry", "worker", "--max-ticks", "3", "--interval", "0.05"]
    race(path, env, command, workers)
    store = open_test_store(path)
    try:
        active = store.query("SELECT clone_id FROM arena_slots WHERE status = 'active'")
        assert len(active) == SLOTS
        assert len({row["clone_id"] for row in active}) == SLOTS
        admitted = store.query("SELECT clone_id FROM lifecycle_events WHERE event = 'admitted'")
        assert sorted(r["clone_id"] for r in admitted) == sorted(r["clone_id"] for r in active)
        waiting = store.scalar("SELECT COUNT(*) FROM promotion_queue WHERE status = 'waiting'")
        assert waiting == len(CLONES) - SLOTS
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.xdist_group("processes")
def test_concurrent_auditions_workers_decide_and_finalize_each_audition_once(
    tmp_path, tmp_path_factory
):
    path = tmp_path / "auditions.db"
    now = queued_world(market_template(tmp_path_factory), path, evaluate=False)
    env = env_for(tmp_path / "home", now, audition_pass_sharpe="", audition_min_trades="0",
                  audition_pass_return_pct="-1", artifacts="memory")  # fmt: skip
    command = ["lifecycle", "auditions", "worker", "--max-ticks", "2", "--interval", "0.05"]
    race(path, env, command, 2)
    store = open_test_store(path)
    try:
        decided = store.query("SELECT status, COUNT(*) AS n FROM auditions GROUP BY status")
        assert decided == [{"status": "passed", "n": len(CLONES)}]
        finalized = store.query(
            "SELECT account_id, COUNT(*) AS n FROM ledger_entries"
            " WHERE reason LIKE 'admin finalize:%' GROUP BY account_id"
        )
        assert len(finalized) == len(CLONES)
        assert {row["n"] for row in finalized} == {1}
        passes = store.scalar(
            "SELECT COUNT(*) FROM lifecycle_events WHERE event = 'audition_passed'"
        )
        assert passes == len(CLONES)
    finally:
        store.close()


def test_a_claim_left_by_a_killed_worker_is_taken_over_once_stale(tmp_path):
    from tests.fakes.lifecycle import lifecycle_store

    store, clock = lifecycle_store(tmp_path / "claims.db")
    settings = lifecycle_settings()
    audition = start_audition(store, clock, settings)
    end_window(clock, settings)
    from autotrader.lifecycle.repo import auditions as repo

    # The dead worker claimed it and vanished (kill -9) before deciding.
    (claimed,) = repo.claim_due(store, now_ms=clock.now_ms(), stopped_accounts=[],
                                worker_id="dead@host:1", stale_before_ms=0, limit=10)  # fmt: skip
    assert claimed["id"] == audition["id"]
    live = evaluator(store, clock, settings, worker_id="alive@host:2")
    assert live.evaluate_due().decisions == []  # the claim is fresh: leave it alone
    clock.advance(ms=int(settings.worker_stale_after * 1000) + 1)
    (decision,) = live.evaluate_due().decisions
    assert decision.audition_id == audition["id"]
    assert live.evaluate_due().decisions == []
    store.close()


def test_replaying_an_evaluation_after_a_crash_between_its_steps_finishes_it(tmp_path):
    """Killed after finalizing but before deciding: the next pass skips the finalize."""
    from autotrader.prop.admin import admin_action
    from autotrader.prop.factory import precision
    from tests.fakes.lifecycle import lifecycle_store

    store, clock = lifecycle_store(tmp_path / "crash.db")
    settings = lifecycle_settings()
    audition = start_audition(store, clock, settings)
    clock.advance(ms=25 * HOUR_MS)
    admin_action(store, clock, precision(store, clock), account_id=audition["account_id"],
                 action="finalize", reason="audition 1 window ended")  # fmt: skip
    (decision,) = evaluator(store, clock, settings).evaluate_due().decisions
    assert decision.passed
    finalizes = store.scalar(
        "SELECT COUNT(*) FROM ledger_entries WHERE reason LIKE 'admin finalize:%'"
    )
    assert finalizes == 1
    store.close()
