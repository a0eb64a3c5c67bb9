"""``autotrader demo``: the embedded default run, end to end, in a store of its own."""

from __future__ import annotations

from typing import Annotated

import typer

from autotrader.cli import db as db_cli
from autotrader.cli import workers as workers_cli
from autotrader.cli._context import open_store, settings_for
from autotrader.cli._options import DbOption
from autotrader.cli._render import out, say


def _step(title: str) -> None:
    out.rule(f"[bold]{title}")


def demo_command(
    ctx: typer.Context,
    db: DbOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print only the final summary.")] = False,
) -> None:
    """Run the embedded default end to end: SQLite, bundled data, rules engine; no network.

    The demo writes a fresh store of its own (default: demo/demo.db in the data dir), never your
    configured one. Example: autotrader demo --db /tmp/demo.db
    """
    from autotrader.demo import default_demo_path, mark_demo_store, prepare_demo_store

    settings = settings_for(ctx)
    path = prepare_demo_store(
        db or default_demo_path(settings.data_dir), protected=settings.db_path
    )
    _step("1. store")
    store = open_store(ctx, path)
    mark_demo_store(store)
    say(f"fresh demo store at {path}")
    _step("2. one harness tick (housekeeping)")
    workers_cli.housekeeping(ctx, db=path, loop=False, interval=None, max_ticks=None)
    if not quiet:
        _step("3. db status")
        db_cli.status(ctx, db=path, as_json=False)
        _step("4. workers status")
        workers_cli.status(ctx, db=path, as_json=False)
    say(f"\ndemo finished; inspect it with: autotrader workers status --db {path}")
