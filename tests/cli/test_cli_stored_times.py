"""Reads survive times already stored that no calendar holds.

Before the replay clock was bounded, a run under ``AUTOTRADER_NOW=9999-12-31T23:00:00Z`` stored
cadence buckets, snapshots and exit times in the year 10000, and every command that printed one
failed afterwards, under any clock. Such a store is built here from the demo's (the newest row
time of every table becomes the first millisecond of year 10000) and each reader must still answer.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from tests.fakes.demo_store import ACCOUNT_ID, CLONE_ID, DEMO_NOW, build_demo_store, copy_demo_store

YEAR_10000_MS = 253_402_300_800_000
# Candles are left alone: future and absurd candles are the market store's own concern.
_SKIPPED = {"candles", "indicators", "_sqlite_migrations"}


@pytest.fixture(scope="module")
def far_future_store(tmp_path_factory):
    path = build_demo_store(tmp_path_factory.mktemp("stored-times"))
    with closing(sqlite3.connect(path)) as db:
        # The append-only tables (the ledger, the economy) refuse edits: as if an older build
        # wrote these rows, their triggers are lifted for the edit and put back.
        triggers = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        ).fetchall()
        for name, _ in triggers:
            db.execute(f"DROP TRIGGER {name}")
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in set(tables) - _SKIPPED:
            columns = [
                info[1]
                for info in db.execute(f"PRAGMA table_info({table})")
                if info[2].upper() == "INTEGER"
                and (info[1].endswith("_at") or info[1] in ("time", "as_of"))
            ]
            for column in columns:
                # OR IGNORE: a row whose own CHECK orders its times (a race ends after it
                # starts) keeps the one edit it cannot take.
                db.execute(
                    f"UPDATE OR IGNORE {table} SET {column} = ? "
                    f"WHERE {column} = (SELECT MAX({column}) FROM {table})",
                    (YEAR_10000_MS,),
                )
        for _, sql in triggers:
            db.execute(sql)
        db.commit()
    return path


READERS = [
    ("ledger", "show"),
    ("ledger", "show", "--json"),
    ("ledger", "show", "--csv"),
    ("ledger", "trades"),
    ("ledger", "trades", "--json"),
    ("ledger", "trace", "fill:10"),
    ("ledger", "trace", "run:48"),
    ("ledger", "verify"),
    ("ledger", "export", "--format", "csv"),
    ("ledger", "export", "--format", "json", "--what", "snapshots"),
    ("ledger", "leaderboard"),
    ("ledger", "leaderboard", "--json"),
    ("ledger", "plot", "--account", str(ACCOUNT_ID), "--out", "equity.png"),
    ("decisions", "list"),
    ("decisions", "show", "48"),
    ("decisions", "show", "48", "--json"),
    ("prop", "positions", "--status", "all"),
    ("prop", "accounts", "list"),
    ("prop", "accounts", "show", str(ACCOUNT_ID)),
    ("workers", "status"),
    ("clones", "list"),
    ("clones", "pipeline", "history", "--clone-id", str(CLONE_ID)),
    ("ingest", "status"),
    ("db", "status"),
]


@pytest.mark.slow  # builds the demo store once
@pytest.mark.parametrize("now", [DEMO_NOW, None], ids=["replay-clock", "wall-clock"])
@pytest.mark.parametrize("args", READERS, ids=" ".join)
def test_a_reader_answers_over_times_no_calendar_holds(
    cli, far_future_store, tmp_path, monkeypatch, args, now
):
    db = copy_demo_store(far_future_store, tmp_path / "store.db")
    if now:
        monkeypatch.setenv("AUTOTRADER_NOW", now)
    result = cli(*args, "--db", str(db))
    assert "unexpected" not in result.stderr, result.stderr
    assert "Traceback" not in result.output
    if args == ("ledger", "verify"):  # it answers that those times are out of range
        assert result.exit_code == 1, result.output
        assert "time_range" in result.output
    else:
        assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_a_time_no_calendar_holds_is_shown_as_invalid(cli, far_future_store, tmp_path):
    db = copy_demo_store(far_future_store, tmp_path / "store.db")
    result = cli("ledger", "show", "--db", str(db))
    assert f"<invalid time {YEAR_10000_MS}>" in result.stdout
