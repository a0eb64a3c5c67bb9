"""A realistic store for tests that throw input at every command: the demo's own run.

``autotrader demo`` fills a fresh store with everything a user's store holds — the asset
registry, candles and indicators, clone 42 with its pipeline, a traded sandbox account (fills,
positions, ledger entries, snapshots), 48 decision runs, experiments, artifacts, a worker
heartbeat and a tick — in about ten seconds, so a test module builds it once
(:func:`build_demo_store`) and copies it per case (:func:`copy_demo_store`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

CLONE_ID = 42
ACCOUNT_ID = 1
# Clone 42's accounts end finalized (the demo's lifecycle chapter); the variant grid's
# Contrarian account (clone 45) is still trading, with nothing open.
ACTIVE_ACCOUNT_ID = 4
# The demo's replay ends at the close of its last bundled bar: reads run as of then.
DEMO_NOW = "2026-02-19T19:20:00Z"


def build_demo_store(folder: Path) -> Path:
    """Run the demo into ``folder/demo.db`` (checkpointed, no ``-wal`` left) and return it."""
    from autotrader.cli.app import app

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "demo.db"
    # Built outside the per-test isolation (once per module): shut out the developer's settings.
    env: dict[str, str | None] = {
        name: None for name in os.environ if name.startswith(("AUTOTRADER_", "OPENAI_"))
    }
    env["AUTOTRADER_DATA_DIR"] = str(folder / "data")
    with contextlib.chdir(folder):
        result = CliRunner().invoke(app, ["demo", "--db", str(path), "--quiet"], env=env)
    assert result.exit_code == 0, result.output
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def copy_demo_store(source: Path, dest: Path) -> Path:
    """A byte copy of a built demo store at ``dest``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)
    return dest
