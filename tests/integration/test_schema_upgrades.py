"""Migrations that rebuild a table to widen a CHECK keep every row, index and foreign key of a
store written by the version before them."""

from __future__ import annotations

import pytest

from autotrader.core._sqlite_utils import Migrations
from autotrader.core.db import Store
from autotrader.core.errors import OperationalError
from autotrader.desk import migrations as desk_migrations
from autotrader.llm import migrations as llm_migrations
from autotrader.schema import MIGRATION_SETS


def released_before(migrations: Migrations, name: str) -> Migrations:
    """The set as it was released before migration ``name``."""
    older = Migrations(migrations.name)
    for migration in migrations._migrations:
        if migration.name == name:
            break
        older._migrations.append(migration)
    return older


def older_store(path, *, llm_before: str, desk_before: str) -> Store:
    sets = []
    for migration_set in MIGRATION_SETS:
        if migration_set is llm_migrations.migrations:
            migration_set = released_before(migration_set, llm_before)
        elif migration_set is desk_migrations.migrations:
            migration_set = released_before(migration_set, desk_before)
        sets.append(migration_set)
    return Store(path, migrations=tuple(sets))


def indexes(store: Store, table: str) -> set[str]:
    rows = store.query(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        (table,),
    )
    return {row["name"] for row in rows}


@pytest.fixture
def upgraded(tmp_path):
    path = tmp_path / "older.db"
    old = older_store(path, llm_before="m002_desk_roles", desk_before="m004_conversations")
    old.execute(
        "INSERT INTO invocations (role, model, api, schema_name, request_hash, prompt_hash,"
        " status, created_at) VALUES ('single', 'm', 'chat', 'S', 'r', 'p', 'ok', 1)"
    )
    old.execute(
        "INSERT INTO tool_calls (invocation_id, name, arguments, created_at)"
        " VALUES (1, 'HOLDING', '{}', 1)"
    )
    old.execute(
        "INSERT INTO desk_workers (name, state, failures, updated_at)"
        " VALUES ('initiative', 'disabled', 3, 1)"
    )
    before = {t: indexes(old, t) for t in ("invocations", "tool_calls")}
    old.close()
    store = Store(path, migrations=MIGRATION_SETS)
    yield store, before
    store.close()


def test_the_desk_roles_keep_every_invocation_its_tool_calls_and_their_indexes(upgraded):
    store, before = upgraded
    assert store.query("SELECT role, model FROM invocations") == [{"role": "single", "model": "m"}]
    assert store.query("SELECT invocation_id, name FROM tool_calls") == [
        {"invocation_id": 1, "name": "HOLDING"}
    ]
    assert {t: indexes(store, t) for t in before} == before
    store.execute(
        "INSERT INTO invocations (role, model, api, schema_name, request_hash, prompt_hash,"
        " status, created_at) VALUES ('roundtable', 'm', 'chat', 'S', 'r', 'p', 'ok', 2)"
    )
    with pytest.raises(OperationalError, match="FOREIGN KEY"):
        store.execute(
            "INSERT INTO tool_calls (invocation_id, name, arguments, created_at)"
            " VALUES (99, 'HOLDING', '{}', 1)"
        )
    assert store.foreign_key_problems() == []


def test_the_roundtable_worker_joins_the_breakers_and_the_old_rows_stay(upgraded):
    store, _ = upgraded
    assert store.query("SELECT name, state, failures FROM desk_workers") == [
        {"name": "initiative", "state": "disabled", "failures": 3}
    ]
    store.execute(
        "INSERT INTO desk_workers (name, state, updated_at) VALUES ('roundtable', 'enabled', 2)"
    )
    columns = {row["name"] for row in store.query("PRAGMA table_info(desk_roundtables)")}
    assert {"slot", "claimed_by", "turns_planned", "summary"} <= columns
    assert "conversation_history" not in columns
