"""A store for the server's tests and the browser tests, built through the real engine:

- market memory: the bundled BTC/ETH candles with rollups and indicators (``decisions``
  template), clone 42 with a pipeline;
- clone 42's sandbox account: one decision run of the **llm** engine (through the real openai
  SDK against the loopback FakeOpenAI) that opens a BTC long with a stop and a target, its
  prompt and response stored as file artifacts; then a day of hourly mark-to-market (snapshots,
  exits) and hourly rules decisions;
- clone 7's audition account: a manual ETH round trip through the gates, and an oversized
  order they reject;
- a housekeeping tick through the worker harness (a heartbeat and a tick row).

Built once per test session (about two seconds); each test module copies the file.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from autotrader.core.clock import HOUR_MS, SimulatedClock
from tests.fakes.decisions import (
    CLONE_ID,
    copy_store,
    market_template,
    open_test_store,
    pipeline_graph,
    replay_clock,
    sandbox_account,
    save_pipeline,
)

OPEN_BTC = {
    "action": "OPEN",
    "symbol": "BTC",
    "side": "LONG",
    "qty": "0.01",
    "leverage": 2,
    "exit_plan": {"stop": "60000", "target": "75000"},
    "policy_id": "trend_macd",
    "hypothesis": "1h uptrend resumes",
}
OTHER_CLONE = 7

_built: dict[Path, tuple[Path, World]] = {}


@dataclass(frozen=True)
class World:
    path: Path  # the store file (a copy per caller: see copy_world)
    artifacts: Path  # the file artifact store the llm run wrote
    now_ms: int  # the replay clock at the end
    llm_account: int  # clone 42's sandbox account
    manual_account: int  # clone 7's audition account
    llm_run: int  # the llm decision run
    llm_fill: int  # the fill it caused


def settings_for(world_path: Path, artifacts: Path, **extra):
    """Settings over a world's store and artifacts, read from no file or environment."""
    from autotrader.core.settings import load_settings

    return load_settings(
        env_file=None, db=world_path, artifacts="file", artifacts_dir=artifacts, **extra
    )


def _build(folder: Path, template: Path) -> World:
    from autotrader.bootstrap import decision_runner, precision
    from autotrader.core.jobs import JobEnv
    from autotrader.core.worker import Worker, WorkerConfig
    from autotrader.jobs import JOBS
    from autotrader.prop.accounts import open_account
    from autotrader.prop.execution import PropDesk
    from autotrader.prop.models import AccountRules, parse_intent
    from autotrader.prop.mtm import MarkToMarket
    from tests.fakes.openai_server import FakeOpenAI

    path = copy_store(template, folder / "world.db")
    artifacts = folder / "artifacts"
    store = open_test_store(path)
    clock = replay_clock()
    try:
        llm_account = sandbox_account(store, clock)
        save_pipeline(store, clock, pipeline_graph(engine="llm", symbols=("BTC",)))
        with FakeOpenAI() as fake:
            fake.reply_json(OPEN_BTC, input_tokens=1200, output_tokens=80)
            settings = settings_for(
                path,
                artifacts,
                openai_base_url=fake.url,
                openai_api_key="sk-test-server-world",
                llm_cache="off",
                llm_retries=0,
            )
            runner = decision_runner(settings, store, clock, worker_id="world")
            outcome = runner.tick(clone_id=CLONE_ID, force=True, only_scheduled=True)
        [run] = outcome.runs
        llm_fill = run.actions[0]["fill"]["id"]

        desk = PropDesk(store, clock, precision(store, clock))
        manual = open_account(
            store,
            clock,
            clone_id=OTHER_CLONE,
            kind="audition",
            starting_balance=Decimal(5_000),
            rules=AccountRules(),
        )
        mtm = MarkToMarket(store, clock, precision(store, clock))
        save_pipeline(store, clock, pipeline_graph(engine="rules"))
        rules = decision_runner(settings_for(path, artifacts), store, clock, worker_id="world")
        orders = {
            2: {"action": "OPEN", "symbol": "ETH", "side": "SHORT", "notional_usd": "900",
                "leverage": 3},
            3: {"action": "OPEN", "symbol": "BTC", "side": "LONG", "notional_usd": "90000",
                "leverage": 2},  # refused by the gates: above the position cap
            6: {"action": "CLOSE", "symbol": "ETH"},
        }  # fmt: skip
        for hour in range(1, 13):
            clock.set(clock.now_ms() + HOUR_MS)
            if hour in orders:
                desk.submit(manual, parse_intent(orders[hour]), idempotency_key=f"world:{hour}")
            rules.tick(clone_id=CLONE_ID, only_scheduled=True)
            mtm.run()

        spec = JOBS.get("housekeeping")
        env = JobEnv(settings=settings_for(path, artifacts), store=store, clock=clock,
                     worker_id="housekeeping@world:1")  # fmt: skip
        Worker(WorkerConfig(name=spec.name), spec.build(env), store=store, clock=clock).run_once()
        return World(path, artifacts, clock.now_ms(), llm_account, manual, run.run_id, llm_fill)
    finally:
        store.close()


def server_world(tmp_path_factory) -> World:
    """The world, built on first use in this test session (do not write to its file)."""
    base = tmp_path_factory.getbasetemp()
    if base not in _built:
        folder = tmp_path_factory.mktemp("server-world")
        world = _build(folder, market_template(tmp_path_factory))
        _built[base] = (folder, world)
    return _built[base][1]


def copy_world(world: World, folder: Path) -> World:
    """A writable copy of the world's store (and its artifacts) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = copy_store(world.path, folder / "world.db")
    artifacts = folder / "artifacts"
    shutil.copytree(world.artifacts, artifacts)
    return World(path, artifacts, *(getattr(world, f) for f in (
        "now_ms", "llm_account", "manual_account", "llm_run", "llm_fill")))  # fmt: skip


def world_clock(world: World) -> SimulatedClock:
    return SimulatedClock(world.now_ms)
