"""``autotrader workers``: every registered job and its workers; run any job; housekeeping."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from autotrader.cli._context import clock, open_store, settings_for
from autotrader.cli._loop import run_job
from autotrader.cli._options import DbOption, IntervalOption, JsonOption, LoopOption, MaxTicksOption
from autotrader.cli._render import human_age, out, print_json, say, styled, table

app = typer.Typer(
    help="Registered jobs, their workers, and store housekeeping.", no_args_is_help=True
)

_STATE_STYLE = {"degraded": "red", "failing": "yellow", "stale": "red", "running": "green"}


@app.command("status")
def status(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every registered job (state, live workers, last tick) and every worker's heartbeat.

    Example: autotrader workers status --json
    """
    from autotrader.core.worker_status import job_views, worker_views
    from autotrader.decisions.repo import clones_in_safe_mode
    from autotrader.jobs import JOBS

    settings = settings_for(ctx, db)
    store, now = open_store(ctx, db, readonly=True), clock(ctx)
    stale_after = settings.worker_stale_after
    jobs = job_views(store, now, JOBS, stale_after_s=stale_after)
    workers = worker_views(store, now, stale_after_s=stale_after)
    safe_mode = clones_in_safe_mode(store)
    if as_json:
        print_json({"jobs": [asdict(j) for j in jobs], "workers": workers, "safe_mode": safe_mode})
        return
    job_rows = [
        (
            j.name,
            styled(j.state, _STATE_STYLE[j.state]) if j.state in _STATE_STYLE else j.state,
            j.live_workers,
            f"{j.interval_s:g}s",
            j.last_tick_at or "",
            j.last_tick_status or "",
            j.last_tick_summary or "",
        )
        for j in jobs
    ]
    columns = ["job", "state", "workers", "interval", "last tick (UTC)", "result", "summary"]
    out.print(table("Jobs", columns, job_rows))
    if not workers:
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
        for v in workers
    ]
    columns = ["worker", "host:pid", "status", "age", "ticks", "failures", "last error"]
    out.print(table("Workers", columns, rows))
    if safe_mode:
        render_safe_mode(safe_mode)


def render_safe_mode(clones: list[dict]) -> None:
    """Clones holding after consecutive model failures, until a call succeeds."""
    from autotrader.core.clock import iso_utc

    rows = [
        (c["clone_id"], iso_utc(c["safe_mode_since"]), c["consecutive_failures"], c["last_error"])
        for c in clones
    ]
    columns = ["clone", "since (UTC)", "failures", "last error"]
    out.print(table("Clones in safe mode (holds only)", columns, rows))


@app.command("run")
def run(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A registered job (see `workers status`).")],
    once: Annotated[bool, typer.Option("--once", help="One tick, then exit (cron).")] = False,
    interval: IntervalOption = None,
    max_ticks: MaxTicksOption = None,
    db: DbOption = None,
) -> None:
    """Run any registered job as a worker (or once), with its default options.

    Example: autotrader workers run mark-to-market --interval 60
    """
    report = run_job(
        ctx, name, db=db, loop=not once, interval=interval, max_ticks=None if once else max_ticks
    )
    if report is not None:
        say(f"{name}: {report.summary}")


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
    report = run_job(ctx, "housekeeping", db=db, loop=loop, interval=interval, max_ticks=max_ticks)
    if report is not None:
        say(f"housekeeping: {report.summary}")
