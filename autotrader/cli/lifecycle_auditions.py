"""``autotrader lifecycle auditions``: submit, retry, list and show auditions; evaluate the due
ones (the ``lifecycle-auditions`` job)."""

from __future__ import annotations

from typing import Annotated

import typer

from autotrader.cli import lifecycle_render as render
from autotrader.cli._context import actor, clock, open_store, settings_for
from autotrader.cli._loop import run_job
from autotrader.cli._options import (
    DbOption,
    IntervalOption,
    JsonOption,
    MaxTicksOption,
    choice,
    id_argument,
    id_option,
)

app = typer.Typer(
    help="Auditions: a verified fee buys one bounded, judged prop account.", no_args_is_help=True
)

CloneIdOption = Annotated[int, id_option("--clone-id", "The clone's id, e.g. 42.")]
FeeOption = Annotated[
    int | None, id_option("--fee", "The verified fee to use (default: its oldest).")
]


def _submit(ctx: typer.Context, db, clone_id: int, fee: int | None, retry: bool, as_json: bool):
    from autotrader.lifecycle.auditions import RetryPolicy, submit
    from autotrader.lifecycle.models import AuditionRules

    settings = settings_for(ctx, db)
    audition = submit(
        open_store(ctx, db),
        clock(ctx),
        clone_id,
        AuditionRules.from_settings(settings),
        RetryPolicy.from_settings(settings),
        actor=actor(),
        fee_id=fee,
        retry=retry,
    )
    render.audition(audition, as_json=as_json)


@app.command("submit")
def submit(
    ctx: typer.Context,
    clone_id: CloneIdOption,
    fee: FeeOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open the clone's audition account with today's rules, on a verified fee.

    Example: autotrader lifecycle auditions submit --clone-id 42 --fee 1
    """
    _submit(ctx, db, clone_id, fee, False, as_json)


@app.command("retry")
def retry(
    ctx: typer.Context,
    clone_id: CloneIdOption,
    fee: FeeOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Audition again after a failure: a new verified fee, past the cooldown, within the attempts.

    Example: autotrader lifecycle auditions retry --clone-id 42
    """
    _submit(ctx, db, clone_id, fee, True, as_json)


@app.command("list")
def list_auditions(
    ctx: typer.Context,
    clone_id: Annotated[int | None, id_option("--clone-id", "Only this clone's.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="running, passed or failed.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every audition, each attempt kept.

    Example: autotrader lifecycle auditions list --clone-id 42
    """
    from autotrader.lifecycle.auditions import list_auditions as rows
    from autotrader.lifecycle.vocabulary import AuditionStatus

    status = choice(status, name="--status", allowed=AuditionStatus)
    store = open_store(ctx, db, readonly=True)
    render.auditions(rows(store, clone_id=clone_id, status=status), as_json=as_json)


@app.command("show")
def show(
    ctx: typer.Context,
    audition_id: Annotated[int, id_argument("The audition's id.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """An audition: rules, window, the criteria table, equity and trades.

    Example: autotrader lifecycle auditions show 1
    """
    from autotrader.lifecycle.auditions import live_state, require_audition

    store = open_store(ctx, db, readonly=True)
    audition = require_audition(store, audition_id)
    live = live_state(store, audition, clock(ctx).now_ms())
    render.audition(audition, live=live, as_json=as_json)


@app.command("run-once")
def run_once(
    ctx: typer.Context,
    audition: Annotated[
        int | None, id_option("--audition", "Only this audition (refused if not due).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Evaluate every due audition once: flatten, finalize, judge, queue the passes.

    Example: autotrader lifecycle auditions run-once
    """
    if audition is not None:
        from autotrader.lifecycle.auditions import require_due

        require_due(open_store(ctx, db), audition, clock(ctx).now_ms())
    report = run_job(ctx, "lifecycle-auditions", db=db, options={"audition": audition})
    render.decisions(report.result)


@app.command("worker")
def worker(
    ctx: typer.Context,
    interval: IntervalOption = None,
    max_ticks: MaxTicksOption = None,
    db: DbOption = None,
) -> None:
    """Evaluate due auditions forever (any number of workers may share a store).

    Example: autotrader lifecycle auditions worker --interval 300
    """
    run_job(ctx, "lifecycle-auditions", db=db, loop=True, interval=interval, max_ticks=max_ticks)
