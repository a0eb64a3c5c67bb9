"""``autotrader ingest assets``: the asset registry (precision, limits, channels, categories)."""

from __future__ import annotations

from typing import Annotated

import typer

from autotrader.cli._context import clock, open_store, settings_for
from autotrader.cli._options import DbOption, JsonOption, choice
from autotrader.cli._render import out, print_json, say, table

app = typer.Typer(
    help="The asset registry: markets, precision, limits, categories.", no_args_is_help=True
)


@app.command("list")
def list_assets(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Option("--kind", help="perp or spot.")] = None,
    category: Annotated[
        str | None, typer.Option("--category", help="A category or subcategory (e.g. L1, Meme).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List known assets with kind, precision, limits, channels and category.

    Example: autotrader ingest assets list --category Meme
    """
    from autotrader.market.models import ASSET_KINDS
    from autotrader.market.registry import known_assets

    kind = choice(kind, name="--kind", allowed=ASSET_KINDS)
    assets = known_assets(open_store(ctx, db, readonly=True))
    if kind:
        assets = [a for a in assets if a.kind == kind]
    if category:
        wanted = category.lower()
        assets = [
            a
            for a in assets
            if a.category.lower() == wanted or wanted in {s.lower() for s in a.subcategories}
        ]
    if as_json:
        print_json(assets)
        return
    rows = [
        (
            a.symbol,
            a.kind,
            a.amount_step,
            a.price_tick,
            a.min_notional,
            a.max_leverage,
            ",".join(a.channels),
            a.category,
            "" if a.active else "inactive",
        )
        for a in assets
    ]
    columns = [
        "symbol",
        "kind",
        "amount step",
        "price tick",
        "min notional",
        "max lev",
        "channels",
        "category",
        "",
    ]
    out.print(table(f"Assets ({len(assets)})", columns, rows))


@app.command("show")
def show(
    ctx: typer.Context,
    symbol: Annotated[str, typer.Argument(help="Asset symbol, e.g. BTC or PURR/USDC.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one asset in full.

    Example: autotrader ingest assets show BTC --json
    """
    from dataclasses import asdict

    from autotrader.market.registry import resolve

    asset = resolve(open_store(ctx, db, readonly=True), symbol)
    if as_json:
        print_json(asset)
        return
    out.print(table(asset.symbol, ["field", "value"], [(k, v) for k, v in asdict(asset).items()]))


@app.command("sync")
def sync(
    ctx: typer.Context,
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh/--offline",
            help="Reload from the exchange (default) or the packaged snapshot.",
        ),
    ] = True,
    db: DbOption = None,
) -> None:
    """Refresh the registry from Hyperliquid (or, with --offline, the packaged snapshot).

    Example: autotrader ingest assets sync
    """
    from autotrader.market.registry import sync_assets
    from autotrader.market.sources.hyperliquid import HyperliquidSource

    settings = settings_for(ctx, db)
    source = HyperliquidSource(
        base_url=settings.hyperliquid_url,
        timeout_ms=int(settings.http_timeout * 1000),
        max_retries=settings.http_retries,
    )
    count = sync_assets(open_store(ctx, db), clock(ctx), source, refresh=refresh)
    say(
        f"registry holds {count} assets "
        f"({'from the exchange' if refresh else 'from the packaged snapshot'})"
    )
