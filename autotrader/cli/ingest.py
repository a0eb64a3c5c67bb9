"""``autotrader ingest``: market memory — fetch, import, derive, prune, inspect."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from autotrader.cli import ingest_assets
from autotrader.cli._context import clock, open_store, settings_for
from autotrader.cli._loop import run_job
from autotrader.cli._options import (
    DbOption,
    IntervalOption,
    JsonOption,
    MaxTicksOption,
    choice,
    parse_duration,
    parse_symbol,
    parse_symbols,
    parse_time,
    split_csv,
)
from autotrader.cli._render import human_age, out, print_json, say, styled, table, warn_line
from autotrader.market.models import HYPERLIQUID_CHANNELS, SOURCES, TIMEFRAME_MS

if TYPE_CHECKING:
    from autotrader.market.ingest import IngestReport

app = typer.Typer(
    help="Market memory: Hyperliquid, Polymarket, DefiLlama, files.", no_args_is_help=True
)
app.add_typer(ingest_assets.app, name="assets")

TIMEFRAMES = tuple(TIMEFRAME_MS)

SourcesOption = Annotated[
    str | None,
    typer.Option(
        "--source", help="Comma list of hyperliquid, polymarket, defillama (default all)."
    ),
]
SymbolsOption = Annotated[
    str | None,
    typer.Option("--symbols", help="Comma list, e.g. BTC,ETH (default AUTOTRADER_INGEST_SYMBOLS)."),
]
ChannelsOption = Annotated[
    str | None,
    typer.Option("--channels", help="Hyperliquid channels: ohlcv,funding (default both)."),
]


def _selection(
    ctx: typer.Context, sources: str | None, symbols: str | None, channels: str | None
) -> dict[str, list[str]]:
    """The ingest job's options from the flags (defaults: every source, the settings' symbols,
    both channels)."""
    settings = settings_for(ctx)
    return {
        "sources": split_csv(sources, name="--source", allowed=SOURCES) or list(SOURCES),
        "symbols": parse_symbols(symbols, name="--symbols") or settings.symbol_list,
        "channels": split_csv(channels, name="--channels", allowed=HYPERLIQUID_CHANNELS)
        or list(HYPERLIQUID_CHANNELS),
    }


def _render_report(report: IngestReport) -> None:
    rows = [
        (r.source, r.channel, r.subject, r.written, r.rejected, r.error or "ok")
        for r in report.results
    ]
    out.print(
        table("Ingest", ["source", "channel", "subject", "written", "rejected", "result"], rows)
    )
    say(report.summary())


@app.command("run-once")
def run_once(
    ctx: typer.Context,
    sources: SourcesOption = None,
    symbols: SymbolsOption = None,
    channels: ChannelsOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fetch what is new from each source once (cron). Exits 1 if any channel failed.

    Example: autotrader ingest run-once --source hyperliquid --symbols BTC,ETH
    """
    report = run_job(ctx, "ingest", db=db, options=_selection(ctx, sources, symbols, channels))
    assert report is not None
    if as_json:
        print_json([result.as_dict() for result in report.result.results])
    else:
        _render_report(report.result)
    if report.result.failed:
        raise typer.Exit(1)


@app.command("worker")
def worker(
    ctx: typer.Context,
    sources: SourcesOption = None,
    symbols: SymbolsOption = None,
    channels: ChannelsOption = None,
    interval: IntervalOption = None,
    max_ticks: MaxTicksOption = None,
    db: DbOption = None,
) -> None:
    """Ingest forever: each tick fetches, derives and prunes (tmux/systemd).

    Example: autotrader ingest worker --interval 60
    """
    options = _selection(ctx, sources, symbols, channels)
    run_job(
        ctx, "ingest", db=db, options=options, loop=True, interval=interval, max_ticks=max_ticks
    )


@app.command("stream")
def stream(
    ctx: typer.Context,
    symbols: SymbolsOption = None,
    duration: Annotated[
        str | None,
        typer.Option("--duration", help="Stop by itself after this long, e.g. 10m, 1h, 1d."),
    ] = None,
    interval: IntervalOption = None,
    max_ticks: MaxTicksOption = None,
    db: DbOption = None,
) -> None:
    """Store Hyperliquid's 1m candles as its WebSocket pushes them, until Ctrl-C, SIGTERM or
    --duration; each tick (every 5 s) writes what arrived. After every (re)connect the gap since
    the last stored bar is fetched over REST, so no minute is missing. Exits 1 if it never
    connected.

    Example: autotrader ingest stream --symbols BTC,ETH --duration 10m
    """
    duration_ms = parse_duration(duration, name="--duration") if duration is not None else None
    run_job(
        ctx,
        "ingest-stream",
        db=db,
        options={"symbols": _selection(ctx, None, symbols, None)["symbols"]},
        loop=True,
        interval=interval,
        max_ticks=max_ticks,
        duration_s=None if duration_ms is None else duration_ms / 1000,
    )


@app.command("backfill")
def backfill(
    ctx: typer.Context,
    since: Annotated[
        str, typer.Option("--since", help="ISO-8601 UTC start, e.g. 2025-01-01T00:00Z.")
    ],
    until: Annotated[
        str | None, typer.Option("--until", help="ISO-8601 UTC end (default now).")
    ] = None,
    symbols: SymbolsOption = None,
    db: DbOption = None,
) -> None:
    """Fetch a past range of 1m candles (Hyperliquid serves the last 5,000 bars per asset).

    Example: autotrader ingest backfill --since 2025-06-01T00:00Z --symbols BTC
    """
    from rich.progress import Progress

    from autotrader.bootstrap import ingestor
    from autotrader.market.registry import ensure_assets

    since_ms = parse_time(since, name="--since")
    until_ms = parse_time(until, name="--until") if until else clock(ctx).now_ms()
    symbol_list = _selection(ctx, None, symbols, None)["symbols"]
    store = open_store(ctx, db)
    ensure_assets(store, clock(ctx))
    service = ingestor(settings_for(ctx, db), store, clock(ctx), sources=("hyperliquid",))
    bars = max(1, (until_ms - since_ms) // TIMEFRAME_MS["1m"] + 1)
    with Progress(console=out, transient=False) as progress:
        task = progress.add_task("backfill", total=bars * len(symbol_list))
        report = service.backfill(
            symbol_list,
            since_ms=since_ms,
            until_ms=until_ms,
            on_window=lambda symbol, n: progress.update(
                task, advance=n, description=f"backfill {symbol}"
            ),
        )
    _render_report(report)
    if report.failed:
        raise typer.Exit(1)


@app.command("import")
def import_file(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="CSV, JSON ([[t,o,h,l,c,v]]), feather or parquet.")],
    symbol: Annotated[str, typer.Option("--symbol", help="The asset these candles belong to.")],
    timeframe: Annotated[
        str | None,
        typer.Option("--timeframe", help="1m, 5m or 1h; checked against the file's bar spacing."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Import candles from a file (replay, or your own history); derives 1h and indicators.
    The timeframe is read from the bar spacing; a --timeframe that disagrees stores nothing.

    Example: autotrader ingest import btc-5m.csv --symbol BTC
    """
    from autotrader.bootstrap import ingestor
    from autotrader.market.registry import known_assets

    timeframe = choice(timeframe, name="--timeframe", allowed=TIMEFRAMES)
    symbol = parse_symbol(symbol, name="--symbol")
    store = open_store(ctx, db)
    if symbol not in {asset.symbol for asset in known_assets(store)}:
        warn_line(f"{symbol} is not in the asset registry (see `ingest assets list`); importing")
    result, imported = ingestor(settings_for(ctx, db), store, clock(ctx)).import_file(
        path, symbol=symbol, timeframe=timeframe
    )
    say(f"{path.name}: {imported.layout}")
    say(
        f"{result.written} candles stored for {symbol} {imported.timeframe}, "
        f"{result.rejected} rejected"
    )
    for reason, count in result.rejection_reasons.most_common():
        say(f"  rejected {count}× {reason}")


@app.command("prune")
def prune(ctx: typer.Context, db: DbOption = None) -> None:
    """Apply retention: drop 1m/5m candles older than AUTOTRADER_RETENTION_1M_HOURS before the
    clock, 1h candles older than …_1H_DAYS, observations older than …_OBSERVATIONS_DAYS.

    Example: autotrader ingest prune
    """
    from autotrader.bootstrap import ingestor

    counts = ingestor(settings_for(ctx, db), open_store(ctx, db), clock(ctx)).prune()
    say("pruned " + ", ".join(f"{k}={v}" for k, v in counts.items()))


@app.command("latest")
def latest(
    ctx: typer.Context,
    symbol: Annotated[str, typer.Option("--symbol", help="Asset symbol, e.g. BTC.")],
    timeframe: Annotated[
        str | None, typer.Option("--timeframe", help="1m, 5m or 1h (default: the finest stored).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The latest candle and every indicator: what a strategy would see now.

    Example: autotrader ingest latest --symbol BTC --timeframe 1h
    """
    from autotrader.market.view import latest_view

    timeframe = choice(timeframe, name="--timeframe", allowed=TIMEFRAMES)
    symbol = parse_symbol(symbol, name="--symbol")
    view = latest_view(open_store(ctx, db, readonly=True), clock(ctx), symbol, timeframe)
    if as_json:
        print_json(view)
        return
    rows = [(key, "" if value is None else value) for key, value in view.items()]
    out.print(table(f"{view['symbol']} {view['timeframe']} latest", ["field", "value"], rows))


@app.command("status")
def status(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Per source and channel: last success and error, rows in 24 h, coverage, lag, staleness.

    Example: autotrader ingest status --json
    """
    from autotrader.market.health import channel_health

    settings = settings_for(ctx, db)
    health = channel_health(
        open_store(ctx, db, readonly=True),
        clock(ctx),
        price_stale_after_s=settings.ingest_stale_after,
    )
    if as_json:
        print_json(health)
        return
    if not health:
        say("nothing ingested yet; try `autotrader ingest run-once` or `autotrader ingest import`")
        return
    rows = [
        (
            h.source,
            h.channel,
            h.subjects,
            h.last_success,
            h.rows_24h,
            "" if h.coverage_pct is None else f"{h.coverage_pct}%",
            human_age(h.lag_s),
            styled("STALE", "red") if h.stale else "ok",
            h.last_error[:60],
        )
        for h in health
    ]
    columns = [
        "source",
        "channel",
        "subjects",
        "last success",
        "rows 24h",
        "coverage",
        "lag",
        "state",
        "last error",
    ]
    out.print(table("Ingest status", columns, rows))
