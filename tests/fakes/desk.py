"""A desk world for tests: the decision tests' template store (the bundled BTC/ETH candles with
their rollups and indicators) with the desk set up on the replay clock, its heartbeat and its
workers built by the same builders the registered jobs use.

``Desk.day(...)`` drives it the way a deployment would, compressed: every step of the replay
clock, one heartbeat, then one tick of each worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from autotrader.core.clock import MINUTE_MS, SimulatedClock
from autotrader.core.db import Store
from autotrader.core.jobs import JobEnv
from autotrader.core.settings import load_settings
from autotrader.core.worker import TickContext, TickReport
from autotrader.desk import jobs, policies
from autotrader.desk.setup import init_desk
from autotrader.desk.vocabulary import DeskWorker
from tests.fakes.decisions import copy_store, open_test_store, replay_clock

WATCHLIST = "BTC,ETH"
STEP_WORKERS = (
    DeskWorker.SIGNAL_ANALYZER,
    DeskWorker.RISK_CALCULATOR,
    DeskWorker.TRADE_EXECUTOR,
    DeskWorker.POSITION_MONITOR,
)
# The seed routes every trade to a roundtable, and conversations need a model: tests that trade
# without one let trades up to 40 USD pass alone, as the demo does.
TRADES_ALONE = (
    '{"allowed_step_kinds": ["analyze_signal", "monitor_position", "calculate_risk",'
    ' "review_performance", "check_health", "execute_trade", "close_position"],'
    ' "requires_roundtable": ["scale_position"]}'
)


def env(store: Store, clock: SimulatedClock, worker_id: str = "test") -> JobEnv:
    settings = load_settings(ingest_symbols=WATCHLIST)
    return JobEnv(settings=settings, store=store, clock=clock, worker_id=worker_id)


def ctx(store: Store, clock: SimulatedClock, worker_id: str = "test") -> TickContext:
    return TickContext(store, clock, worker_id, 1, lambda: False)


_BUILDERS = {
    DeskWorker.SIGNAL_ANALYZER: jobs.signal_analyzer_job,
    DeskWorker.RISK_CALCULATOR: jobs.risk_calculator_job,
    DeskWorker.TRADE_EXECUTOR: jobs.trade_executor_job,
    DeskWorker.POSITION_MONITOR: jobs.position_monitor_job,
    DeskWorker.INITIATIVE: jobs.initiative_job,
}


@dataclass
class Desk:
    store: Store
    clock: SimulatedClock
    path: Path
    account_id: int
    clone_id: int
    ticks: list[tuple[int, str, TickReport]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.heartbeat = jobs.heartbeat_job(env(self.store, self.clock, "heartbeat"))
        self.workers = {w: _BUILDERS[w](env(self.store, self.clock, w.value)) for w in STEP_WORKERS}

    def beat(self):
        """One heartbeat; its report."""
        return self.heartbeat(ctx(self.store, self.clock, "heartbeat")).result

    def work(self, *workers: DeskWorker) -> dict[DeskWorker, TickReport]:
        """One tick of each of ``workers`` (default: every step worker), in order."""
        done = {}
        for worker in workers or STEP_WORKERS:
            done[worker] = self.workers[worker](ctx(self.store, self.clock, worker.value))
            self.ticks.append((self.clock.now_ms(), worker.value, done[worker]))
        return done

    def day(self, *, minutes: int = 30, hours: float = 24) -> Iterator[int]:
        """Advance the replay clock ``minutes`` at a time for ``hours``: at each step a
        heartbeat and a tick of every worker; yields the time after each step."""
        for _ in range(int(hours * 60 / minutes)):
            self.beat()
            self.work()
            self.clock.advance(ms=minutes * MINUTE_MS)
            yield self.clock.now_ms()

    def allow_trades_alone(self) -> None:
        policies.set_policy(self.store, self.clock, "auto_approve", TRADES_ALONE)
        policies.set_policy(self.store, self.clock, "trade_limits", '{"max_position_size_usd": 40}')

    def count(self, sql: str, params: tuple = ()) -> int:
        return self.store.scalar(sql, params)

    def price(self, *symbols: str) -> None:
        """Synthetic 5m candles for registered ``symbols`` over the day before now, so they
        can be priced (the bundled data covers only BTC and ETH)."""
        from autotrader.market.ingest import Ingestor
        from autotrader.market.sources.synthetic import generate

        start = self.clock.now_ms() - 24 * 60 * MINUTE_MS
        ingestor = Ingestor(self.store, self.clock)
        for seed, symbol in enumerate(symbols):
            candles = generate(
                symbol, start_ms=start, count=24 * 12, timeframe="5m", seed=seed, start_price=1.0
            )
            ingestor.store_synthetic(candles)


def desk_key(desk: Desk, step_id: int) -> str:
    """The idempotency key a desk step's intent is stored under: the step's key in the desk
    account's own namespace (``autotrader.prop.idempotency``)."""
    from autotrader.prop.idempotency import caller_key
    from autotrader.prop.vocabulary import IntentOrigin

    return caller_key(IntentOrigin.DESK, desk.account_id, f"desk-step:{step_id}")


def desk_world(template: Path, folder: Path, *, offset_ms: int = 0) -> Desk:
    """A fresh copy of ``template`` in ``folder`` with the desk set up, at the replay start
    (plus ``offset_ms``). Close its store when done."""
    path = copy_store(template, folder / "desk.db")
    store = open_test_store(path)
    clock = replay_clock(offset_ms)
    setup = init_desk(store, clock)
    return Desk(store, clock, path, setup.account_id, setup.clone_id)
