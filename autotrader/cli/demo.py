"""``autotrader demo``: the embedded default run, end to end, in a store of its own."""

from __future__ import annotations

from typing import Annotated

import typer

from autotrader.cli import db as db_cli
from autotrader.cli import ingest as ingest_cli
from autotrader.cli import workers as workers_cli
from autotrader.cli._context import open_store, settings_for, state
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
    configured one, and replays the bundled candles as of their last bar. Example:
    autotrader demo --db /tmp/demo.db
    """
    from autotrader.core.clock import iso_utc
    from autotrader.demo import (
        bundled_candles,
        default_demo_path,
        mark_demo_store,
        prepare_demo_store,
        replay_end_ms,
    )

    settings = settings_for(ctx)
    path = prepare_demo_store(
        db or default_demo_path(settings.data_dir), protected=settings.db_path
    )
    files = bundled_candles()
    # Replay: every later step runs as of the close of the last bundled bar.
    now = iso_utc(replay_end_ms(files))
    state(ctx).settings = settings.model_copy(update={"now": now})

    _step("1. store")
    store = open_store(ctx, path)
    mark_demo_store(store)
    say(f"fresh demo store at {path}; replay clock {now}")
    _step("2. one harness tick (housekeeping)")
    workers_cli.housekeeping(ctx, db=path, loop=False, interval=None, max_ticks=None)
    _step("3. market memory: import bundled real candles, derive 1h and indicators")
    for symbol, (file, timeframe) in files.items():
        ingest_cli.import_file(ctx, path=file, symbol=symbol, timeframe=timeframe, db=path)
    if not quiet:
        _step("4. ingest status")
        ingest_cli.status(ctx, db=path, as_json=False)
        _step("5. ingest latest --symbol BTC (what a strategy sees)")
        ingest_cli.latest(ctx, symbol="BTC", timeframe=None, db=path, as_json=False)
        _step("6. db status")
        db_cli.status(ctx, db=path, as_json=False)
        _step("7. workers status")
        workers_cli.status(ctx, db=path, as_json=False)
    say(
        "\ndemo finished; explore it with: "
        f"AUTOTRADER_NOW={now} autotrader ingest latest --symbol ETH --db {path}"
    )
