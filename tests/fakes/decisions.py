"""A decision-loop world for tests: the bundled BTC/ETH candles in a store, clone 42 with a
strategy graph, a replay clock, and the real runner wired from settings.

Importing the bundled candles and deriving their indicators takes about a second, so the store is
built once per test session (:func:`market_template`) and each test gets a copy
(:func:`copy_store`). The template holds the asset registry, the candles with their 1h rollups
and indicators, and clone 42 with the demo's rules pipeline (BTC and ETH, cadence 300 s); it has
no prop account yet.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autotrader.core.clock import SimulatedClock
from autotrader.core.db import Store
from autotrader.schema import MIGRATION_SETS

HOUR = 3_600_000
CLONE_ID = 42
CADENCE_S = 300
STRATEGY_ID = "trend-rules"
EXAMPLE_PIPELINE = Path(__file__).resolve().parents[2] / "examples/pipelines/btc-eth-rules.json"

_templates: dict[Path, Path] = {}


def replay_end() -> int:
    """The close of the last bundled bar (epoch ms): the newest instant the data covers."""
    from autotrader.demo import bundled_candles, replay_end_ms

    return replay_end_ms(bundled_candles())


def replay_start() -> int:
    """A day before the data ends (where the demo's audition starts); on a 5 min bucket."""
    return replay_end() - 24 * HOUR


def replay_clock(offset_ms: int = 0) -> SimulatedClock:
    """A simulated clock at :func:`replay_start` plus ``offset_ms``."""
    return SimulatedClock(replay_start() + offset_ms)


def open_test_store(path: Path) -> Store:
    """A store at ``path`` with every migration set, without reading settings."""
    return Store(path, migrations=MIGRATION_SETS, busy_timeout_ms=10_000)


def pipeline_graph(
    *,
    engine: str = "rules",
    symbols: tuple[str, ...] = ("BTC", "ETH"),
    cadence_s: int = CADENCE_S,
    engine_params: dict[str, Any] | None = None,
    max_candidates: int = 10,
) -> dict[str, Any]:
    """The demo's example graph with the engine, assets, cadence and parameters replaced."""
    graph = copy.deepcopy(json.loads(EXAMPLE_PIPELINE.read_text(encoding="utf-8")))
    nodes = {node["id"]: node for node in graph["nodes"]}
    nodes["majors"]["explicitlyEnabledSymbols"] = list(symbols)
    prompt = nodes[STRATEGY_ID]
    prompt["engine"] = engine
    prompt["decisionCadenceSec"] = cadence_s
    prompt["candidatePolicy"]["maxCandidates"] = max_candidates
    if engine_params is not None:
        prompt["engineParams"] = engine_params
    elif engine != "rules":
        prompt["engineParams"] = {"granularity": "1h"}
    return graph


def save_pipeline(
    store: Store, clock: SimulatedClock, graph: dict, clone_id: int = CLONE_ID
) -> int:
    """Save ``graph`` as the clone's newest pipeline version and return the version."""
    from autotrader.clones.pipelines import save

    version, _warnings = save(store, clock, clone_id, graph)
    return version


def build_template(path: Path) -> Path:
    """Write the template store (see the module docstring) to ``path``."""
    from autotrader.clones.management import create_clone
    from autotrader.demo import bundled_candles
    from autotrader.market.ingest import Ingestor
    from autotrader.market.registry import ensure_assets

    store = open_test_store(path)
    try:
        clock = SimulatedClock(replay_end())
        ensure_assets(store, clock)
        ingestor = Ingestor(store, clock)
        for symbol, (file, timeframe) in bundled_candles().items():
            ingestor.import_file(file, symbol=symbol, timeframe=timeframe)
        create_clone(store, clock, name="demo-momentum", clone_id=CLONE_ID)
        save_pipeline(store, clock, pipeline_graph(engine_params=_example_params()))
    finally:
        store.close()
    return path


def _example_params() -> dict[str, Any]:
    graph = json.loads(EXAMPLE_PIPELINE.read_text(encoding="utf-8"))
    return next(n for n in graph["nodes"] if n["id"] == STRATEGY_ID)["engineParams"]


def market_template(tmp_path_factory) -> Path:
    """The template store, built on first use in this test session."""
    base = tmp_path_factory.getbasetemp()
    if base not in _templates:
        folder = tmp_path_factory.mktemp("decisions-template")
        _templates[base] = build_template(folder / "template.db")
    return _templates[base]


def copy_store(template: Path, dest: Path) -> Path:
    """A consistent copy of the template store at ``dest`` (SQLite's backup API)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(template)) as src, closing(sqlite3.connect(dest)) as dst:
        src.backup(dst)
    return dest


def sandbox_account(store: Store, clock: SimulatedClock, clone_id: int = CLONE_ID) -> int:
    """The clone's sandbox prop account (10,000 USDC, default rules), opened if needed."""
    from autotrader.decisions.accounts import ensure_account

    account_id, _opened = ensure_account(store, clock, clone_id)
    return account_id


def make_runner(store: Store, clock: SimulatedClock, *, worker_id: str = "test", **overrides):
    """The real decision runner (bootstrap wiring) over ``store``, settings from the
    environment; ``overrides`` set runner attributes (``stale_after_ms``, ``concurrency``...)."""
    from autotrader.bootstrap import decision_runner
    from autotrader.core.settings import load_settings

    runner = decision_runner(load_settings(), store, clock, worker_id=worker_id)
    for name, value in overrides.items():
        setattr(runner, name, value)
    return runner


def count(store: Store, sql: str, params: tuple = ()) -> int:
    """The single integer a ``SELECT COUNT(*) ...`` returns."""
    return store.scalar(sql, params)


def runs(store: Store, **where: Any) -> list[dict]:
    """Decision runs matching ``column=value`` filters, in id order."""
    clause = " AND ".join(f"{column} = ?" for column in where) or "1 = 1"
    return store.query(
        f"SELECT * FROM decision_runs WHERE {clause} ORDER BY id", tuple(where.values())
    )


def actions(store: Store, run_id: int) -> list[dict]:
    return store.query("SELECT * FROM decision_actions WHERE run_id = ? ORDER BY seq", (run_id,))


@dataclass
class World:
    """One test's copy of the template: its store, path, replay clock and clone 42's account."""

    store: Store
    clock: SimulatedClock
    path: Path
    account_id: int


def world(template: Path, folder: Path, *, with_account: bool = True) -> World:
    """A fresh copy of ``template`` in ``folder`` at :func:`replay_start` (close its store)."""
    path = copy_store(template, folder / "decisions.db")
    store = open_test_store(path)
    clock = replay_clock()
    account_id = sandbox_account(store, clock) if with_account else 0
    return World(store, clock, path, account_id)
