"""Eight ``prop decisions-worker`` processes (standing in for hosts) on one PostgreSQL database:
every due run is created once and fills at most once, and ``ledger verify`` passes after."""

from __future__ import annotations

import pytest

from autotrader.bootstrap import open_store
from autotrader.core.store_copy import copy_store
from autotrader.ledger.verify import verify_ledger
from tests.fakes.decisions import market_template
from tests.integration.test_decisions_concurrency import TICKS, prepare, race

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.mark.xdist_group("processes")  # on one worker, one at a time: they start processes
def test_eight_decision_workers_on_postgres_create_no_duplicate_runs_or_fills(
    tmp_path, tmp_path_factory, empty_postgres_url, settings
):
    prepared = tmp_path / "race.db"
    due = prepare(market_template(tmp_path_factory), prepared)
    with (
        open_store(settings, path=prepared) as source,
        open_store(settings, path=empty_postgres_url) as target,
    ):
        copy_store(source, target)

    finished = race(empty_postgres_url, tmp_path / "home", 8)

    for proc in finished:
        assert proc.returncode == 0, proc.stderr
        assert f"stopped (max_ticks) after {TICKS} ticks, 0 failed" in proc.stdout
    with open_store(settings, path=empty_postgres_url) as store:
        q = store.query
        assert q("SELECT COUNT(*) AS n FROM decision_runs") == [{"n": due}]
        assert (
            q(
                "SELECT account_id, strategy_id, symbol, bucket FROM decision_runs"
                " GROUP BY 1, 2, 3, 4 HAVING COUNT(*) > 1"
            )
            == []
        )
        assert q("SELECT DISTINCT status, attempts FROM decision_runs") == [
            {"status": "succeeded", "attempts": 1}
        ]
        assert q("SELECT idempotency_key FROM prop_fills GROUP BY 1 HAVING COUNT(*) > 1") == []
        assert q("SELECT COUNT(*) AS n FROM prop_fills") == [{"n": due}]
        report = verify_ledger(store)
        assert report.ok, report.violations
