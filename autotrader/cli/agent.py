"""``autotrader agent``: the single agent of the specs — one clone booted, reconciled and traded
in a loop that sleeps as its Planner says."""

from __future__ import annotations

from typing import Annotated

import typer

from autotrader.cli._context import clock, open_store, settings_for
from autotrader.cli._options import DbOption, MaxTicksOption, id_option, parse_duration
from autotrader.cli._render import say

app = typer.Typer(
    help="The agent: one clone's boot → reconcile → decision loop.", no_args_is_help=True
)


@app.command("run")
def run(
    ctx: typer.Context,
    clone_id: Annotated[int, id_option("--clone-id", "The clone the agent trades, e.g. 42.")],
    max_ticks: MaxTicksOption = None,
    duration: Annotated[
        str | None,
        typer.Option(
            "--duration", help="Stop after this long on the agent's clock, e.g. 24h (15m, 1d)."
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Boot (settings, store, markets, the live account's credentials), reconcile, then loop:
    the clone's decision step, a sleep until it is next due (its Planner's next_wakeup_secs),
    reconciliation every AUTOTRADER_AGENT_RECONCILE_INTERVAL_S. SIGTERM or SIGINT stops it
    after the step in progress; resting orders that protect nothing are cancelled.

    Example: autotrader agent run --clone-id 42
    """
    from autotrader.agent.run import run_agent
    from autotrader.core.errors import OperationalError

    span = None if duration is None else parse_duration(duration, name="--duration")
    store = open_store(ctx, db)
    done = run_agent(
        settings_for(ctx, db),
        store,
        clock(ctx),
        clone_id,
        max_ticks=max_ticks,
        duration_ms=span,
        announce=lambda booted: say(
            f"agent: clone {booted.clone_id}, accounts {booted.account_ids}, "
            f"assets {', '.join(booted.symbols) or 'none'}"
            + "".join(f"\n  {line}" for line in booted.checks)
        ),
    )
    summary = done.summary
    say(
        f"agent: stopped ({summary.stopped_by}) after {summary.ticks} steps, "
        f"{summary.failures} failed" + "".join(f"; {line}" for line in done.shutdown)
    )
    if summary.failing:
        raise OperationalError(
            f"agent: stopped while failing ({summary.failures} of {summary.ticks} steps "
            f"failed; last: {summary.last_error})"
        )
