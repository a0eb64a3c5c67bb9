"""Two and four ``autotrader prop decisions-worker`` processes on one store file, the replay clock
fixed: every (account, strategy, asset, bucket) gets exactly one run and every run fills at most
once, whichever process queues, claims or executes it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from autotrader.clones.management import create_clone
from autotrader.core.clock import iso_utc
from tests.fakes.decisions import (
    copy_store,
    market_template,
    open_test_store,
    pipeline_graph,
    replay_clock,
    replay_start,
    sandbox_account,
    save_pipeline,
)

CLONES = 12  # clone 42 and eleven more, each trading BTC and ETH with the rules engine
TICKS = 4


def prepare(template: Path, path: Path) -> int:
    """The store for the race: ``CLONES`` clones with a rules pipeline and an account each.
    Returns the number of runs due (every clone's rules open both assets at this time)."""
    copy_store(template, path)
    store = open_test_store(path)
    clock = replay_clock()
    try:
        graph = pipeline_graph()
        for n in range(1, CLONES):
            create_clone(store, clock, name=f"racer-{n}", clone_id=100 + n)
            save_pipeline(store, clock, graph, clone_id=100 + n)
        for clone_id in [42, *range(101, 100 + CLONES)]:
            sandbox_account(store, clock, clone_id)
    finally:
        store.close()
    return CLONES * 2


def race(path: Path | str, home: Path, workers: int) -> list[subprocess.CompletedProcess]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AUTOTRADER_", "OPENAI_"))},
        "AUTOTRADER_DATA_DIR": str(home),
        "AUTOTRADER_NOW": iso_utc(replay_start()),
        "AUTOTRADER_ARTIFACTS": "memory",
    }
    command = [
        sys.executable,
        "-m",
        "autotrader",
        "prop",
        "decisions-worker",
        "--max-ticks",
        str(TICKS),
        "--interval",
        "0.05",
        "--db",
        str(path),
    ]
    procs = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(workers)
    ]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


@pytest.mark.slow
@pytest.mark.xdist_group("processes")  # on one worker, one at a time: they start processes
@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_decision_workers_create_no_duplicate_runs_and_no_duplicate_fills(
    tmp_path, tmp_path_factory, workers
):
    path = tmp_path / "race.db"
    due = prepare(market_template(tmp_path_factory), path)

    finished = race(path, tmp_path / "home", workers)

    for proc in finished:
        assert proc.returncode == 0, proc.stderr
        assert f"stopped (max_ticks) after {TICKS} ticks, 0 failed" in proc.stdout
    store = open_test_store(path)
    try:
        q = store.query
        assert q("SELECT COUNT(*) AS n FROM decision_runs") == [{"n": due}]
        assert (
            q(
                "SELECT account_id, strategy_id, symbol, bucket, COUNT(*) AS n FROM decision_runs"
                " GROUP BY 1, 2, 3, 4 HAVING n > 1"
            )
            == []
        )
        assert q("SELECT DISTINCT status, attempts FROM decision_runs") == [
            {"status": "succeeded", "attempts": 1}
        ]
        assert (
            q("SELECT idempotency_key, COUNT(*) AS n FROM prop_fills GROUP BY 1 HAVING n > 1") == []
        )
        assert (
            q("SELECT run_id, seq, COUNT(*) AS n FROM decision_actions GROUP BY 1, 2 HAVING n > 1")
            == []
        )
        fills = q(
            "SELECT a.run_id, a.seq, f.account_id, f.idempotency_key FROM decision_actions a"
            " JOIN prop_fills f ON f.id = a.fill_id ORDER BY a.run_id"
        )
        assert len(fills) == due
        assert all(
            f["idempotency_key"] == f"decision:{f['account_id']}:run:{f['run_id']}:{f['seq']}"
            for f in fills
        )
        assert q("SELECT COUNT(*) AS n FROM prop_fills") == [{"n": due}]
        assert q("SELECT COUNT(*) AS n FROM positions WHERE status = 'OPEN'") == [{"n": due}]
        assert q("SELECT COUNT(*) AS n FROM prop_intents") == [{"n": due}]
    finally:
        store.close()
