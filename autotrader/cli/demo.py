"""``autotrader demo``: the embedded default run, end to end, in a store of its own.

The bundled real candles are replayed on a simulated clock: the demo opens clone 42's sandbox
account two days before the data ends, trades it by hand through the gates (one intent is
refused on purpose), sets up a grid of the four strategy variants beside it (the rules engine
standing in for models, on a registry entry named so), then lets the rules engine decide every
hour for a day while mark-to-market fires stops, targets and time exits; the desk trades the
same day; then the audit (ledger, leaderboard, verify, an equity plot, the grid's standings and
NAV by variant) and the lifecycle (``cli.demo_lifecycle``): clone 42's audition fee is verified
by hand, it auditions over the last bundled day, passes or fails with every criterion printed,
and — when it passes — enters the arena.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Annotated

import typer

from autotrader.cli import arena_models, clones_pipeline, decisions, prop_accounts
from autotrader.cli import db as db_cli
from autotrader.cli import ingest as ingest_cli
from autotrader.cli import prop as prop_cli
from autotrader.cli import workers as workers_cli
from autotrader.cli._context import open_store, settings_for, state
from autotrader.cli._options import DbOption
from autotrader.cli._render import out, say, styled
from autotrader.cli.demo_desk import run_desk_day
from autotrader.core.clock import HOUR_MS

CLONE_ID = 42
DEMO_OWNER = "demo-owner"
DEMO_OWNER_ADDRESS = "0x4242424242424242424242424242424242424242"  # a demo address, no keys
GRID = "variants"
STAND_IN = "rules-stand-in"  # the registry entry the grid's clones run: no model is called


class _Chapters:
    """Numbers the demo's chapters in the order they run (features add chapters without
    renumbering each other's)."""

    def __init__(self) -> None:
        self.count = 0

    def reset(self) -> None:
        self.count = 0

    def next(self) -> int:
        self.count += 1
        return self.count


_chapters = _Chapters()


def step(title: str, *, numbered: bool = True) -> None:
    out.rule(styled(f"{_chapters.next()}. {title}" if numbered else title, "bold"))


def move_clock(ctx: typer.Context, when_ms: int) -> None:
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
    from autotrader.core.errors import InvalidInputError
    from autotrader.core.store_url import is_postgres
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
    if db is not None and is_postgres(db):
        raise InvalidInputError("the demo runs in a SQLite store of its own: give --db a file path")
    path = prepare_demo_store(
        Path(db) if db else default_demo_path(settings.data_dir), protected=settings.db_path
    )
    files = bundled_candles()
    end = replay_end_ms(files)
    start = end - 48 * HOUR_MS  # the decisions day; the audition takes the last day
    move_clock(ctx, start)

    _chapters.reset()
    step("a fresh store, and one harness tick")
    store = open_store(ctx, path)
    mark_demo_store(store, now_ms=start)
    say(f"demo store: {path}")
    workers_cli.housekeeping(ctx, db=path, loop=False, interval=None, max_ticks=None)

    step("market memory: bundled real BTC/ETH candles → 1h rollups and TA-Lib indicators")
    for symbol, (file, timeframe) in files.items():
        ingest_cli.import_file(ctx, path=file, symbol=symbol, timeframe=timeframe, db=path)
    if not quiet:
        ingest_cli.status(ctx, db=path, as_json=False)
        ingest_cli.latest(ctx, symbol="BTC", timeframe="1h", db=path, as_json=False)

    step(f"clone {CLONE_ID}: its strategy graph, compiled, and the context packet for BTC")
    _demo_clone(ctx, store, path, quiet=quiet)

    step(f"prop: clone {CLONE_ID}'s sandbox account, traded by hand through the gates")
    account = _demo_manual_trades(ctx, store, path, start)

    step("a variant grid beside it: the four personas, the rules engine standing in for models")
    _demo_grid(ctx, store, path)

    from autotrader.cli.demo_arena import RaceDay, hopefuls_chapter, result_chapter

    hopefuls_chapter(ctx, store, path)

    step("replay a day: the rules engine decides hourly, mark-to-market fires exits")
    _demo_replay(ctx, store, path, start)

    step(f"clone {CLONE_ID}'s positions, its account, and its decisions")
    prop_cli.positions(ctx, account=account, status="all", db=path, as_json=False)
    prop_accounts.show(ctx, account_id=account, db=path, as_json=False)
    if not quiet:
        decisions.list_runs(ctx, clone_id=CLONE_ID, status=None, limit=12, db=path, as_json=False)

    step("the desk: six agents run a trading company of their own over the same day")
    run_desk_day(ctx, store, path, start, quiet=quiet)

    _demo_audit(ctx, path, account)
    _demo_grid_audit(ctx, path)
    from autotrader.cli.demo_lifecycle import lifecycle_chapter

    race_day = RaceDay(ctx, store, path)
    lifecycle_chapter(ctx, store, path, sandbox=account, quiet=quiet, alongside=race_day)
    result_chapter(ctx, path, quiet=quiet)

    if not quiet:
        step("db status and workers", numbered=False)
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
        store,
        clock,
        name="demo-momentum",
        clone_id=CLONE_ID,
        display_name="Demo momentum",
        owner=DEMO_OWNER,
        owner_address=DEMO_OWNER_ADDRESS,
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


def _demo_grid(ctx: typer.Context, store, path) -> None:
    """The four variants side by side on identical accounts. The rules engine stands in for
    models (the demo calls none): the grid's one "model" is a registry entry named so."""
    from decimal import Decimal

    from autotrader.clones.management import add_model

    add_model(store, settings_for(ctx).clock(), name=STAND_IN, provider="none", api_model=STAND_IN,
              api="chat", strength=0, input_usd_per_mtok=Decimal(0),
              output_usd_per_mtok=Decimal(0))  # fmt: skip
    say(f"model {STAND_IN!r} registered: the rules engine decides for it, no model is called")
    arena_models.setup(ctx, models=STAND_IN, balance=Decimal(10000), variants="all",
                       symbols="BTC,ETH", engine="rules", cadence=3600, name=GRID, db=path,
                       as_json=False)  # fmt: skip


def _demo_replay(ctx: typer.Context, store, path, start: int) -> None:
    from autotrader.arena_models.grid import members
    from autotrader.bootstrap import decision_runner, precision
    from autotrader.core.clock import SimulatedClock, iso_utc
    from autotrader.decisions.repo import get_run
    from autotrader.prop.mtm import MarkToMarket

    clock = SimulatedClock(start)
    runner = decision_runner(settings_for(ctx, path), store, clock, worker_id="demo")
    mtm = MarkToMarket(store, clock, precision(store, clock))
    variants = {m.clone_id: m.variant for m in members(store, GRID)}
    for _ in range(24):
        clock.advance(ms=HOUR_MS)
        outcome = runner.tick(only_scheduled=True)  # clone 42 and the grid
        report = mtm.run()
        when = iso_utc(clock.now_ms())
        for run in outcome.runs:
            for action in run.actions:
                if action["action"] == "HOLD":
                    continue
                fill = action.get("fill")
                detail = f"{fill['side']} {fill['qty']} @ {fill['price']}" if fill else ""
                clone_id = get_run(store, run.run_id)["clone_id"]
                who = variants.get(clone_id, f"clone {clone_id}")
                say(
                    f"{when}  {who:<11} decision {run.run_id}: {run.symbol} "
                    f"{action['action']} → {action['status']} "
                    f"{detail or action.get('reject_code') or ''}"
                )
        if report.exits:
            say(f"{when}  mark-to-market: {report.summary()}")
    move_clock(ctx, clock.now_ms())
    say(f"replay done at {iso_utc(clock.now_ms())}")


def _demo_audit(ctx: typer.Context, path, account: int) -> None:
    """The audit view: what happened, why, and does it add up."""
    from autotrader.cli import ledger as ledger_cli

    step(f"audit: the ledger of clone {CLONE_ID}'s account, the leaderboard, verify, a plot")
    ledger_cli.show(ctx, account=account, clone_id=None, kind=None, symbol=None, since=None,
                    until=None, limit=15, page=1, totals=True, as_csv=False, db=path,
                    as_json=False)  # fmt: skip
    ledger_cli.leaderboard(ctx, kind=None, by="account", sort="return_pct", ascending=False,
                           limit=None, db=path, as_json=False)  # fmt: skip
    ledger_cli.verify(ctx, account=None, db=path, as_json=False)
    png = path.with_name(f"{path.stem}-equity-{account}.png")
    # The charts belong to the demo store beside them, which this run just replaced.
    ledger_cli.plot(ctx, account=account, compare=None, by=None, out=png, force=True, db=path)


def _demo_grid_audit(ctx: typer.Context, path) -> None:
    """The variant grid head to head: standings, the leaderboard and the NAV by variant."""
    from autotrader.cli import ledger as ledger_cli

    step("the variant grid: standings, leaderboard and NAV by variant (rules standing in)")
    arena_models.status(ctx, name=GRID, db=path, as_json=False)
    ledger_cli.leaderboard(ctx, kind=None, by="variant", sort="return_pct", ascending=False,
                           limit=None, db=path, as_json=False)  # fmt: skip
    ledger_cli.nav(ctx, by="variant", every="6h", kind=None, since=None, until=None, fmt=None,
                   out=None, force=False, db=path, as_json=False)  # fmt: skip
    png = path.with_name(f"{path.stem}-nav-variant.png")
    ledger_cli.plot(ctx, account=None, compare=None, by="variant", out=png, force=True, db=path)
