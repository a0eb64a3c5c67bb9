"""``autotrader alerts``: test the channels, read the delivery log, run the alerts job."""

from __future__ import annotations

from typing import Annotated

import typer

from autotrader.cli._context import clock, open_store, settings_for
from autotrader.cli._loop import run_job
from autotrader.cli._options import (
    DbOption,
    IntervalOption,
    JsonOption,
    MaxTicksOption,
)
from autotrader.cli._render import out, print_json, say, styled, table

app = typer.Typer(
    help="Alerts to Telegram, Discord, Slack, e-mail, ... (apprise URLs).", no_args_is_help=True
)


@app.command("test")
def send_test(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Send a test message to every channel in AUTOTRADER_ALERT_URLS; exit 1 if one fails.

    Example: AUTOTRADER_ALERT_URLS="tgram://TOKEN/CHAT" autotrader alerts test
    """
    from autotrader.alerts.channels import channels_from_settings
    from autotrader.alerts.checks import check_channels

    results = check_channels(channels_from_settings(settings_for(ctx)), clock(ctx))
    if as_json:
        print_json(results)
    else:
        for r in results:
            say(f"{r.channel}: " + ("sent" if r.ok else f"failed — {r.error}"))
    if not all(r.ok for r in results):
        raise typer.Exit(1)


@app.command("log")
def log(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="Newest N.")] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The newest deliveries: channel, event, status, attempts and the last error.

    Example: autotrader alerts log --limit 20
    """
    from autotrader.alerts.repo import recent_deliveries
    from autotrader.core.clock import iso_utc

    rows = recent_deliveries(open_store(ctx, db, readonly=True), limit=limit)
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("no alerts queued yet")
        return
    colors = {"sent": "green", "pending": "yellow", "failed": "red", "dropped": "red"}
    body = [
        (
            r["id"],
            iso_utc(r["created_at"]),
            r["channel"],
            r["event"],
            styled(r["status"], colors[r["status"]]),
            r["attempts"],
            r["title"],
            r["last_error"] or "",
        )
        for r in rows
    ]
    columns = ["id", "queued", "channel", "event", "status", "attempts", "title", "last error"]
    out.print(table("alert deliveries", columns, body))


@app.command("run-once")
def run_once(ctx: typer.Context, db: DbOption = None) -> None:
    """Queue what is new (fills, exits, frozen accounts, unhealthy workers) and send what is due.

    Example: autotrader alerts run-once
    """
    report = run_job(ctx, "alerts", db=db)
    if report is not None:
        say(f"alerts: {report.summary}")


@app.command("worker")
def worker(
    ctx: typer.Context,
    db: DbOption = None,
    interval: IntervalOption = None,
    max_ticks: MaxTicksOption = None,
) -> None:
    """The alerts loop, as a worker of its own (a failing channel never slows trading).

    Example: autotrader alerts worker --interval 30
    """
    run_job(ctx, "alerts", db=db, loop=True, interval=interval, max_ticks=max_ticks)
