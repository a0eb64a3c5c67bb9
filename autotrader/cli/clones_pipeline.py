"""``autotrader clones pipeline``: a clone's strategy graph — validate, save, show, compile."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from autotrader.cli._context import clock, open_store
from autotrader.cli._options import DbOption, JsonOption, id_option
from autotrader.cli._render import fail_line, out, print_json, say, styled, table

app = typer.Typer(
    help="A clone's strategy graph: data_stream → asset_selection → trading_prompt.",
    no_args_is_help=True,
)

CloneIdOption = Annotated[int, id_option("--clone-id", "The clone's id, e.g. 42.")]
FileArgument = Annotated[Path, typer.Argument(help="Pipeline JSON (see examples/pipelines/).")]
VersionOption = Annotated[int | None, id_option("--version", "A stored version (default latest).")]


@app.command("validate")
def validate(
    ctx: typer.Context,
    path: FileArgument,
    clone_id: Annotated[
        int | None, id_option("--clone-id", "Also check this clone's entitlements.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check a graph without saving it; every problem is listed. Exits 1 on any error.

    Example: autotrader clones pipeline validate examples/pipelines/btc-eth-rules.json
    """
    from autotrader.clones.pipelines import read_pipeline_file
    from autotrader.clones.pipelines import validate as check

    store = open_store(ctx, db, readonly=True)
    problems = check(store, read_pipeline_file(path), clone_id=clone_id)
    if as_json:
        print_json(problems)
    else:
        for p in problems:
            say(f"{p.severity}: {p.node_id or '-'} {p.path}: {p.reason}")
        errors = sum(p.severity == "error" for p in problems)
        say(f"{path}: {errors} errors, {len(problems) - errors} warnings")
    if any(p.severity == "error" for p in problems):
        raise typer.Exit(1)


@app.command("set")
def set_pipeline(
    ctx: typer.Context, path: FileArgument, clone_id: CloneIdOption, db: DbOption = None
) -> None:
    """Validate and save a graph as the clone's next version (refused whole on any error).

    Example: autotrader clones pipeline set examples/pipelines/btc-eth-rules.json --clone-id 42
    """
    from autotrader.clones.pipelines import PipelineRejected, read_pipeline_file, save

    try:
        version, warnings = save(
            open_store(ctx, db), clock(ctx), clone_id, read_pipeline_file(path)
        )
    except PipelineRejected as exc:
        for problem in exc.problems:
            fail_line(problem)
        raise typer.Exit(1) from None
    for warning in warnings:
        say(warning)
    say(f"clone {clone_id}: saved pipeline version {version}")


@app.command("show")
def show(
    ctx: typer.Context, clone_id: CloneIdOption, version: VersionOption = None, db: DbOption = None
) -> None:
    """Print a stored graph (JSON, with its layout).

    Example: autotrader clones pipeline show --clone-id 42
    """
    import json

    from autotrader.clones.pipelines import stored

    row = stored(open_store(ctx, db, readonly=True), clone_id, version)
    graph = json.loads(row["graph"])
    graph["layout"] = json.loads(row["layout"])
    print_json({"clone_id": clone_id, "version": row["version"], "pipeline": graph})


@app.command("history")
def history(
    ctx: typer.Context, clone_id: CloneIdOption, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """Every saved version. Example: autotrader clones pipeline history --clone-id 42"""
    from autotrader.clones.management import require_clone
    from autotrader.clones.repo import pipeline_history
    from autotrader.core.clock import iso_utc

    store = open_store(ctx, db, readonly=True)
    require_clone(store, clone_id)
    rows = pipeline_history(store, clone_id)
    if as_json:
        print_json(rows)
        return
    body = [(r["version"], iso_utc(r["created_at"]), r["graph_bytes"], r["warnings"]) for r in rows]
    out.print(
        table(
            f"Pipeline history of clone {clone_id}",
            ["version", "saved (UTC)", "bytes", "warnings"],
            body,
        )
    )


@app.command("compile")
def compile_pipeline(
    ctx: typer.Context,
    clone_id: CloneIdOption,
    version: VersionOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Expand each trading prompt into its asset universe and per-asset read plans.

    Example: autotrader clones pipeline compile --clone-id 42 --json
    """
    from autotrader.clones.pipelines import compiled

    pipeline = compiled(open_store(ctx, db, readonly=True), clone_id, version)
    if as_json:
        print_json(pipeline)
        return
    for s in pipeline.strategies:
        say(
            styled(f"strategy {s.strategy_id}", "bold"),
            f": engine {s.engine}, every {s.cadence_s}s, "
            f"{'enabled' if s.enabled else 'disabled'}, coverage {s.coverage_mode}, "
            f"candidates ≤ {s.candidate_policy.max_candidates} ({s.candidate_policy.prefilter})",
        )
        say("universe: " + ", ".join(f"{u.symbol} ({u.selected_by})" for u in s.universe))
        rows = [
            (
                symbol,
                r.source,
                r.channel,
                r.context_symbol,
                r.scope or "",
                r.granularity or "",
                r.lookback,
                "yes" if r.include_in_prompt else "no",
                f"{r.profile}/{r.origin}",
            )
            for symbol, reads in s.read_plans.items()
            for r in reads
        ]
        columns = [
            "symbol",
            "source",
            "channel",
            "contextSymbol",
            "scope",
            "gran",
            "lookback",
            "prompt",
            "profile/origin",
        ]
        out.print(table(f"read plans (v{pipeline.version})", columns, rows))
        if s.skipped:
            say("skipped (unsupported): " + ", ".join(s.skipped))
