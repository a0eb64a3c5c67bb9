"""The heartbeat: six isolated, budgeted operations, each recorded as an action run; stale
steps and roundtables recovered, those of gone workers at once."""

from __future__ import annotations

import subprocess
import sys

import pytest

from autotrader.core.clock import HOUR_MS, MINUTE_MS
from autotrader.core.worker import worker_identity
from autotrader.desk import missions
from autotrader.desk.heartbeat import TOTAL_BUDGET_S, Heartbeat, Operation, OpOutcome, operations
from autotrader.desk.vocabulary import HeartbeatOp, MissionStatus, StepKind, StepStatus
from tests.fakes.decisions import market_template
from tests.fakes.desk import desk_world


@pytest.fixture
def desk(tmp_path, tmp_path_factory):
    world = desk_world(market_template(tmp_path_factory), tmp_path)
    yield world
    world.store.close()


def action_runs(store) -> dict[str, dict]:
    rows = store.query("SELECT * FROM action_runs WHERE name LIKE 'desk-heartbeat:%' ORDER BY id")
    return {row["name"].split(":", 1)[1]: row for row in rows}


def test_a_heartbeat_runs_its_six_operations_within_fifteen_seconds(desk):
    report = desk.beat()

    assert [run.name for run in report.runs] == [op.value for op in HeartbeatOp]
    assert TOTAL_BUDGET_S == 15
    assert report.duration_ms < 15_000
    assert report.failed == []
    runs = action_runs(desk.store)
    assert set(runs) == {op.value for op in HeartbeatOp}
    assert {row["status"] for row in runs.values()} == {"ok"}
    assert runs["evaluate_triggers"]["summary"].startswith("12 rules, 5 fired")


def test_an_operation_that_raises_does_not_stop_the_others(desk):
    def boom(should_stop):
        raise RuntimeError("the reaction matrix is on fire")

    ops = operations(desk.store, desk.clock, watchlist=("BTC", "ETH"), worker_stale_after_s=300)
    ops[1] = Operation(HeartbeatOp.PROCESS_REACTIONS, 3.0, boom)
    report = Heartbeat(desk.store, desk.clock, ops, worker_id="test").beat()

    assert report.failed == ["process_reactions"]
    assert [run.status for run in report.runs].count("ok") == 5
    runs = action_runs(desk.store)
    assert runs["process_reactions"]["status"] == "failed"
    assert runs["process_reactions"]["error"] == "RuntimeError: the reaction matrix is on fire"
    assert runs["learn_from_outcomes"]["status"] == "ok"  # ran after the failure


def test_an_operation_stops_at_its_budget_and_says_so(desk):
    now = iter(float(i) for i in range(1000))  # every reading of the timer is a second later
    handled = []

    def busy(should_stop):
        while not should_stop():
            handled.append(1)
        return OpOutcome(f"{len(handled)} items", stopped_at_budget=True)

    op = Operation(HeartbeatOp.PROMOTE_INSIGHTS, 2.0, busy)
    report = Heartbeat(desk.store, desk.clock, [op], worker_id="t", timer=lambda: next(now)).beat()

    assert handled == [1]  # started at 0, one item at 1 s, stopped at 2 s
    assert report.runs[0].summary == "1 items (stopped at its 2 s budget)"
    assert report.runs[0].duration_ms == 3000


def test_a_step_running_for_more_than_thirty_minutes_is_failed_and_its_mission_finalized(desk):
    desk.beat()  # proactive rules queue analysis missions
    hung = worker_identity("signal-analyzer")  # this process: alive, so never judged gone
    claimed = missions.claim(
        desk.store, desk.clock, [StepKind.ANALYZE_SIGNAL], worker_id=hung, limit=5
    )
    assert claimed
    desk.clock.advance(ms=29 * MINUTE_MS)
    desk.beat()
    assert {s["status"] for s in steps(desk, claimed)} == {StepStatus.RUNNING}

    desk.clock.advance(ms=2 * MINUTE_MS)
    report = desk.beat()

    assert {s["status"] for s in steps(desk, claimed)} == {StepStatus.FAILED}
    stale = next(r for r in report.runs if r.name == "recover_stale_steps")
    assert stale.summary == (
        f"0 steps of gone workers requeued (0 out of attempts, failed), "
        f"{len(claimed)} stale steps failed, "
        f"{len(claimed)} missions finalized"
    )
    for step in claimed:
        mission = desk.store.query_one(
            "SELECT * FROM desk_missions WHERE id = ?", (step["mission_id"],)
        )
        assert mission["status"] == MissionStatus.FAILED
        assert mission["error"] == f"step {step['id']} went stale"
    alert = desk.store.query_one("SELECT * FROM desk_events WHERE kind = 'health'")
    assert alert["agent_id"] == "observer"
    assert '"rule_violation"' in alert["tags"]


def test_the_steps_of_a_gone_worker_are_requeued_at_the_next_beat_and_a_live_ones_kept(desk):
    desk.beat()
    live = worker_identity("signal-analyzer")
    dead = worker_identity("signal-analyzer", pid=dead_pid())
    kinds = [StepKind.ANALYZE_SIGNAL]
    held = {
        worker: missions.claim(desk.store, desk.clock, kinds, worker_id=worker, limit=1)
        for worker in (live, dead)
    }
    assert all(held.values())

    report = desk.beat()  # not a minute has passed

    assert {s["status"] for s in steps(desk, held[live])} == {StepStatus.RUNNING}
    assert [(s["status"], s["claimed_by"]) for s in steps(desk, held[dead])] == [
        (StepStatus.QUEUED, None)
    ]
    stale = next(r for r in report.runs if r.name == "recover_stale_steps")
    assert stale.summary.startswith("1 steps of gone workers requeued (0 out of attempts")


def test_a_step_whose_worker_dies_on_it_every_time_fails_with_its_mission_on_the_third(desk):
    desk.beat()
    kinds = [StepKind.ANALYZE_SIGNAL]
    (first,) = missions.claim(desk.store, desk.clock, kinds, worker_id=dead_worker(), limit=1)
    for attempt in range(1, missions.MAX_STEP_ATTEMPTS):
        desk.beat()  # requeued ...
        (again,) = steps(desk, [first])
        assert (again["status"], again["attempts"]) == (StepStatus.QUEUED, attempt)
        (claimed,) = missions.claim(desk.store, desk.clock, kinds, worker_id=dead_worker())
        assert claimed["id"] == first["id"]  # ... and the next worker dies on it too

    report = desk.beat()

    (last,) = steps(desk, [first])
    assert (last["status"], last["attempts"]) == (StepStatus.FAILED, missions.MAX_STEP_ATTEMPTS)
    mission = desk.store.query_one(
        "SELECT * FROM desk_missions WHERE id = ?", (first["mission_id"],)
    )
    assert (mission["status"], mission["error"]) == (
        MissionStatus.FAILED,
        f"step {first['id']} gave up",
    )
    stale = next(r for r in report.runs if r.name == "recover_stale_steps")
    assert stale.summary.startswith("0 steps of gone workers requeued (1 out of attempts")
    event = desk.store.query_one(
        "SELECT * FROM desk_events WHERE step_id = ? ORDER BY id DESC LIMIT 1", (first["id"],)
    )
    assert '"gave_up"' in event["tags"]


def dead_worker() -> str:
    return worker_identity("signal-analyzer", pid=dead_pid())


def dead_pid() -> int:
    """The pid of a process that has exited (as after kill -9)."""
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


def steps(desk, claimed) -> list[dict]:
    ids = [s["id"] for s in claimed]
    return desk.store.query(
        f"SELECT * FROM desk_steps WHERE id IN ({', '.join('?' * len(ids))})", ids
    )


def test_a_roundtable_nobody_takes_up_is_failed_and_its_proposal_rejected(desk):
    for _ in desk.day(hours=2):  # the seed policy sends SCOUT's trades to roundtables
        pass
    pending = desk.store.query("SELECT id FROM desk_proposals WHERE status = 'pending'")
    assert pending

    desk.clock.advance(ms=2 * HOUR_MS)
    desk.beat()

    for row in pending:
        proposal = desk.store.query_one("SELECT * FROM desk_proposals WHERE id = ?", (row["id"],))
        assert proposal["status"] == "rejected"
        assert proposal["gate"] == "roundtable.stale"
    assert desk.count("SELECT COUNT(*) FROM desk_roundtables WHERE status = 'queued'") == 0


def test_a_roundtable_whose_worker_is_gone_is_failed_at_the_next_beat_and_a_live_one_kept(desk):
    from autotrader.desk.formats import load_format
    from autotrader.desk.roundtables import convene

    watercooler = load_format(desk.store, "watercooler")
    live = convene(desk.store, desk.clock, watercooler, claimed_by=worker_identity("roundtable"))
    dead = worker_identity("roundtable", pid=dead_pid())
    orphan = convene(desk.store, desk.clock, watercooler, claimed_by=dead)

    report = desk.beat()  # not a minute has passed

    def row(convened) -> dict:
        return desk.store.query_one(
            "SELECT * FROM desk_roundtables WHERE id = ?", (convened.roundtable_id,)
        )

    assert row(live)["status"] == "running"
    assert (row(orphan)["status"], row(orphan)["error"]) == ("failed", "stale: its worker is gone")
    stale = next(r for r in report.runs if r.name == "recover_stale_roundtables")
    assert stale.summary == "1 stale roundtables failed"
