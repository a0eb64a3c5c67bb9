"""``autotrader demo``: the embedded default run, end to end, in a store of its own."""

from __future__ import annotations

import contextlib
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
    _demo_trading(ctx, store, path, replay_end_ms(files), quiet=quiet)
    if not quiet:
        _step("db status")
        db_cli.status(ctx, db=path, as_json=False)
        _step("workers status")
        workers_cli.status(ctx, db=path, as_json=False)
    say(
        "\ndemo finished; explore it with: "
        f"AUTOTRADER_NOW={now} autotrader ingest latest --symbol ETH --db {path}"
    )


def _at(ctx: typer.Context, when_ms: int) -> None:
    """Move the demo's replay clock."""
    from autotrader.core.clock import iso_utc

    st = state(ctx)
    st.settings = st.settings.model_copy(update={"now": iso_utc(when_ms)})


def _demo_trading(ctx: typer.Context, store, path, end_ms: int, *, quiet: bool) -> None:
    """Open a sandbox account a day before the data ends, trade through the gates (one intent
    is rejected on purpose), then replay the last day hour by hour with mark-to-market."""
    from autotrader.bootstrap import precision
    from autotrader.cli import prop as prop_cli
    from autotrader.cli import prop_accounts
    from autotrader.core.clock import iso_utc
    from autotrader.core.money import to_decimal
    from autotrader.demo import demo_orders
    from autotrader.prop.accounts import open_account
    from autotrader.prop.models import AccountRules
    from autotrader.prop.mtm import MarkToMarket

    start = end_ms - 24 * 3_600_000
    _at(ctx, start)
    _step("6. prop: open a sandbox account for clone 42 and trade through the gates")
    account = open_account(
        store,
        settings_for(ctx).clock(),
        clone_id=42,
        kind="sandbox",
        starting_balance=to_decimal("10000"),
        rules=AccountRules(),
    )
    say(f"opened sandbox account {account} with 10,000 USDC")
    for order in demo_orders(store, start):
        say(f"\n[bold]{order.pop('why')}[/bold]")
        # A rejection is the point of the third order: its gate and reason are printed.
        with contextlib.suppress(typer.Exit):
            prop_cli.order(
                ctx, account=account, db=path, as_json=False, key=None, time_exit=None, **order
            )
    _step("7. replay the last 24 h: mark-to-market every hour (stops and targets fire)")
    for hour in range(1, 25):
        _at(ctx, start + hour * 3_600_000)
        clock = settings_for(ctx).clock()
        report = MarkToMarket(store, clock, precision(store, clock)).run([account])
        if report.exits or hour == 24:
            say(f"{iso_utc(clock.now_ms())}  {report.summary()}")
    _step("8. positions and the account's snapshot")
    prop_cli.positions(ctx, account=account, status="all", db=path, as_json=False)
    prop_accounts.show(ctx, account_id=account, db=path, as_json=quiet)
