"""The decision runner over the bundled BTC/ETH candles with the rules engine: due runs →
context → intents → gates → fills, recorded in decision_runs/decision_actions; cadence and
``force``; entitlements; stale-run recovery without a second fill."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from autotrader.clones.management import grant_entitlements, set_trading
from autotrader.core.worker import parse_worker_identity, worker_identity
from autotrader.decisions import repo
from autotrader.decisions.engines.base import EngineResult
from autotrader.decisions.scheduler import schedule
from autotrader.prop.models import Action, Side, TradeIntent
from tests.fakes.decisions import (
    CADENCE_S,
    CLONE_ID,
    actions,
    count,
    make_runner,
    market_template,
    runs,
    world,
)

MINUTE = 60_000
HOUR = 60 * MINUTE


@pytest.fixture
def w(tmp_path, tmp_path_factory):
    made = world(market_template(tmp_path_factory), tmp_path)
    yield made
    made.store.close()


def fills(store) -> list[dict]:
    return store.query("SELECT * FROM prop_fills ORDER BY id")


class AlwaysOpen:
    """A deterministic engine that opens the decided asset every time (an idempotency probe)."""

    name = "rules"

    def decide(self, request):
        intent = TradeIntent(
            action=Action.OPEN,
            symbol=request.symbol,
            side=Side.LONG,
            notional_usd="500",
            leverage=2,
            policy_id="always",
        )
        return EngineResult([intent], notes="always open")


class Crashing:
    name = "rules"

    def decide(self, request):
        raise RuntimeError("engine bug")


class FailingDesk:
    """The real desk, except that booking ``symbol`` blows up (a bug below the runner)."""

    def __init__(self, desk, symbol: str) -> None:
        self.desk, self.symbol = desk, symbol

    def submit(self, account_id, intent, **kwargs):
        if intent.symbol == self.symbol:
            raise RuntimeError("disk on fire")
        return self.desk.submit(account_id, intent, **kwargs)


# -- the loop ---------------------------------------------------------------------------------


def test_rules_engine_fills_through_the_gates_and_every_action_links_intent_order_fill_position(
    w,
):
    outcome = make_runner(w.store, w.clock).tick(clone_id=CLONE_ID)

    assert sorted(r.symbol for r in outcome.runs) == ["BTC", "ETH"]
    for run in runs(w.store):
        assert (run["status"], run["engine"], run["attempts"]) == ("succeeded", "rules", 1)
        assert run["context_artifact"], "the context the engine saw is stored"
        [action] = actions(w.store, run["id"])
        assert (action["action"], action["status"]) == ("OPEN", "executed")
        gates = json.loads(action["gate_results"])
        assert gates
        assert all(g["passed"] for g in gates)
        intent = w.store.query_one(
            "SELECT * FROM prop_intents WHERE id = ?", (action["intent_id"],)
        )
        assert intent["decision_run_id"] == run["id"]
        key = f"decision:{run['account_id']}:run:{run['id']}:0"  # the account's decision namespace
        assert intent["idempotency_key"] == key
        fill = w.store.query_one("SELECT * FROM prop_fills WHERE id = ?", (action["fill_id"],))
        assert (fill["order_id"], fill["position_id"]) == (
            action["order_id"],
            action["position_id"],
        )
        assert fill["idempotency_key"] == key
        position = w.store.query_one(
            "SELECT * FROM positions WHERE id = ?", (action["position_id"],)
        )
        assert (position["symbol"], position["status"]) == (run["symbol"], "OPEN")
        assert count(
            w.store, "SELECT COUNT(*) FROM ledger_entries WHERE fill_id = ?", (fill["id"],)
        )
    assert len(fills(w.store)) == 2
    assert count(w.store, "SELECT COUNT(*) FROM experiments WHERE outcome = 'executed'") == 2


def test_a_dry_run_records_intents_and_gate_results_but_fills_nothing(w):
    ledger_before = count(w.store, "SELECT COUNT(*) FROM ledger_entries")

    outcome = make_runner(w.store, w.clock).tick(clone_id=CLONE_ID, dry_run=True)

    assert len(outcome.runs) == 2
    for run in runs(w.store):
        assert run["dry_run"] == 1
        [action] = actions(w.store, run["id"])
        assert (action["action"], action["status"]) == ("OPEN", "accepted")
        assert action["intent_id"]
        assert json.loads(action["gate_results"])
        assert action["fill_id"] is None
        assert action["position_id"] is None
    assert count(w.store, "SELECT COUNT(*) FROM prop_intents") == 2
    assert fills(w.store) == []
    assert count(w.store, "SELECT COUNT(*) FROM positions") == 0
    assert count(w.store, "SELECT COUNT(*) FROM ledger_entries") == ledger_before


def test_a_hold_is_recorded_as_a_hold_and_reaches_no_gate(w):
    make_runner(w.store, w.clock).tick(clone_id=CLONE_ID, engine="hold")

    assert [r["engine"] for r in runs(w.store)] == ["hold", "hold"]
    for run in runs(w.store):
        [action] = actions(w.store, run["id"])
        assert (action["action"], action["status"], action["intent_id"]) == ("HOLD", "hold", None)
    assert count(w.store, "SELECT COUNT(*) FROM prop_intents") == 0


@pytest.mark.parametrize(
    ("grant", "reason"),
    [
        ({"max_active_assets": 1, "max_model_strength": None}, "active assets exceed"),
        ({"max_active_assets": None, "max_model_strength": 0}, "above the entitled 0"),
    ],
    ids=["assets", "model-strength"],
)
def test_a_shrunk_entitlement_records_skipped_runs_with_the_reason(w, grant, reason):
    grant_entitlements(w.store, w.clock, CLONE_ID, reason="test", **grant)

    outcome = make_runner(w.store, w.clock).tick(clone_id=CLONE_ID)

    assert outcome.runs == []
    assert len(outcome.scheduled.skipped) == 2
    for run in runs(w.store):
        assert run["status"] == "skipped"
        assert reason in run["skip_reason"]
        assert actions(w.store, run["id"]) == []
    assert fills(w.store) == []


def test_a_clone_with_trading_disabled_schedules_nothing(w):
    set_trading(w.store, w.clock, CLONE_ID, False)

    outcome = make_runner(w.store, w.clock).tick()

    assert runs(w.store) == []
    assert any("trading is off" in note for note in outcome.scheduled.notes)


def test_a_crashing_engine_is_a_recorded_error_and_a_hold(w):
    runner = make_runner(w.store, w.clock)
    runner.engines = {**runner.engines, "rules": Crashing()}

    outcome = runner.tick(clone_id=CLONE_ID)

    assert [r.status for r in outcome.runs] == ["succeeded", "succeeded"]
    for run in runs(w.store):
        assert "engine crashed: RuntimeError: engine bug" in run["error"]
        assert [a["status"] for a in actions(w.store, run["id"])] == ["hold"]
    assert fills(w.store) == []


def test_a_run_whose_booking_blows_up_is_failed_and_the_others_still_complete(w):
    runner = make_runner(w.store, w.clock)
    runner.desk = FailingDesk(runner.desk, "BTC")

    outcome = runner.tick(clone_id=CLONE_ID)

    status = {r.symbol: r.status for r in outcome.runs}
    assert status == {"BTC": "failed", "ETH": "succeeded"}
    [btc] = runs(w.store, symbol="BTC")
    assert btc["status"] == "failed"
    assert "disk on fire" in btc["error"]
    assert actions(w.store, btc["id"]) == []  # its transaction rolled back
    assert [f["symbol"] for f in fills(w.store)] == ["ETH"]


# -- cadence ----------------------------------------------------------------------------------


def test_two_ticks_in_one_cadence_bucket_create_one_run_per_account_strategy_and_asset(w):
    runner = make_runner(w.store, w.clock)
    runner.tick(clone_id=CLONE_ID)
    w.clock.advance(ms=CADENCE_S * 1000 - 1)

    second = runner.tick(clone_id=CLONE_ID)

    assert second.runs == []
    assert second.scheduled.queued == []
    assert len(runs(w.store)) == 2
    assert len(fills(w.store)) == 2


def test_the_next_cadence_bucket_creates_new_runs(w):
    runner = make_runner(w.store, w.clock)
    runner.tick(clone_id=CLONE_ID)
    first_bucket = runs(w.store)[0]["bucket"]
    w.clock.advance(ms=CADENCE_S * 1000)

    second = runner.tick(clone_id=CLONE_ID)

    assert len(second.runs) == 2
    assert sorted({r["bucket"] for r in runs(w.store)}) == [
        first_bucket,
        first_bucket + CADENCE_S * 1000,
    ]


def test_force_runs_again_now_even_when_the_bucket_starting_now_already_ran(w):
    runner = make_runner(w.store, w.clock)
    assert w.clock.now_ms() % (CADENCE_S * 1000) == 0  # a replay clock on a bucket boundary
    runner.tick(clone_id=CLONE_ID)

    forced = runner.tick(clone_id=CLONE_ID, force=True, only_scheduled=True)
    again = runner.tick(clone_id=CLONE_ID, force=True, only_scheduled=True)

    assert len(forced.runs) == 2
    assert len(again.runs) == 2
    assert [r["forced"] for r in runs(w.store)] == [0, 0, 1, 1, 1, 1]
    assert all(r["status"] == "succeeded" for r in runs(w.store))
    assert {r["due_at"] for r in runs(w.store)} == {w.clock.now_ms()}


def test_run_once_completes_every_scheduled_run_even_beyond_one_claim(w):
    runner = make_runner(w.store, w.clock, batch=1)

    outcome = runner.tick(clone_id=CLONE_ID, only_scheduled=True)

    assert sorted(r.symbol for r in outcome.runs) == ["BTC", "ETH"]
    assert [r["status"] for r in runs(w.store)] == ["succeeded", "succeeded"]


def test_an_asset_flag_runs_only_that_asset(w):
    outcome = make_runner(w.store, w.clock).tick(clone_id=CLONE_ID, asset="ETH", force=True)

    assert [r.symbol for r in outcome.runs] == ["ETH"]


# -- stale runs -------------------------------------------------------------------------------


def abandon(w, run_ids: list[int], *, minutes_ago: int = 20) -> None:
    """Mark runs as claimed long ago by a worker that then died."""
    with w.store.atomic():
        for run_id in run_ids:
            repo.update_run(
                w.store,
                run_id,
                status="running",
                claimed_by="dead-worker",
                claimed_at=w.clock.now_ms() - minutes_ago * MINUTE,
                finished_at=None,
            )


def test_a_run_left_running_by_a_dead_worker_is_requeued_and_completes_once(w):
    with w.store.atomic():
        queued = schedule(w.store, w.clock, clone_id=CLONE_ID).queued
    claimed = repo.claim_runs(
        w.store,
        worker_id="dead-worker",
        now_ms=w.clock.now_ms() - 20 * MINUTE,
        run_ids=None,
        limit=10,
    )
    with w.store.atomic():
        for run in claimed:
            repo.update_run(w.store, run["id"], attempts=1)
    runner = make_runner(w.store, w.clock, worker_id="survivor")

    outcome = runner.tick(clone_id=CLONE_ID)
    later = runner.tick(clone_id=CLONE_ID)

    assert outcome.recovered == 2
    assert sorted(r.run_id for r in outcome.runs) == sorted(queued)
    assert later.runs == []
    assert later.recovered == 0
    for run in runs(w.store):
        assert (run["status"], run["attempts"], run["claimed_by"]) == ("succeeded", 2, "survivor")
    assert len(fills(w.store)) == 2


def test_a_recovered_run_that_had_already_filled_does_not_fill_again(w):
    runner = make_runner(w.store, w.clock)
    runner.tick(clone_id=CLONE_ID)
    before = {r["id"]: actions(w.store, r["id"]) for r in runs(w.store)}
    filled = fills(w.store)
    abandon(w, list(before))  # as if the worker died right after committing its fills
    w.clock.advance(ms=1)

    outcome = runner.tick(clone_id=CLONE_ID)

    assert outcome.recovered == 2
    assert fills(w.store) == filled
    assert {r["id"]: actions(w.store, r["id"]) for r in runs(w.store)} == before
    assert all(r["status"] == "succeeded" for r in runs(w.store))
    executed = [a for r in outcome.runs for a in r.actions]
    assert [a["fill"]["id"] for a in executed] == [f["id"] for f in filled]


def test_a_recovered_run_replays_its_fill_by_idempotency_key_when_its_actions_were_lost(w):
    runner = make_runner(w.store, w.clock)
    runner.engines = {**runner.engines, "rules": AlwaysOpen()}
    runner.tick(clone_id=CLONE_ID, asset="BTC")
    [run] = runs(w.store)
    [fill] = fills(w.store)
    with w.store.atomic():  # the crash lost the run's own records, not the committed fill
        w.store.execute("DELETE FROM experiments WHERE run_id = ?", (run["id"],))
        w.store.execute("DELETE FROM decision_actions WHERE run_id = ?", (run["id"],))
    abandon(w, [run["id"]])
    w.clock.advance(ms=1)

    outcome = runner.tick(clone_id=CLONE_ID, asset="BTC")

    assert [r.run_id for r in outcome.runs] == [run["id"]]
    assert fills(w.store) == [fill]
    [action] = actions(w.store, run["id"])
    assert (action["status"], action["fill_id"]) == ("executed", fill["id"])
    assert count(w.store, "SELECT COUNT(*) FROM prop_intents") == 1


# -- claims whose worker is gone are recovered at once, whatever the clock says -----------------


def claim_now(w, worker_id: str, *, beat: str | None = "ok", beat_age_ms: int = 0) -> list[int]:
    """Queue the due runs and claim them as ``worker_id`` at the current (fixed) clock, with
    its heartbeat ``beat`` written ``beat_age_ms`` ago (None: no heartbeat row at all)."""
    from autotrader.core import repo as core_repo

    with w.store.atomic():
        queued = schedule(w.store, w.clock, clone_id=CLONE_ID).queued
    claimed = repo.claim_runs(
        w.store, worker_id=worker_id, now_ms=w.clock.now_ms(), run_ids=None, limit=10
    )
    with w.store.atomic():
        for run in claimed:
            repo.update_run(w.store, run["id"], attempts=1)
        if beat is not None:
            name, host, pid = parse_worker_identity(worker_id) or (worker_id, "?", 0)
            core_repo.upsert_heartbeat(
                w.store,
                worker_id=worker_id,
                name=name,
                pid=pid,
                host=host,
                now_ms=w.clock.now_ms() - beat_age_ms,
                interval_s=60.0,
                status=beat,
                error=None,
                ticks=1,
                failures=0,
                consecutive_failures=0,
            )
    assert sorted(r["id"] for r in claimed) == sorted(queued)
    return queued


def _succeeded_by(w, worker_id: str) -> None:
    for run in runs(w.store):
        assert (run["status"], run["claimed_by"], run["attempts"]) == ("succeeded", worker_id, 2)


def test_runs_of_a_killed_worker_on_this_host_are_recovered_at_once(w):
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()  # gone, as after kill -9; its heartbeat still says ok, just now
    queued = claim_now(w, worker_identity("decisions", pid=finished.pid))

    outcome = make_runner(w.store, w.clock, worker_id="survivor").tick()  # the clock stands still

    assert outcome.recovered == len(queued)
    assert sorted(r.run_id for r in outcome.runs) == sorted(queued)
    _succeeded_by(w, "survivor")
    assert len(fills(w.store)) == len(queued)


@pytest.mark.parametrize(
    ("beat", "beat_age_ms"),
    [("stopped", 0), (None, 0), ("ok", 30 * MINUTE)],
    ids=["stopped", "missing", "stale"],
)
def test_runs_of_a_worker_elsewhere_whose_heartbeat_is_gone_are_recovered_at_once(
    w, beat, beat_age_ms
):
    queued = claim_now(w, "decisions@another-host:4242", beat=beat, beat_age_ms=beat_age_ms)

    outcome = make_runner(w.store, w.clock, worker_id="survivor").tick()

    assert outcome.recovered == len(queued)
    _succeeded_by(w, "survivor")


@pytest.mark.parametrize(
    "claimant",
    [worker_identity("decisions"), "decisions@another-host:4242"],
    ids=["live-process-here", "fresh-heartbeat-elsewhere"],
)
def test_runs_of_a_live_worker_are_never_taken_over(w, claimant):
    queued = claim_now(w, claimant, beat="ok", beat_age_ms=MINUTE)

    outcome = make_runner(w.store, w.clock, worker_id="survivor").tick()

    assert (outcome.recovered, outcome.runs) == (0, [])
    assert [(r["status"], r["claimed_by"]) for r in runs(w.store)] == [("running", claimant)] * len(
        queued
    )
    assert fills(w.store) == []


def test_a_run_abandoned_too_many_times_is_failed_not_retried_forever(w):
    runner = make_runner(w.store, w.clock)
    with w.store.atomic():
        run_ids = schedule(w.store, w.clock, clone_id=CLONE_ID).queued
    abandon(w, run_ids)
    with w.store.atomic():
        for run_id in run_ids:
            repo.update_run(w.store, run_id, attempts=runner.max_attempts)

    outcome = runner.tick(clone_id=CLONE_ID)

    assert outcome.runs == []
    for run in runs(w.store):
        assert run["status"] == "failed"
        assert "abandoned" in run["error"]
    assert fills(w.store) == []


def test_a_tick_flushes_its_artifacts_together_at_its_end_not_one_per_decision(w, monkeypatch):
    import os
    import threading

    flushed_on: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        flushed_on.append(threading.current_thread().name)
        real_fsync(fd)

    runner = make_runner(w.store, w.clock)
    monkeypatch.setattr(os, "fsync", fsync)
    outcome = runner.tick(clone_id=CLONE_ID)

    keys = {run["context_artifact"] for run in runs(w.store)}
    assert len(outcome.runs) == 2
    assert len(flushed_on) == len(keys) == 2  # one reference per (symbol, instant, strategy)
    assert threading.main_thread().name not in flushed_on  # the end-of-tick pass, concurrent


# -- one clone's tick and when it is next due (the agent's loop) ------------------------------


def test_a_tick_for_one_clone_never_runs_another_clones_queued_runs(w):
    from autotrader.clones.management import create_clone
    from tests.fakes.decisions import pipeline_graph, sandbox_account, save_pipeline

    create_clone(w.store, w.clock, name="other", clone_id=43)
    save_pipeline(w.store, w.clock, pipeline_graph(), clone_id=43)
    sandbox_account(w.store, w.clock, clone_id=43)
    with w.store.atomic():
        schedule(w.store, w.clock, clone_id=43)
    queued = [r["id"] for r in runs(w.store, clone_id=43, status="queued")]
    assert queued

    outcome = make_runner(w.store, w.clock).tick(clone_id=CLONE_ID)

    assert outcome.runs
    assert {r.run_id for r in outcome.runs}.isdisjoint(queued)
    assert [r["id"] for r in runs(w.store, clone_id=43, status="queued")] == queued


def test_a_rules_clone_is_next_due_at_its_next_cadence_bucket(w):
    from autotrader.decisions.scheduler import next_due_at

    now = w.clock.now_ms() + 7 * MINUTE
    cadence = CADENCE_S * 1000
    assert next_due_at(w.store, CLONE_ID, now) == (now // cadence + 1) * cadence


def test_a_committee_clone_is_next_due_when_its_planner_said_and_else_at_its_cadence(w):
    from autotrader.decisions.scheduler import next_due_at
    from tests.fakes.decisions import pipeline_graph, save_pipeline

    save_pipeline(w.store, w.clock, pipeline_graph(engine="committee", cadence_s=3600))
    now = w.clock.now_ms()
    run_id = repo.insert_run(
        w.store, clone_id=CLONE_ID, account_id=w.account_id, strategy_id="trend-rules",
        symbol="BTC", pipeline_version=1, bucket=now, forced=0, dry_run=0, status="succeeded",
        engine="committee", model="m", trace_id="t", due_at=now, created_at=now,
    )  # fmt: skip
    repo.set_next_due(w.store, CLONE_ID, now + 1500_000, run_id=run_id, now_ms=now)
    assert next_due_at(w.store, CLONE_ID, now) == now + 1500_000
    later = now + 1600_000  # past the wake-up (the Planner failed to set a new one)
    assert next_due_at(w.store, CLONE_ID, later) == (later // HOUR + 1) * HOUR
