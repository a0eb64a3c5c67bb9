"""``autotrader workers``: heartbeats of every worker, and the housekeeping loop."""

from __future__ import annotations

import typer

from autotrader.cli._context import clock, open_store, settings_for
from autotrader.cli._loop import run_tick
from autotrader.cli._options import DbOption, IntervalOption, JsonOption, LoopOption, MaxTicksOption
from autotrader.cli._render import human_age, out, print_json, say, styled, table

app = typer.Typer(help="Worker heartbeats and store housekeeping.", no_args_is_help=True)


@app.command("status")
def status(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show every worker's last heartbeat, its age, and whether it is stale.

    Example: autotrader workers status --json
    """
    from autotrader.core.worker_status import worker_views

    settings = settings_for(ctx, db)
    views = worker_views(open_store(ctx, db), clock(ctx), stale_after_s=settings.worker_stale_after)
    if as_json:
        print_json(views)
        return
    if not views:
        say("no worker has run against this store yet")
        return
    rows = [
        (
            v.name,
            f"{v.host}:{v.pid}",
            styled("STALE", "red") if v.stale else v.status,
            human_age(v.age_s),
            v.ticks,
            v.failures,
            v.last_error or "",
        )
        for v in views
    ]
    columns = ["worker", "host:pid", "status", "age", "ticks", "failures", "last error"]
    out.print(table("Workers", columns, rows))


@app.command("housekeeping")
def housekeeping(
    ctx: typer.Context,
    db: DbOption = None,
    loop: LoopOption = False,
    interval: IntervalOption = None,
    max_ticks: MaxTicksOption = None,
) -> None:
    """Checkpoint the WAL, prune old tick history and forget long-stopped workers.

    Example: autotrader workers housekeeping --loop --interval 300
    """
    from autotrader.core.housekeeping import housekeeping_tick

    store = open_store(ctx, db)
    report = run_tick(
        ctx,
        name="housekeeping",
        tick=housekeeping_tick(),
        store=store,
        loop=loop,
        interval=interval,
        max_ticks=max_ticks,
    )
    if report is not None:
        say(f"housekeeping: {report.summary}")
