"""``autotrader decisions`` (alias ``decide``): run the decision loop once or as a worker, and
read what it decided and why."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from autotrader.cli._context import clock, open_store, settings_for
from autotrader.cli._loop import run_job
from autotrader.cli._options import (
    DbOption,
    IntervalOption,
    JsonOption,
    MaxTicksOption,
    choice,
    count_option,
    id_argument,
    id_option,
    parse_symbol,
)
from autotrader.cli._render import out, print_json, say, styled, table
from autotrader.clones.plan import EngineName
from autotrader.decisions.vocabulary import ActionStatus, RunStatus

if TYPE_CHECKING:
    from autotrader.decisions.runner import TickOutcome

app = typer.Typer(
    help="Decision runs: context → engine → intents → gates → fills.", no_args_is_help=True
)

ENGINES = tuple(EngineName)
STATUSES = tuple(RunStatus)


def render_outcome(outcome: TickOutcome, *, as_json: bool) -> None:
    if as_json:
        print_json(
            {"summary": outcome.summary(), "runs": outcome.runs, "notes": outcome.scheduled.notes}
        )
        return
    for note in outcome.scheduled.notes:
        say(f"note: {note}")
    rows = []
    for run in outcome.runs:
        for a in run.actions or [{"action": "—", "status": "no intent"}]:
            fill = a.get("fill")
            rejected = a["status"] == ActionStatus.REJECTED
            gate = f"rejected: {a.get('reject_code')}" if rejected else a["status"]
            rows.append(
                (
                    run.run_id,
                    run.symbol,
                    run.engine,
                    a["action"],
                    styled(gate, "red") if rejected else gate,
                    f"{fill['side']} {fill['qty']} @ {fill['price']}" if fill else "",
                    run.error or a.get("reason", ""),
                )
            )
    if rows:
        columns = ["run", "asset", "engine", "action", "gates", "fill", "why / error"]
        out.print(table("Decisions", columns, rows))
    say(outcome.summary())


@app.command("run-once")
def run_once(
    ctx: typer.Context,
    clone_id: Annotated[int, id_option("--clone-id", "The clone to run, e.g. 42.")],
    force: Annotated[
        bool, typer.Option("--force", help="Ignore the cadence: run every candidate now.")
    ] = False,
    asset: Annotated[str | None, typer.Option("--asset", help="Only this asset, e.g. BTC.")] = None,
    engine: Annotated[
        str | None, typer.Option("--engine", help="Override: hold, rules, llm, committee.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Record intents and gate results; fill nothing.")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run a clone's due strategies now against its active prop account.

    If the clone has no active account, a sandbox account with default rules is opened (and
    you are told). Example: autotrader decisions run-once --clone-id 42 --force
    """
    from autotrader.decisions.accounts import ensure_account

    engine = choice(engine, name="--engine", allowed=ENGINES)
    asset = None if asset is None else parse_symbol(asset, name="--asset")
    store = open_store(ctx, db)
    account_id, opened = ensure_account(store, clock(ctx), clone_id)
    if opened:
        say(
            f"clone {clone_id} had no active prop account: "
            f"opened sandbox account {account_id} (10,000 USDC)"
        )
    options = {
        "clone_id": clone_id,
        "force": force,
        "asset": asset,
        "engine": engine,
        "dry_run": dry_run,
    }
    report = run_job(ctx, "decisions", db=db, options=options)
    assert report is not None
    outcome = report.result
    render_outcome(outcome, as_json=as_json)
    if any(r.status == RunStatus.FAILED for r in outcome.runs):
        raise typer.Exit(1)


@app.command("worker")
def worker(
    ctx: typer.Context,
    interval: IntervalOption = None,
    max_ticks: MaxTicksOption = None,
    db: DbOption = None,
) -> None:
    """Run the decision loop over every active prop account (tmux/systemd).

    Example: autotrader decisions worker --interval 30
    """
    run_job(ctx, "decisions", db=db, loop=True, interval=interval, max_ticks=max_ticks)


@app.command("list")
def list_runs(
    ctx: typer.Context,
    clone_id: Annotated[int | None, id_option("--clone-id", "Only this clone's runs.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="queued, running, succeeded, failed, skipped.")
    ] = None,
    limit: Annotated[int, count_option("--limit", "At most this many runs.", high=10_000)] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recent decision runs, newest first. Example: autotrader decisions list --clone-id 42"""
    from autotrader.core.clock import iso_utc
    from autotrader.decisions.repo import list_runs as rows

    status = choice(status, name="--status", allowed=STATUSES)
    runs = rows(open_store(ctx, db, readonly=True), clone_id=clone_id, status=status, limit=limit)
    if as_json:
        print_json(runs)
        return
    body = [
        (
            r["id"],
            r["clone_id"],
            r["account_id"],
            r["strategy_id"],
            r["symbol"],
            r["engine"],
            f"{r['status']} (safe mode)" if r["safe_mode"] else r["status"],
            iso_utc(r["due_at"]),
            r["duration_ms"],
            r["error"] or r["skip_reason"] or "",
        )
        for r in runs
    ]
    columns = [
        "run",
        "clone",
        "acct",
        "strategy",
        "asset",
        "engine",
        "status",
        "due (UTC)",
        "ms",
        "error",
    ]
    out.print(table("Decision runs", columns, body))


@app.command("memory")
def memory(
    ctx: typer.Context,
    clone_id: Annotated[int | None, id_option("--clone-id", "Only this clone's.")] = None,
    policy: Annotated[str | None, typer.Option("--policy", help="Only this policy id.")] = None,
    limit: Annotated[int, count_option("--limit", "Experiments per clone.", high=10_000)] = 20,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """What the Planner learned: each policy's Beta posterior and the experiments behind it.

    Example: autotrader decisions memory --clone-id 42 --policy trend_macd
    """
    from dataclasses import asdict

    from autotrader.cli.decisions_render import render_memory
    from autotrader.decisions.memory import memory_view

    views = memory_view(
        open_store(ctx, db, readonly=True), clone_id=clone_id, policy_id=policy, limit=limit
    )
    if as_json:
        print_json([asdict(v) for v in views])
        return
    render_memory(views)


@app.command("show")
def show(
    ctx: typer.Context,
    run_id: Annotated[int, id_argument("Decision run id.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The whole story of one decision: context, prompt, model output, intents, gates, fills.

    Example: autotrader decisions show 12
    """
    from autotrader.artifacts.index import artifact_store_from_settings
    from autotrader.cli.decisions_render import render_story
    from autotrader.decisions.story import run_story

    store = open_store(ctx, db, readonly=True)
    artifacts = artifact_store_from_settings(settings_for(ctx, db), store, clock(ctx))
    story = run_story(store, run_id, artifacts=artifacts)
    if as_json:
        print_json(story)
        return
    render_story(story)
