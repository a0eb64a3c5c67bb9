"""The PostgreSQL store against a real server: every migration set applies on an empty database,
the ledger stays append-only, money round-trips exactly, and the URL picks the backend."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autotrader.bootstrap import open_store
from autotrader.core.errors import OperationalError
from autotrader.core.postgres import PostgresStore

pytestmark = pytest.mark.postgres


def test_every_migration_set_applies_on_an_empty_postgres_database(
    empty_postgres_url, settings, tmp_path
):
    with open_store(settings, path=empty_postgres_url) as store:
        assert store.pending_migrations() == []
        applied = store.migration_status()
        postgres_tables = store.tables()
    with open_store(settings, path=tmp_path / "same.db") as sqlite_store:
        assert [(s.migration_set, s.name) for s in applied] == [
            (s.migration_set, s.name) for s in sqlite_store.migration_status()
        ]
        assert postgres_tables == sqlite_store.tables()


@pytest.fixture
def pg_store(postgres_url, settings):
    with open_store(settings, path=postgres_url) as store:
        yield store


def test_the_url_picks_the_postgres_backend(postgres_url, monkeypatch):
    monkeypatch.setenv("AUTOTRADER_DB", postgres_url)
    from autotrader.core.settings import load_settings

    with open_store(load_settings()) as store:
        assert isinstance(store, PostgresStore)
        assert store.pending_migrations() == []


def test_a_second_open_of_a_migrated_database_applies_nothing(pg_store, postgres_url, settings):
    with open_store(settings, path=postgres_url) as again:
        assert again.migrate() == []


def test_the_engine_day_books_the_same_ledger_on_both_backends(pg_store, tmp_path, settings):
    from autotrader.core.clock import SimulatedClock
    from autotrader.ledger.verify import verify_ledger
    from tests.fakes.ledger_scenario import build_scenario
    from tests.fakes.market import dump_prop_tables

    build_scenario(pg_store, SimulatedClock(0))
    with open_store(settings, path=tmp_path / "same.db") as sqlite_store:
        build_scenario(sqlite_store, SimulatedClock(0))
        # Money is canonical decimal text on both: the very same strings, row for row.
        assert dump_prop_tables(pg_store) == dump_prop_tables(sqlite_store)
    report = verify_ledger(pg_store)
    assert report.ok, report.violations
    assert (report.accounts, report.entries, report.fills) == (3, 22, 7)


def test_ledger_entries_are_append_only_on_postgres(pg_store):
    from autotrader.core.clock import SimulatedClock
    from tests.fakes.ledger_scenario import build_scenario

    build_scenario(pg_store, SimulatedClock(0))
    with pytest.raises(OperationalError, match="ledger entries are append-only"):
        pg_store.execute("UPDATE ledger_entries SET amount = '1' WHERE id = 1")
    with pytest.raises(OperationalError, match="ledger entries are append-only"):
        pg_store.execute("DELETE FROM ledger_entries WHERE id = 1")
    assert pg_store.scalar("SELECT COUNT(*) FROM ledger_entries") == 22


def test_a_failed_unit_of_work_leaves_nothing_behind(pg_store):
    def step() -> None:
        with pg_store.atomic():
            pg_store.insert("meta", {"key": "k", "value": "v", "updated_at": 1}, returning="key")
            with pg_store.atomic():  # a savepoint
                pg_store.execute("UPDATE meta SET value = 'w' WHERE key = 'k'")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        step()
    assert pg_store.query("SELECT * FROM meta WHERE key = 'k'") == []
    assert not pg_store.in_transaction


def test_a_unique_key_collision_reads_as_sqlite_says_it(pg_store):
    pg_store.insert("meta", {"key": "k", "value": "v", "updated_at": 1}, returning="key")
    assert (
        pg_store.insert_or_ignore(
            "meta", {"key": "k", "value": "x", "updated_at": 2}, returning="key"
        )
        is None
    )
    with pytest.raises(OperationalError, match="UNIQUE constraint failed: meta"):
        pg_store.insert("meta", {"key": "k", "value": "x", "updated_at": 2}, returning="key")


def test_values_round_trip_exactly(pg_store):
    amount = "123456789.000000000000000001"
    epoch_ms = 1_900_000_000_000  # beyond 32 bits: integers are BIGINT
    pg_store.upsert("meta", {"key": "m", "value": amount, "updated_at": epoch_ms}, key=("key",))
    row = pg_store.query_one("SELECT value, updated_at FROM meta WHERE key = :key", {"key": "m"})
    assert row == {"value": amount, "updated_at": epoch_ms}
    assert Decimal(row["value"]) == Decimal(amount)
    assert pg_store.scalar("SELECT SUM(updated_at) FROM meta WHERE key = ?", ["m"]) == epoch_ms


def test_claims_hand_each_row_to_one_claimer(pg_store, postgres_url, settings):
    for n in range(4):
        pg_store.insert(
            "meta", {"key": f"job{n}", "value": "queued", "updated_at": n}, returning="key"
        )
    with open_store(settings, path=postgres_url) as other:
        first = pg_store.claim(
            "meta",
            where="value = 'queued'",
            set_values={"value": "a"},
            order_by="updated_at",
            limit=3,
            key="key",
        )
        second = other.claim(
            "meta",
            where="value = 'queued'",
            set_values={"value": "b"},
            order_by="updated_at",
            limit=3,
            key="key",
        )
    assert [row["key"] for row in first] == ["job0", "job1", "job2"]
    assert [row["key"] for row in second] == ["job3"]
