"""``autotrader backtest``: replay clones' strategies over stored history into a backtest
store of their own, and report how they did."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from autotrader.cli._context import open_store, settings_for, state
from autotrader.cli._options import (
    DbOption,
    JsonOption,
    choice,
    decimal_option,
    id_option,
    parse_symbols,
    parse_time,
)
from autotrader.cli._render import out, print_json, say, table

if TYPE_CHECKING:
    from autotrader.backtest.models import ModelUse
    from autotrader.backtest.outputs import BacktestFiles
    from autotrader.backtest.report import CloneReport
    from autotrader.backtest.runs import BacktestResult


def backtest_command(
    ctx: typer.Context,
    clone_ids: Annotated[
        list[int], id_option("--clone-id", "A clone to replay (repeat for several).")
    ],
    since: Annotated[str, typer.Option("--from", help="First instant, ISO-8601 UTC.")],
    until: Annotated[str, typer.Option("--to", help="Last instant, ISO-8601 UTC.")],
    symbols: Annotated[
        str | None, typer.Option("--symbols", help="Only these symbols, comma-separated.")
    ] = None,
    engine: Annotated[
        str | None, typer.Option("--engine", help="Replay every strategy with this engine.")
    ] = None,
    balance: Annotated[
        Decimal, decimal_option("--balance", "Starting balance in USDC.", positive=True)
    ] = Decimal(10_000),
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for the run's store and files (default: data dir).",
            file_okay=False,
            show_default=False,
        ),
    ] = None,
    trades_format: Annotated[
        str, typer.Option("--trades-format", help="Trades export: csv or parquet.")
    ] = "csv",
    sweep_params: Annotated[
        list[str] | None,
        typer.Option(
            "--sweep",
            help="PARAM=v1,v2,…: one run per combination (repeatable).",
            show_default=False,
        ),
    ] = None,
    allow_model_calls: Annotated[
        bool,
        typer.Option(
            "--allow-model-calls",
            help="Send model strategies' cache misses to the model (needs --budget-usd).",
        ),
    ] = False,
    budget_usd: Annotated[
        Decimal | None,
        decimal_option("--budget-usd", "USD the new model calls may spend at most.", positive=True),
    ] = None,
    blind: Annotated[
        bool,
        typer.Option("--blind", help="Model prompts hide asset names, dates and price levels."),
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replay clones over market memory into a new backtest store; print the report.

    Model (llm) strategies are answered from the response cache; a cache miss holds unless
    --allow-model-calls sends it, within --budget-usd. --blind disguises their prompts.

    Example: autotrader backtest --clone-id 42 --from 2026-02-18T00:00Z --to 2026-02-19T00:00Z
    """
    import logging
    import time

    from autotrader.backtest.models import ReplayModels
    from autotrader.backtest.outputs import TRADE_FORMATS, new_run_id, store_path, write_files
    from autotrader.backtest.report import clone_reports
    from autotrader.backtest.runs import BacktestSpec, plan_backtest, run_backtest
    from autotrader.clones.plan import EngineName
    from autotrader.prop.precision import CcxtPrecision

    trades_format = choice(trades_format, name="--trades-format", allowed=TRADE_FORMATS)
    spec = BacktestSpec(
        clone_ids=tuple(dict.fromkeys(clone_ids)),
        since_ms=parse_time(since, name="--from"),
        until_ms=parse_time(until, name="--to"),
        symbols=tuple(parse_symbols(symbols, name="--symbols")),
        engine=choice(engine, name="--engine", allowed=EngineName),
        balance=balance,
        allow_model_calls=allow_model_calls,
        budget_usd=budget_usd,
        blind=blind,
    )
    if not state(ctx).debug:
        # The report sums the run up; a log line per exit would bury it.
        logging.getLogger("autotrader").setLevel(logging.WARNING)
    # Answers paid for go into the source store's response cache, for the next run to replay.
    source = open_store(ctx, db, readonly=not allow_model_calls)
    folder = out_dir or settings_for(ctx).data_dir / "backtests"
    if sweep_params:
        _sweep(source, spec, sweep_params, folder, as_json=as_json)
        return
    plan = plan_backtest(source, spec)  # every refusal comes before a file is written
    run_id = new_run_id()
    target = open_store(ctx, store_path(folder, run_id))
    models = None
    if plan.uses_models:
        models = ReplayModels(settings_for(ctx), source, target, allow_calls=allow_model_calls,
                              budget_usd=budget_usd)  # fmt: skip
    result = run_backtest(
        plan,
        target,
        precision=CcxtPrecision(source),
        run_id=run_id,
        started_at_ms=round(time.time() * 1000),
        models=models,
    )
    accounts = {c.clone_id: c.account_id for c in result.clones}
    files = write_files(
        target, list(accounts.values()), run_id, until_ms=spec.until_ms, trades_format=trades_format
    )
    reports = clone_reports(target, accounts, since_ms=spec.since_ms, until_ms=spec.until_ms)
    _render(result, reports, files, as_json=as_json)


def _sweep(source, spec, texts: list[str], folder: Path, *, as_json: bool) -> None:
    """Every combination in worker processes, one store each; one row per combination."""
    import time

    from autotrader.backtest.outputs import new_run_id
    from autotrader.backtest.sweep import check, combinations, sweep

    combos = combinations(texts)
    check(source, spec, combos)  # every refusal comes before a worker starts
    folder.mkdir(parents=True, exist_ok=True)
    started_at_ms = round(time.time() * 1000)
    rows = sweep(source.path, folder, spec, combos, run_id=new_run_id(),
                 open_store=open_backtest_store, started_at_ms=started_at_ms)  # fmt: skip
    if as_json:
        print_json(
            [
                {"params": dict(r.params), "run_id": r.run_id, "store": str(r.store),
                 "ledger_sha256": r.ledger_sha256, "clones": [_clone_json(c) for c in r.clones]}
                for r in rows
            ]
        )  # fmt: skip
        return
    columns = ["params", "clone", "return", "sharpe", "max dd", "trades", "win", "pf", "store"]
    body = [
        (", ".join(f"{k}={v}" for k, v in r.params), c.clone_id, f"{c.metrics.return_pct:+.2f}%",
         _ratio(c.metrics.sharpe), f"{c.metrics.max_drawdown_pct:.2f}%", c.metrics.trades,
         "" if c.metrics.win_rate is None else f"{c.metrics.win_rate:.0%}",
         _ratio(c.metrics.profit_factor), r.store.name)
        for r in rows
        for c in r.clones
    ]  # fmt: skip
    out.print(table(f"sweep of {len(rows)} combinations", columns, body))


def _ratio(value: float | None) -> str:
    from autotrader.cli.ledger_render import ratio

    return ratio(value)


def open_backtest_store(path: Path, readonly: bool):
    """A store with every migration set (a sweep's workers open theirs with it, by name)."""
    from autotrader.core.db import Store
    from autotrader.schema import MIGRATION_SETS

    return Store(path, migrations=MIGRATION_SETS, migrate=not readonly, readonly=readonly)


def _render(
    result: BacktestResult, reports: list[CloneReport], files: BacktestFiles, *, as_json: bool
) -> None:
    from decimal import Decimal

    from autotrader.cli.ledger_render import money, ratio, signed

    cent = Decimal("0.01")  # display rounding only: the JSON keeps every digit

    if as_json:
        print_json(
            {
                "run_id": result.run_id,
                "store": str(files.store),
                "chart": str(files.chart),
                "trades": str(files.trades),
                "ledger_sha256": result.ledger_sha256,
                "bars": result.bars,
                "elapsed_s": round(result.elapsed_s, 3),
                "bars_per_s": round(result.bars_per_second),
                "models": None if result.models is None else result.models.as_json(),
                "clones": [_clone_json(r) for r in reports],
            }
        )
        return
    columns = ["clone", "account", "return", "sharpe", "sortino", "max dd", "trades", "win"]
    columns += ["pf", "fees", "funding", "exposure", "equity"]
    rows = [
        (
            r.clone_id,
            r.account_id,
            f"{r.metrics.return_pct:+.2f}%",
            ratio(r.metrics.sharpe),
            ratio(r.metrics.sortino),
            f"{r.metrics.max_drawdown_pct:.2f}%",
            r.metrics.trades,
            "" if r.metrics.win_rate is None else f"{r.metrics.win_rate:.0%}",
            ratio(r.metrics.profit_factor),
            money(r.metrics.fees_paid.quantize(cent)),
            signed(r.funding.quantize(cent)),
            f"{r.exposure:.0%}",
            money(r.metrics.equity.quantize(cent)),
        )
        for r in reports
    ]
    out.print(table(f"backtest {result.run_id}", columns, rows))
    say(f"{result.bars:,} bars in {result.elapsed_s:.2f}s ({result.bars_per_second:,.0f} bars/s)")
    if result.models is not None:
        say(_model_line(result.models))
    say(f"ledger sha256 {result.ledger_sha256}")
    say(f"store {files.store}  (autotrader ledger show --db {files.store})")
    say(f"chart {files.chart}")
    say(f"trades {files.trades} ({files.trades_count} rows)")


def _model_line(use: ModelUse) -> str:
    """``model calls 3 ($0.0042 of a $1 budget), cache hits 285, held 12 (cache_miss 12)``"""
    budget = "" if use.budget_usd is None else f" of a ${use.budget_usd} budget"
    held = sum(use.held.values())
    reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(use.held.items()))
    return (
        f"model calls {use.calls:,} (${use.spent_usd:.4f}{budget}), cache hits "
        f"{use.cache_hits:,}, held {held:,}" + (f" ({reasons})" if reasons else "")
    )


def _clone_json(report: CloneReport) -> dict:
    m = report.metrics
    return {
        "clone_id": report.clone_id,
        "account_id": report.account_id,
        "return_pct": m.return_pct,
        "sharpe": m.sharpe,
        "sortino": m.sortino,
        "max_drawdown_pct": m.max_drawdown_pct,
        "trades": m.trades,
        "win_rate": m.win_rate,
        "profit_factor": m.profit_factor,
        "fees": m.fees_paid,
        "funding": report.funding,
        "exposure": round(report.exposure, 4),
        "equity": m.equity,
    }
