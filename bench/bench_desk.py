"""Benchmark: one desk heartbeat over a backlog.

The store: the desk set up with two synthetic perps priced, 10,000 agent events the reaction
matrix has not read yet (a tenth of them match a pattern, spread over ten hours so cooldowns
let dozens through to proposals), 1,000 open steps (half running for 40 minutes — stale —, a
quarter running for 5 minutes, a quarter queued) and 500 memories, 100 of them ready to be
promoted. ``--quick``: 1,000 events, 100 steps, 50 memories.

Measured: one ``Heartbeat.beat()`` with the six real operations — triggers, reactions (every
event matched, the queued reactions proposed through the gates), promotion, learning, stale
steps (500 failed, their missions finalized), stale roundtables. Target: within the 15 s budget
with at least 5× headroom (≤ 3 s). Same-run baseline: reading the rows it works on (every event
and step) once, the floor of any heartbeat over them.

Run with ``python -m bench desk [--quick]``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from autotrader.core.clock import HOUR_MS, MINUTE_MS, SimulatedClock
from autotrader.core.db import Store
from autotrader.core.worker import worker_identity
from autotrader.desk.heartbeat import TOTAL_BUDGET_S, Heartbeat, operations
from autotrader.desk.learning import MemoryNote, remember
from autotrader.desk.repo import events as events_repo
from autotrader.desk.repo import loop as loop_repo
from autotrader.desk.setup import init_desk
from autotrader.desk.vocabulary import AgentId, MemoryType, StepKind
from autotrader.schema import MIGRATION_SETS
from bench._harness import BenchResult

# The steps' claimant: this process, alive, so its steps are judged by their age (stale after 30
# minutes), not taken back as a gone worker's.
HUNG_WORKER = worker_identity("bench")

T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC
NOW = T0 + 24 * HOUR_MS
HEADROOM = 5
_MATCHING = (
    ("scout", ("step", "execute_trade", "succeeded", "trade", "executed")),
    ("intel", ("signal", "buy", "indicator", "high_confidence")),
    ("sage", ("step", "calculate_risk", "succeeded", "risk", "warning")),
    ("observer", ("health", "error", "rule_violation")),
)
_PLAIN = (
    ("intel", ("proposal", "accepted")),
    ("scout", ("step", "monitor_position", "running")),
    ("growth", ("mission", "succeeded", "analysis")),
    ("atlas", ("trigger", "proactive_review_positions")),
)


def _market(store: Store, clock: SimulatedClock) -> None:
    from autotrader.market.ingest import Ingestor
    from autotrader.market.sources.synthetic import generate

    ingestor = Ingestor(store, clock)
    for seed, symbol in enumerate(("BTC", "ETH")):
        candles = generate(symbol, start_ms=NOW - 24 * HOUR_MS, count=288, timeframe="5m",
                           seed=seed, start_price=50_000.0 / (seed * 15 + 1))  # fmt: skip
        ingestor.store_synthetic(candles)


def _events(count: int) -> list[dict]:
    rows = []
    for i in range(count):
        agent, tags = (_MATCHING if i % 10 == 0 else _PLAIN)[(i // 10) % 4]
        rows.append({
            "agent_id": agent, "kind": "bench", "title": f"event {i}", "summary": "",
            "tags": tags, "symbol": "BTC", "side": "LONG",
            "created_at": NOW - 10 * HOUR_MS + i * (10 * HOUR_MS // count),
        })  # fmt: skip
    return rows


def _open_steps(store: Store, count: int) -> None:
    for i in range(count):
        proposal = loop_repo.insert_proposal(
            store,
            {"agent_id": "intel", "title": f"scan {i}", "source": "trigger",
             "mission_kind": "analysis", "steps": [{"kind": "analyze_signal"}],
             "status": "accepted", "gate_results": [], "created_at": NOW - HOUR_MS},
        )  # fmt: skip
        mission = loop_repo.insert_mission(
            store,
            {"proposal_id": proposal, "agent_id": "intel", "kind": "analysis",
             "title": f"scan {i}", "status": "running", "created_at": NOW - HOUR_MS},
        )  # fmt: skip
        running = i % 4 != 3
        claimed = NOW - (40 if i % 2 == 0 else 5) * MINUTE_MS if running else None
        loop_repo.insert_step(
            store,
            {"mission_id": mission, "seq": 0, "kind": StepKind.ANALYZE_SIGNAL.value,
             "status": "running" if running else "queued", "payload": {"kind": "analyze_signal"},
             "claimed_by": HUNG_WORKER if running else None, "claimed_at": claimed,
             "created_at": NOW - HOUR_MS},
        )  # fmt: skip


def _memories(store: Store, count: int) -> None:
    for i in range(count):
        note = MemoryNote(AgentId.GROWTH, MemoryType.INSIGHT, f"k{i}", f"insight {i}", ("bench",))
        for _ in range(4 if i % 5 == 0 else 1):  # every fifth reaches 0.80 on 4 pieces
            remember(store, note, trace="bench", now_ms=NOW)


def _build(path: Path, *, events: int, steps: int, memories: int) -> Store:
    store = Store(path, migrations=MIGRATION_SETS)
    clock = SimulatedClock(NOW)
    init_desk(store, clock)
    _market(store, clock)
    with store.atomic():
        events_repo.insert_events(store, _events(events))
        _open_steps(store, steps)
        _memories(store, memories)
    return store


def run(quick: bool) -> list[BenchResult]:
    events, steps, memories = (1_000, 100, 50) if quick else (10_000, 1_000, 500)
    with tempfile.TemporaryDirectory() as folder:
        store = _build(Path(folder) / "desk.db", events=events, steps=steps, memories=memories)
        clock = SimulatedClock(NOW)
        start = time.perf_counter()
        list(store.tuples("SELECT * FROM desk_events"))
        list(store.tuples("SELECT * FROM desk_steps"))
        baseline = time.perf_counter() - start

        backlog = store.scalar("SELECT MAX(id) FROM desk_events")
        ops = operations(store, clock, watchlist=("BTC", "ETH"), worker_stale_after_s=300)
        heartbeat = Heartbeat(store, clock, ops, worker_id="bench")
        start = time.perf_counter()
        report = heartbeat.beat()
        seconds = time.perf_counter() - start

        done = events_repo.get_cursor(store, "reactions") >= backlog
        running = loop_repo.step_counts(store).get("running", 0)
        store.close()
    assert not report.failed, report.summary()
    assert done, "the reaction matrix did not read every event"
    assert running == steps // 4, "stale steps left running"  # only the 5-minute-old ones run
    label = f"desk heartbeat: {events:,} events, {steps:,} open steps"
    ops = ", ".join(f"{r.name} {r.duration_ms} ms" for r in report.runs)
    print(f"   {ops}", flush=True)
    return [
        BenchResult(
            label,
            seconds,
            "s",
            baseline=TOTAL_BUDGET_S,
            ratio_label="of the 15 s budget",
            target=f"<= {TOTAL_BUDGET_S / HEADROOM:g} s ({HEADROOM}x headroom)",
            passed=seconds <= TOTAL_BUDGET_S / HEADROOM,
        ),
        BenchResult(
            "desk heartbeat vs reading its rows once",
            seconds,
            "s",
            baseline=baseline,
            ratio_label="ratio",
        ),
    ]
