"""One compiled plan per pipeline version: the scheduler and the request builder share it
across ticks, and a new version, variant or registry write compiles afresh."""

from __future__ import annotations

import pytest

from autotrader.clones.management import create_clone
from autotrader.clones.pipelines import compiled
from autotrader.clones.plan_cache import CompiledPlans
from autotrader.core.errors import NotFoundError
from autotrader.market import repo as market_repo
from tests.fakes.decisions import (
    CADENCE_S,
    CLONE_ID,
    make_runner,
    market_template,
    pipeline_graph,
    save_pipeline,
    world,
)


@pytest.fixture
def w(tmp_path, tmp_path_factory):
    made = world(market_template(tmp_path_factory), tmp_path)
    yield made
    made.store.close()


def test_the_same_version_is_compiled_once(w):
    plans = CompiledPlans()

    first = plans.get(w.store, CLONE_ID, 1)

    assert plans.get(w.store, CLONE_ID, 1) is first
    assert first == compiled(w.store, CLONE_ID, 1)


def test_each_version_has_its_own_plan(w):
    plans = CompiledPlans()
    first = plans.get(w.store, CLONE_ID, 1)

    version = save_pipeline(w.store, w.clock, pipeline_graph(symbols=("BTC",)))
    newer = plans.get(w.store, CLONE_ID, version)

    assert [e.symbol for e in newer.strategies[0].universe] == ["BTC"]
    assert plans.get(w.store, CLONE_ID, 1) is first


def test_a_registry_write_since_the_last_tick_compiles_afresh(w):
    plans = CompiledPlans()
    plans.start_tick(w.store)
    first = plans.get(w.store, CLONE_ID, 1)

    plans.start_tick(w.store)
    unchanged = plans.get(w.store, CLONE_ID, 1)
    w.clock.advance(ms=1000)
    with w.store.atomic():
        market_repo.upsert_assets(
            w.store, [market_repo.get_asset(w.store, "BTC")], now_ms=w.clock.now_ms()
        )
    plans.start_tick(w.store)
    after_sync = plans.get(w.store, CLONE_ID, 1)

    assert unchanged is first
    assert after_sync is not first
    assert after_sync == first


def test_a_clone_without_a_pipeline_or_none_at_all_is_the_usual_error(w):
    create_clone(w.store, w.clock, name="no-graph-yet", clone_id=7)
    plans = CompiledPlans()

    with pytest.raises(NotFoundError, match="clone 7 has no pipeline yet"):
        plans.get(w.store, 7, None)
    with pytest.raises(NotFoundError, match="clone 12345 does not exist"):
        plans.get(w.store, 12345, 1)


def test_the_runner_compiles_each_version_once_across_ticks(w):
    compiled_versions: list[int] = []

    def counting_compile(store, clone_id, version):
        compiled_versions.append(version)
        return compiled(store, clone_id, version)

    plans = CompiledPlans(counting_compile)
    runner = make_runner(w.store, w.clock, plans=plans)
    runner.build_request.plans = plans
    for _ in range(3):
        outcome = runner.tick()
        assert outcome.runs
        w.clock.advance(seconds=CADENCE_S)

    assert compiled_versions == [1]
