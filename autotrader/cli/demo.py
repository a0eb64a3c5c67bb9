"""``autotrader demo``: the embedded default run, end to end, in a store of its own.

The bundled real candles are replayed on a simulated clock: the demo opens clone 42's sandbox
account a day before the data ends, trades it by hand through the gates (one intent is refused
on purpose), then lets the rules engine decide every hour while mark-to-market fires stops,
targets and time exits — and ends with the audit: ledger, leaderboard, verify, an equity plot.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Annotated

import typer

from autotrader.cli import clones_pipeline, decisions, prop_accounts
from autotrader.cli import db as db_cli
from autotrader.cli import ingest as ingest_cli
from autotrader.cli import prop as prop_cli
from autotrader.cli import workers as workers_cli
from autotrader.cli._context import open_store, settings_for, state
from autotrader.cli._options import DbOption
from autotrader.cli._render import out, say, styled
from autotrader.core.clock import HOUR_MS

CLONE_ID = 42


def _step(title: str) -> None:
    out.rule(styled(title, "bold"))


def _at(ctx: typer.Context, when_ms: int) -> None:
    """Move the demo's replay clock (every later command runs as of it)."""
    from autotrader.core.clock import iso_utc

    st = state(ctx)
    st.settings = st.settings.model_copy(update={"now": iso_utc(when_ms)})


def demo_command(
    ctx: typer.Context,
    db: DbOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print only the key results.")] = False,
) -> None:
    """Run the embedded default end to end: SQLite, bundled data, rules engine; no network.

    The demo writes a fresh store of its own (default: demo/demo.db in the data dir), never your
    configured one. Example: autotrader demo --db /tmp/demo.db
    """
    from autotrader.demo import (
        bundled_candles,
        default_demo_path,
        mark_demo_store,
        prepare_demo_store,
        replay_end_ms,
    )

    settings = settings_for(ctx)
    if not state(ctx).debug:
        # The demo narrates every step itself; per-tick worker logs would only repeat it.
        logging.getLogger("autotrader").setLevel(logging.WARNING)
    path = prepare_demo_store(
        db or default_demo_path(settings.data_dir), protected=settings.db_path
    )
    files = bundled_candles()
    end = replay_end_ms(files)
    start = end - 24 * HOUR_MS
    _at(ctx, start)

    _step("1. a fresh store, and one harness tick")
    store = open_store(ctx, path)
    mark_demo_store(store, now_ms=start)
    say(f"demo store: {path}")
    workers_cli.housekeeping(ctx, db=path, loop=False, interval=None, max_ticks=None)

    _step("2. market memory: bundled real BTC/ETH candles → 1h rollups and TA-Lib indicators")
    for symbol, (file, timeframe) in files.items():
        ingest_cli.import_file(ctx, path=file, symbol=symbol, timeframe=timeframe, db=path)
    if not quiet:
        ingest_cli.status(ctx, db=path, as_json=False)
        ingest_cli.latest(ctx, symbol="BTC", timeframe="1h", db=path, as_json=False)

    _step(f"3. clone {CLONE_ID}: its strategy graph, compiled, and the context packet for BTC")
    _demo_clone(ctx, store, path, quiet=quiet)

    _step(f"4. prop: clone {CLONE_ID}'s sandbox account, traded by hand through the gates")
    account = _demo_manual_trades(ctx, store, path, start)

    _step("5. replay the last 24 h: the rules engine decides hourly, mark-to-market fires exits")
    _demo_replay(ctx, store, path, start, account)

    _step("6. positions, the account, and the decisions")
    prop_cli.positions(ctx, account=account, status="all", db=path, as_json=False)
    prop_accounts.show(ctx, account_id=account, db=path, as_json=False)
    if not quiet:
        decisions.list_runs(ctx, clone_id=CLONE_ID, status=None, limit=12, db=path, as_json=False)

    _demo_audit(ctx, path, account)

    if not quiet:
        _step("db status and workers")
        db_cli.status(ctx, db=path, as_json=False)
        workers_cli.status(ctx, db=path, as_json=False)
    from autotrader.core.clock import iso_utc

    say(
        f"\ndemo finished. Explore it: AUTOTRADER_NOW={iso_utc(end)} "
        f"autotrader ledger show --db {path}"
    )


def _demo_clone(ctx: typer.Context, store, path, *, quiet: bool) -> None:
    from autotrader.clones.management import create_clone
    from autotrader.clones.pipelines import read_pipeline_file, save
    from autotrader.context.assemble import context_for
    from autotrader.demo import example_pipeline

    clock = settings_for(ctx).clock()
    create_clone(
        store, clock, name="demo-momentum", clone_id=CLONE_ID, display_name="Demo momentum"
    )
    version, _ = save(store, clock, CLONE_ID, read_pipeline_file(example_pipeline()))
    say(f"clone {CLONE_ID} created; pipeline {example_pipeline().name} saved as version {version}")
    clones_pipeline.compile_pipeline(ctx, clone_id=CLONE_ID, version=None, db=path, as_json=False)
    packet = context_for(store, clock, CLONE_ID, "BTC")
    if not quiet:
        out.print(packet.prompt, soft_wrap=True)
    say(
        f"context packet for BTC: ~{packet.token_estimate} tokens, "
        f"sha256 {packet.prompt_hash[:16]}…"
    )


def _demo_manual_trades(ctx: typer.Context, store, path, start: int) -> int:
    from autotrader.decisions.accounts import ensure_account
    from autotrader.demo import demo_orders

    account, _ = ensure_account(store, settings_for(ctx).clock(), CLONE_ID)
    say(f"sandbox account {account}: 10,000 USDC, default rules")
    for order in demo_orders(store, start):
        say("\n", styled(order.pop("why"), "bold"))
        # A rejection is the point of the third order: its gate and reason are printed.
        with contextlib.suppress(typer.Exit):
            prop_cli.order(
                ctx, account=account, db=path, as_json=False, key=None, time_exit=None, **order
            )
    return account


def _demo_replay(ctx: typer.Context, store, path, start: int, account: int) -> None:
    from autotrader.bootstrap import decision_runner, precision
    from autotrader.core.clock import SimulatedClock, iso_utc
    from autotrader.prop.mtm import MarkToMarket

    clock = SimulatedClock(start)
    runner = decision_runner(settings_for(ctx, path), store, clock, worker_id="demo")
    mtm = MarkToMarket(store, clock, precision(store, clock))
    for _ in range(24):
        clock.advance(ms=HOUR_MS)
        outcome = runner.tick(clone_id=CLONE_ID, only_scheduled=True)
        report = mtm.run([account])
        when = iso_utc(clock.now_ms())
        for run in outcome.runs:
            for action in run.actions:
                if action["action"] == "HOLD":
                    continue
                fill = action.get("fill")
                detail = f"{fill['side']} {fill['qty']} @ {fill['price']}" if fill else ""
                say(
                    f"{when}  decision {run.run_id}: {run.symbol} {action['action']} "
                    f"→ {action['status']} {detail or action.get('reject_code') or ''}"
                )
        if report.exits:
            say(f"{when}  mark-to-market: {report.summary()}")
    _at(ctx, clock.now_ms())
    say(f"replay done at {iso_utc(clock.now_ms())}")


def _demo_audit(ctx: typer.Context, path, account: int) -> None:
    """The audit view: what happened, why, and does it add up."""
    from autotrader.cli import ledger as ledger_cli

    _step(f"7. audit: the ledger of clone {CLONE_ID}'s account, the leaderboard, verify, a plot")
    ledger_cli.show(ctx, account=account, clone_id=None, kind=None, symbol=None, since=None,
                    until=None, limit=15, page=1, totals=True, as_csv=False, db=path,
                    as_json=False)  # fmt: skip
    ledger_cli.leaderboard(ctx, kind=None, by="account", sort="return_pct", ascending=False,
                           limit=None, db=path, as_json=False)  # fmt: skip
    ledger_cli.verify(ctx, account=None, db=path, as_json=False)
    png = path.with_name(f"{path.stem}-equity-{account}.png")
    ledger_cli.plot(ctx, account=account, compare=None, out=png, db=path)
