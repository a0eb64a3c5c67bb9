"""``db status|migrate|backup`` on PostgreSQL, and ``db copy`` moving a store between backends
both ways with ``ledger verify`` passing on the copy."""

from __future__ import annotations

import shutil

import pytest

from autotrader.bootstrap import open_store
from autotrader.core.clock import SimulatedClock
from tests.fakes.ledger_scenario import build_scenario
from tests.fakes.market import dump_prop_tables

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def traded_sqlite(tmp_path, settings):
    """A SQLite store after the engine's fixed day: 3 accounts, 22 ledger entries, 7 fills."""
    path = tmp_path / "traded.db"
    with open_store(settings, path=path) as store:
        build_scenario(store, SimulatedClock(0))
    return path


def test_db_copy_moves_a_store_to_postgres_and_back_and_verifies_each_copy(
    cli, traded_sqlite, postgres_url, empty_postgres_url, tmp_path, settings
):
    to_postgres = cli("db", "copy", "--db", str(traded_sqlite), "--to", empty_postgres_url)
    assert to_postgres.exit_code == 0, to_postgres.stderr
    assert "ledger OK: 3 accounts, 22 entries" in to_postgres.output

    back = tmp_path / "back.db"
    to_sqlite = cli("db", "copy", "--db", empty_postgres_url, "--to", str(back))
    assert to_sqlite.exit_code == 0, to_sqlite.stderr
    assert "ledger OK: 3 accounts, 22 entries" in to_sqlite.output

    with (
        open_store(settings, path=traded_sqlite) as original,
        open_store(settings, path=empty_postgres_url) as on_postgres,
        open_store(settings, path=back) as round_trip,
    ):
        assert dump_prop_tables(on_postgres) == dump_prop_tables(original)
        assert dump_prop_tables(round_trip) == dump_prop_tables(original)
        # The copy goes on: the next account gets the next id, not a copied one.
        next_id = on_postgres.insert(
            "prop_accounts", {**on_postgres.query_one("SELECT * FROM prop_accounts"), "id": None}
        )
        assert next_id == 4


def test_db_copy_refuses_a_target_that_is_not_new(cli, traded_sqlite, empty_postgres_url):
    assert cli("db", "copy", "--db", str(traded_sqlite), "--to", empty_postgres_url).exit_code == 0
    again = cli("db", "copy", "--db", str(traded_sqlite), "--to", empty_postgres_url)
    assert again.exit_code == 1
    assert "is not a new store" in again.stderr
    assert again.stderr.count("\n") == 1


def test_db_migrate_and_status_work_on_postgres(cli, empty_postgres_url):
    migrated = cli("db", "migrate", "--db", empty_postgres_url)
    assert migrated.exit_code == 0, migrated.stderr
    status = cli("db", "status", "--db", empty_postgres_url, "--json")
    assert status.exit_code == 0, status.stderr
    assert '"journal_mode": "postgresql"' in status.output
    assert '"applied_at": null' not in status.output


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_db_backup_dumps_a_postgres_store_with_pg_dump(cli, postgres_url, tmp_path):
    target = tmp_path / "store.dump"
    result = cli("db", "backup", str(target), "--db", postgres_url)
    assert result.exit_code == 0, result.stderr
    assert target.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
