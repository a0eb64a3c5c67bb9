"""Benchmark: the lifecycle's two loops at scale.

1. Evaluating 1,000 due auditions (100 with ``--quick``), each account holding an open BTC
   position: the auditions job's pass — mark-to-market, flatten and finalize every account, the
   leaderboard's metrics, the verdict, its timeline rows and the queue entry. Built through the
   real services (fee requested and verified by hand, audition submitted, one intent through the
   gates), then marked to market hourly over the window as the mark-to-market job would.
   Baseline, in the same run on a copy of the store: finalizing the same accounts with
   ``prop admin finalize`` alone (the flatten-and-close floor). Target: <= 5 s.
2. One arena-entry pass over a 10,000-entry promotion queue (1,000 with ``--quick``), ten free
   slots: (a) the first pass, where every 50th clone has an approved profile and a pipeline, so
   it walks ~500 entries, defers the rest with their reason and admits ten; (b) the worst case,
   no approved profile at all: every entry deferred; (c) the pass after it, every reason already
   recorded. The rows are written with the lifecycle's and clones' repo functions in bulk (10,000
   audited auditions through the services would take minutes). Baseline: reading the whole queue
   in admission order with one plain query. Target: <= 1 s.

Run with ``python -m bench lifecycle [--quick]``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from autotrader.bootstrap import open_store
from autotrader.core.clock import HOUR_MS, SimulatedClock
from autotrader.core.settings import load_settings
from bench._harness import BenchResult

T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC
MINUTE = 60_000
TARGET_EVALUATION_S = 5.0
TARGET_ARENA_S = 1.0
FREE_SLOTS = 10
ACTOR = "bench"


def _settings():
    return load_settings(env_file=None).model_copy(
        update={"audition_duration_hours": 24.0, "audition_pass_sharpe": None,
                "audition_min_trades": 0, "audition_pass_return_pct": Decimal(-100),
                "audition_pass_max_drawdown_pct": Decimal(100), "arena_slots": FREE_SLOTS}
    )  # fmt: skip


# -- 1. evaluating due auditions -----------------------------------------------------------------


def _bar(store, clock, price: float, at: int) -> None:
    from autotrader.market.ingest import Ingestor
    from autotrader.market.models import Candle

    Ingestor(store, clock).store_synthetic([Candle("BTC", "1m", at, price, price, price, price, 1)])


def _auditions_store(path: Path, count: int) -> SimulatedClock:
    from autotrader.bootstrap import prop_desk
    from autotrader.clones.management import create_clone
    from autotrader.lifecycle.auditions import RetryPolicy, submit
    from autotrader.lifecycle.fees import FeePolicy, request_fee, verify_fee
    from autotrader.lifecycle.models import AuditionRules
    from autotrader.lifecycle.verifiers import ManualVerifier
    from autotrader.market.registry import ensure_assets
    from autotrader.prop.factory import precision
    from autotrader.prop.models import parse_intent
    from autotrader.prop.mtm import MarkToMarket

    settings = _settings()
    clock = SimulatedClock(T0 + MINUTE)
    store = open_store(settings, path=path)
    ensure_assets(store, clock)
    _bar(store, clock, 60_000.0, T0)
    desk = prop_desk(store, clock)
    policy, rules = FeePolicy.from_settings(settings), AuditionRules.from_settings(settings)
    retry = RetryPolicy.from_settings(settings)
    intent = parse_intent(
        {"action": "OPEN", "symbol": "BTC", "side": "LONG", "notional_usd": "500"}
    )
    for n in range(count):
        clone_id = 1000 + n
        create_clone(store, clock, name=f"bench-{n}", clone_id=clone_id, owner=f"owner-{n}")
        fee = request_fee(store, clock, clone_id, policy, actor=ACTOR)
        verify_fee(store, clock, fee["id"], ManualVerifier(clock, reference=f"wire-{n}",
                   reason="bench"), policy, actor=ACTOR)  # fmt: skip
        audition = submit(store, clock, clone_id, rules, retry, actor=ACTOR)
        desk.submit(audition["account_id"], intent)
    # The mark-to-market job marks every account once a minute while the auditions run; hourly
    # here (funding is hourly), so the evaluation finds what a live store would: recent marks.
    mtm = MarkToMarket(store, clock, precision(store, clock))
    for _ in range(24):
        clock.advance(ms=HOUR_MS)
        _bar(store, clock, 60_000.0 + clock.now_ms() % 7 * 10, clock.now_ms() - 2 * MINUTE)
        mtm.run()
    clock.advance(ms=MINUTE)
    store.close()
    return clock


def _evaluate(path: Path, clock: SimulatedClock) -> tuple[float, int]:
    from autotrader.lifecycle.factory import audition_evaluator

    store = open_store(_settings(), path=path)
    evaluator = audition_evaluator(_settings(), store, clock, worker_id="bench")
    evaluator.precision  # noqa: B018 - built before the clock starts, like a worker's first tick
    started = time.perf_counter()
    report = evaluator.evaluate_due()
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed, len(report.decisions)


def _finalize_only(path: Path, clock: SimulatedClock) -> float:
    from autotrader.prop import repo as prop_repo
    from autotrader.prop.admin import admin_action
    from autotrader.prop.factory import precision

    store = open_store(_settings(), path=path)
    exact = precision(store, clock)
    accounts = [a["id"] for a in prop_repo.list_accounts(store, kind="audition")]
    started = time.perf_counter()
    for account in accounts:
        admin_action(store, clock, exact, account_id=account, action="finalize", reason="bench")
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed


def _evaluation_results(folder: Path, quick: bool) -> list[BenchResult]:
    count = 100 if quick else 1000
    path = folder / "auditions.db"
    started = time.perf_counter()
    clock = _auditions_store(path, count)
    print(f"   built {count:,} auditions in {time.perf_counter() - started:.1f} s", flush=True)
    shutil.copy(path, folder / "floor.db")
    floor = _finalize_only(folder / "floor.db", clock)
    elapsed, decided = _evaluate(path, clock)
    assert decided == count, f"decided {decided} of {count}"
    return [
        BenchResult(
            f"evaluate {count:,} due auditions (flatten, finalize, judge)",
            elapsed,
            "s",
            baseline=floor,
            ratio_label="vs finalize alone",
            target=f"<= {TARGET_EVALUATION_S:g} s",
            passed=elapsed <= TARGET_EVALUATION_S if not quick else None,
        )
    ]


# -- 2. arena entry over a long queue --------------------------------------------------------


def _queue_store(path: Path, count: int, *, approved_every: int | None) -> SimulatedClock:
    from autotrader.clones import repo as clones_repo
    from autotrader.lifecycle.models import AuditionRules
    from autotrader.lifecycle.repo import arena, auditions, fees, profiles, timeline
    from autotrader.market.registry import ensure_assets
    from autotrader.prop import repo as prop_repo

    settings = _settings()
    clock = SimulatedClock(T0)
    store = open_store(settings, path=path)
    ensure_assets(store, clock)
    graph = json.loads((Path(__file__).parents[1] / "examples/pipelines/btc-eth-rules.json")
                       .read_text())  # fmt: skip
    rules = AuditionRules.from_settings(settings)
    with store.atomic():
        for n in range(count):
            clone_id = 1000 + n
            clones_repo.insert_clone(store, clone_id=clone_id, owner="local", name=f"q-{n}",
                                     model="gpt-5-mini", display_name=None, description=None,
                                     now_ms=T0)  # fmt: skip
            clones_repo.set_entitlements(store, clone_id, max_model_strength=3,
                                         max_active_assets=10, reason="b", now_ms=T0)  # fmt: skip
            fee = fees.insert_fee(store, clone_id=clone_id, owner="local", payer_address=None,
                                  amount=Decimal(25), reference=f"AF-{n}", now_ms=T0,
                                  expires_at=T0 + HOUR_MS)  # fmt: skip
            account = prop_repo.insert_account(store, clone_id=clone_id, kind="audition",
                                               starting_balance=Decimal(10_000),
                                               rules=rules.account_rules(), now_ms=T0)  # fmt: skip
            audition = auditions.insert_audition(
                store, clone_id=clone_id, attempt=1, fee_id=fee, account_id=account,
                status="passed", rules=rules.model_dump_json(), started_at=T0, ends_at=T0,
            )  # fmt: skip
            arena.enqueue(store, clone_id=clone_id, audition_id=audition,
                          score=float(count - n), now_ms=T0 + n)  # fmt: skip
            timeline.set_stage(store, clone_id, "queued", expected="sandbox", now_ms=T0)
            if approved_every and n % approved_every == approved_every - 1:
                _approve(store, clones_repo, profiles, clone_id, graph)
    store.close()
    return clock


def _approve(store, clones_repo, profiles, clone_id: int, graph: dict) -> None:
    clones_repo.insert_pipeline(store, clone_id, graph=json.dumps(graph, sort_keys=True),
                                layout="{}", warnings=[], now_ms=T0)  # fmt: skip
    name = f"racer {clone_id}"
    version = profiles.insert_version(
        store, clone_id=clone_id, version=1, owner="local", name=name, bio="", avatar_url=None,
        name_key=name, look_alike_key=name, status="approved", submitted_by=ACTOR,
        submitted_at=T0,
    )  # fmt: skip
    profiles.publish(store, clone_id=clone_id, version_id=version, name_key=name,
                     look_alike_key=name, now_ms=T0)  # fmt: skip


def _admission_pass(path: Path, clock: SimulatedClock) -> tuple[float, object]:
    from autotrader.lifecycle.promotion import admit_from_queue, entitlement_check

    store = open_store(_settings(), path=path)
    check = entitlement_check(store, clock)
    started = time.perf_counter()
    report = admit_from_queue(store, clock, slots=FREE_SLOTS, actor=ACTOR, entitlements=check)
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed, report


def _read_floor(path: Path) -> float:
    store = open_store(_settings(), path=path)
    from autotrader.lifecycle.repo import arena

    started = time.perf_counter()
    arena.waiting(store)
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed


def _arena_results(folder: Path, quick: bool) -> list[BenchResult]:
    count = 1_000 if quick else 10_000
    target = f"<= {TARGET_ARENA_S:g} s"
    mixed = folder / "mixed.db"
    started = time.perf_counter()
    clock = _queue_store(mixed, count, approved_every=50)
    print(f"   built a {count:,}-entry queue in {time.perf_counter() - started:.1f} s", flush=True)
    floor = _read_floor(mixed)
    first, report = _admission_pass(mixed, clock)
    assert len(report.admitted) == FREE_SLOTS, report.summary()
    unapproved = folder / "unapproved.db"
    _queue_store(unapproved, count, approved_every=None)
    worst, worst_report = _admission_pass(unapproved, clock)
    assert len(worst_report.deferred) == count, worst_report.summary()
    steady, _ = _admission_pass(unapproved, clock)

    def line(name: str, value: float) -> BenchResult:
        passed = value <= TARGET_ARENA_S if not quick else None
        return BenchResult(name, value, "s", baseline=floor, ratio_label="vs reading the queue",
                           target=target, passed=passed)  # fmt: skip

    return [
        line(f"arena entry, {count:,} queued, 1 in 50 approved (10 admitted)", first),
        line(f"arena entry, {count:,} queued, none approved (all deferred)", worst),
        line(f"arena entry, {count:,} queued, reasons already recorded", steady),
    ]


def run(quick: bool = False) -> list[BenchResult]:
    with tempfile.TemporaryDirectory(prefix="bench-lifecycle-") as folder:
        return _evaluation_results(Path(folder), quick) + _arena_results(Path(folder), quick)
