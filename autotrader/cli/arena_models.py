"""``autotrader arena-models``: models × strategy variants trading head to head on identical
accounts. (The group is not ``arena``: the architecture's CLI map keeps that name for races.)"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer

from autotrader.cli._context import clock, open_store
from autotrader.cli._options import (
    DbOption,
    JsonOption,
    count_option,
    decimal_option,
    parse_symbols,
    split_csv,
)
from autotrader.cli._render import out, print_json, say, table
from autotrader.core.clock import iso_utc

if TYPE_CHECKING:
    from autotrader.arena_models.grid import ArenaGrid, ArenaSpec
    from autotrader.arena_models.status import ArenaStatus

app = typer.Typer(
    help="Model arenas: models × variants on identical accounts, ranked live.",
    no_args_is_help=True,
)

NameOption = Annotated[str, typer.Option("--name", help="The arena's name.")]


@app.command("setup")
def setup(
    ctx: typer.Context,
    models: Annotated[
        str, typer.Option("--models", help="Registry models, comma-separated: gpt-5,llama3.1-8b.")
    ],
    balance: Annotated[
        Decimal,
        decimal_option("--balance", "Starting balance of every account (USDC).", positive=True),
    ],
    variants: Annotated[
        str,
        typer.Option("--variants", help="all, or some of Apex,Trendsurfer,Contrarian,Sovereign."),
    ] = "all",
    symbols: Annotated[str, typer.Option("--symbols", help="Assets every clone trades.")] = (
        "BTC,ETH"
    ),
    engine: Annotated[
        str, typer.Option("--engine", help="llm, committee, or rules (a stand-in for models).")
    ] = "llm",
    cadence: Annotated[
        # The range a pipeline's decision cadence allows (arena_models.grid checks it too).
        int, count_option("--cadence", "Seconds between decisions.", low=30, high=86_400)
    ] = 300,
    name: NameOption = "arena",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create the grid: a clone per model × variant with the same pipeline, and a prop account
    each with the same balance, rules and start. Re-running it changes nothing.

    Example: autotrader arena-models setup --models gpt-5-mini,llama3.1-8b --variants all
    --balance 10000 --symbols BTC,ETH
    """
    from autotrader.arena_models.grid import set_up

    spec = _spec(models, balance, variants, symbols, engine, cadence)
    grid = set_up(open_store(ctx, db), clock(ctx), spec, name=name)
    if as_json:
        print_json(grid)
        return
    _render_grid(grid, spec)


@app.command("status")
def status(
    ctx: typer.Context, name: NameOption = "arena", db: DbOption = None, as_json: JsonOption = False
) -> None:
    """The arena now: every member's equity, return, trades and model cost, grouped by model,
    and each model's total ranked by return.

    Example: autotrader arena-models status --json
    """
    from autotrader.arena_models.status import arena_status

    result = arena_status(open_store(ctx, db, readonly=True), name, now_ms=clock(ctx).now_ms())
    if as_json:
        print_json(_plain(result))
        return
    _render(result)


def _spec(
    models: str, balance: Decimal, variants: str, symbols: str, engine: str, cadence: int
) -> ArenaSpec:
    from autotrader.arena_models.grid import ArenaSpec
    from autotrader.clones.variants import parse_variant
    from autotrader.clones.vocabulary import Variant

    chosen = split_csv(variants, name="--variants")
    return ArenaSpec(
        models=tuple(split_csv(models, name="--models")),
        variants=tuple(Variant) if chosen == ["all"] else tuple(map(parse_variant, chosen)),
        starting_balance=balance,
        symbols=tuple(parse_symbols(symbols, name="--symbols")),
        engine=engine,
        cadence_s=cadence,
    )


def _render_grid(grid: ArenaGrid, spec: ArenaSpec) -> None:
    from autotrader.core.money import to_text

    rows = [(m.model, m.variant, m.clone_id, m.account_id) for m in grid.members]
    what = "set up" if grid.created else "already set up (nothing changed)"
    title = f"Arena {grid.name!r} {what}: {len(rows)} members from {iso_utc(grid.started_at)}"
    out.print(table(title, ["model", "variant", "clone", "account"], rows))
    say(
        f"each: {spec.engine} engine every {spec.cadence_s}s on {', '.join(spec.symbols)}, "
        f"{to_text(spec.starting_balance)} USDC. Run the loops (`autotrader prop "
        "decisions-worker`, `autotrader prop mark-to-market --loop`), then watch "
        "`autotrader arena-models status`."
    )


def _plain(result: ArenaStatus) -> dict:
    hidden = ("series", "trade_pnls")

    def row(r) -> dict:
        return {k: v for k, v in vars(r).items() if k not in hidden}

    return {
        "name": result.name,
        "started_at": result.started_at,
        "spec": result.spec,
        "members": [row(r) for r in result.members],
        "models": [row(r) for r in result.models],
    }


def _render(result: ArenaStatus) -> None:
    from autotrader.cli.ledger_render import money

    def cells(r) -> tuple:
        return (money(r.equity.quantize(Decimal("0.01"))), f"{r.return_pct:+.2f}%", r.trades,
                money(r.model_cost_usd), r.status)  # fmt: skip

    title = f"Arena {result.name!r} since {iso_utc(result.started_at)}: members by model"
    members = [(r.model, r.variant, r.clone_ids[0], r.group, *cells(r)) for r in result.members]
    columns = ["model", "variant", "clone", "account", "equity", "return", "trades", "model $"]
    out.print(table(title, [*columns, "status"], members))
    ranked = [(rank, r.group, *cells(r)) for rank, r in enumerate(result.models, 1)]
    columns = ["#", "model", "equity", "return", "trades", "model $", "status"]
    out.print(table("Models, summed over their variants, by return", columns, ranked))
