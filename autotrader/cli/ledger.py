"""``autotrader ledger``: audit what the prop engine did — entries, trades, the why of a fill,
invariant checks, exports, the leaderboard, NAV series and equity charts. Every command only
reads."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from autotrader.cli import ledger_render as render
from autotrader.cli._context import clock, open_store
from autotrader.cli._options import (
    DbOption,
    ForceOption,
    JsonOption,
    choice,
    count_option,
    id_option,
    parse_duration,
    parse_ids,
    parse_time,
    split_csv,
)

if TYPE_CHECKING:
    from autotrader.ledger.queries import LedgerFilter

app = typer.Typer(
    help="Audit the ledger: entries, trades, traces, verify, export, leaderboard, NAV, plots.",
    no_args_is_help=True,
)

AccountOption = Annotated[int | None, id_option("--account", "Only this prop account.")]
CloneOption = Annotated[int | None, id_option("--clone-id", "Only this clone's accounts.")]
SymbolOption = Annotated[str | None, typer.Option("--symbol", help="Only this symbol, e.g. BTC.")]
SinceOption = Annotated[
    str | None, typer.Option("--since", help="From this ISO-8601 UTC time (inclusive).")
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="Before this ISO-8601 UTC time (exclusive).")
]
KindsOption = Annotated[
    str | None, typer.Option("--kind", help="Entry kinds, comma-separated: FEE,REALIZED_PNL,...")
]


def _filter(
    account: int | None = None,
    clone_id: int | None = None,
    kinds: str | None = None,
    symbol: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> LedgerFilter:
    from autotrader.ledger.queries import LEDGER_KINDS, LedgerFilter

    wanted = None if kinds is None else kinds.upper()
    return LedgerFilter(
        account_id=account,
        clone_id=clone_id,
        kinds=tuple(split_csv(wanted, name="--kind", allowed=LEDGER_KINDS)),
        symbol=symbol.upper() if symbol else None,
        since_ms=parse_time(since, name="--since") if since else None,
        until_ms=parse_time(until, name="--until") if until else None,
    )


@app.command("show")
def show(
    ctx: typer.Context,
    account: AccountOption = None,
    clone_id: CloneOption = None,
    kind: KindsOption = None,
    symbol: SymbolOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    limit: Annotated[int, count_option("--limit", "Per page.", high=10_000)] = 50,
    page: Annotated[int, count_option("--page", "Page number, newest first.")] = 1,
    totals: Annotated[
        bool, typer.Option(help="Per-kind totals over the whole filter (a pass over it).")
    ] = True,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the page as CSV.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ledger entries, newest first, with per-kind totals over the filter.

    The page prints first; the totals footer follows (on a huge ledger it is a pass over every
    matching entry). Example:
    autotrader ledger show --clone-id 42 --kind FEE,REALIZED_PNL --since 2025-01-01
    """
    from autotrader.ledger.queries import kind_totals, ledger_page

    flt = _filter(account, clone_id, kind, symbol, since, until)
    store = open_store(ctx, db, readonly=True)
    result = ledger_page(store, flt, limit=limit, page=page, with_totals=False)
    footer = (lambda: kind_totals(store, flt)) if totals and not as_csv else None
    render.ledger_page(result, footer, as_json=as_json, as_csv=as_csv)


@app.command("trades")
def trades(
    ctx: typer.Context,
    account: AccountOption = None,
    clone_id: CloneOption = None,
    symbol: SymbolOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    status: Annotated[str, typer.Option("--status", help="all, open or closed.")] = "all",
    limit: Annotated[int, count_option("--limit", "At most this many of each.")] = 100,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Closed positions with fee-exact PnL, and open ones marked at the latest price.

    Example: autotrader ledger trades --account 1 --status closed
    """
    from autotrader.ledger.queries import TradeFilter
    from autotrader.ledger.queries import trades as list_trades

    status = choice(status, name="--status", allowed=("all", "open", "closed"))
    flt = _filter(account, clone_id, None, symbol, since, until)
    tf = TradeFilter(flt.account_id, flt.clone_id, flt.symbol, flt.since_ms, flt.until_ms, status)
    store = open_store(ctx, db, readonly=True)
    report = list_trades(store, tf, now_ms=clock(ctx).now_ms(), limit=limit)
    render.trades(report, as_json=as_json)


@app.command("trace")
def trace(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="fill:12, order:7, position:3, run:5, entry:40.")],
    fill: Annotated[bool, typer.Option("--fill", help="REF is a fill id.")] = False,
    order: Annotated[bool, typer.Option("--order", help="REF is an order id.")] = False,
    position: Annotated[bool, typer.Option("--position", help="REF is a position id.")] = False,
    run: Annotated[bool, typer.Option("--run", help="REF is a decision run id.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Why a trade happened: entries ← fill → order → intent and gates → decision run → model
    invocations → artifact keys.

    Example: autotrader ledger trace fill:12   (or: autotrader ledger trace 12 --fill)
    """
    from autotrader.core.errors import InvalidInputError
    from autotrader.ledger.trace import parse_ref
    from autotrader.ledger.trace import trace as build

    flags = [k for k, on in (("fill", fill), ("order", order), ("position", position)) if on]
    flags += ["run"] if run else []
    if len(flags) > 1:
        raise InvalidInputError("give at most one of --fill, --order, --position, --run")
    kind, number = parse_ref(ref, flags[0] if flags else None)
    store = open_store(ctx, db, readonly=True)
    result = build(store, kind, number)
    render.trace(result, as_json=as_json, lifecycle=_lifecycle_of(store, result.account))


def _lifecycle_of(store, account: dict | None) -> list[dict] | None:
    """An audition account's lifecycle timeline (the ledger does not import the lifecycle, so
    the trace command asks it), or None for any other account."""
    if not account or account.get("kind") != "audition":
        return None
    from autotrader.lifecycle.timeline import account_timeline

    return account_timeline(store, account["id"])


@app.command("verify")
def verify(
    ctx: typer.Context,
    account: AccountOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recheck the ledger's invariants; print every violation and exit 1 if there is any.

    Without --account it also rechecks real money: every economy balance against its entries,
    every settled race's conservation. Read-only (safe from cron).
    Example: autotrader ledger verify --account 1
    """
    from autotrader.ledger.verify import verify_ledger

    store = open_store(ctx, db, readonly=True)
    with store.read():  # one snapshot for every check
        report = verify_ledger(store, account_id=account)
        if account is None:
            for name, check in _money_checks():
                report.add_check(name, check(store))
    render.verify(report, as_json=as_json)
    if not report.ok:
        raise typer.Exit(1)


def _money_checks():
    """The checks of real money beside prop's synthetic ledger (the ledger imports neither
    package, so the command runs them): the lifecycle's economy ledger and the arena's races."""
    from autotrader.arena.verify import verify_races
    from autotrader.lifecycle.economy import verify_economy

    return [("economy", verify_economy), ("races", verify_races)]


@app.command("export")
def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="csv, json or parquet.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default stdout; parquet needs it).")
    ] = None,
    what: Annotated[str, typer.Option("--what", help="ledger, trades or snapshots.")] = "ledger",
    account: AccountOption = None,
    clone_id: CloneOption = None,
    kind: KindsOption = None,
    symbol: SymbolOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    force: ForceOption = False,
    db: DbOption = None,
) -> None:
    """Export ledger entries, trades or snapshots (decimals as strings; reads back equal).

    The file appears whole or not at all; an existing one is replaced only with --force.
    Example: autotrader ledger export --format parquet --what trades --out trades.parquet
    """
    import sys

    from autotrader.ledger.export import FORMATS, WHATS
    from autotrader.ledger.export import export as run_export

    result = run_export(
        open_store(ctx, db, readonly=True),
        what=choice(what, name="--what", allowed=WHATS),
        fmt=choice(fmt, name="--format", allowed=FORMATS),
        flt=_filter(account, clone_id, kind, symbol, since, until),
        now_ms=clock(ctx).now_ms(),
        out=out,
        stream=None if out else sys.stdout,
        force=force,
    )
    if result.path is not None:
        render.say(f"wrote {result.rows} {what} rows as {fmt} to {result.path.resolve()}")


@app.command("leaderboard")
def leaderboard(
    ctx: typer.Context,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only sandbox, audition or race accounts.")
    ] = None,
    by: Annotated[
        str, typer.Option("--by", help="One row per account, clone, model, variant or policy.")
    ] = "account",
    sort: Annotated[
        str | None,
        typer.Option("--sort", help="Column to sort by (return_pct; pnl --by policy)."),
    ] = None,
    ascending: Annotated[bool, typer.Option("--asc", help="Smallest first.")] = False,
    limit: Annotated[int | None, count_option("--limit", "Top N rows.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Return, PnL, drawdown, Sharpe/Sortino, win rate, profit factor, fees, model cost and
    model cost per point of return; --by policy: each policy id's trades across clones.

    Example: autotrader ledger leaderboard --by model --sort cost_per_return_point --asc
    """
    from autotrader.ledger.leaderboard import leaderboard as build
    from autotrader.prop.vocabulary import AccountKind

    if by == "policy":
        from autotrader.core.errors import InvalidInputError
        from autotrader.ledger.policies import policy_leaderboard

        if kind is not None:
            raise InvalidInputError("--kind goes with account groupings, not --by policy")
        sort = sort or "pnl"
        store = open_store(ctx, db, readonly=True)
        rows = policy_leaderboard(store, sort=sort, ascending=ascending)
        render.policy_leaderboard(rows[:limit] if limit else rows, sort=sort, as_json=as_json)
        return
    sort = sort or "return_pct"
    rows = build(
        open_store(ctx, db, readonly=True),
        now_ms=clock(ctx).now_ms(),
        kind=choice(kind, name="--kind", allowed=AccountKind),
        by=by,
        sort=sort,
        ascending=ascending,
    )
    render.leaderboard(rows[:limit] if limit else rows, by=by, sort=sort, as_json=as_json)


@app.command("nav")
def nav(
    ctx: typer.Context,
    by: Annotated[
        str, typer.Option("--by", help="One series per clone, model, variant or account.")
    ] = "model",
    every: Annotated[
        str | None, typer.Option("--every", help="Resample: one point per 15m, 1h, 1d...")
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only sandbox, audition or race accounts.")
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="Export as csv, json or parquet.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Export file (default stdout; parquet needs it).")
    ] = None,
    force: ForceOption = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Net asset value over time: the summed equity of each group's accounts, from the
    snapshots (decimals as strings), printed or exported like `ledger export`.

    An export file appears whole or not at all; an existing one is replaced only with --force.
    Example: autotrader ledger nav --by model --every 1h --format csv --out nav.csv
    """
    import sys

    from autotrader.ledger.export import write
    from autotrader.ledger.nav import nav_records, nav_series

    flt = _filter(since=since, until=until)
    every_ms = parse_duration(every, name="--every") if every else None
    store = open_store(ctx, db, readonly=True)
    points = nav_series(store, by=by, every_ms=every_ms, kind=kind,
                        since_ms=flt.since_ms, until_ms=flt.until_ms)  # fmt: skip
    if fmt is None and out is None:
        render.nav(points, by=by, as_json=as_json)
        return
    result = write(nav_records(points), "nav", fmt or "csv", stores=[store.path], out=out,
                   stream=None if out else sys.stdout, force=force)  # fmt: skip
    if result.path is not None:
        render.say(f"wrote {result.rows} NAV points as {result.format} to {result.path.resolve()}")


@app.command("plot")
def plot(
    ctx: typer.Context,
    account: Annotated[int | None, id_option("--account", "The prop account to draw.")] = None,
    compare: Annotated[
        str | None, typer.Option("--compare", help="More accounts on the chart: 2,3.")
    ] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Instead: one NAV curve per clone, model or variant."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="PNG to write (default equity-ACCOUNT.png or nav-BY.png)."),
    ] = None,
    force: ForceOption = False,
    db: DbOption = None,
) -> None:
    """Draw an account's equity curve (drawdowns shaded, trades marked), or one NAV curve per
    clone, model or variant, to a PNG.

    An existing PNG is replaced only with --force.
    Example: autotrader ledger plot --account 1 --compare 2,3 --out equity.png
    (or: autotrader ledger plot --by model --out models.png)
    """
    from autotrader.core.errors import InvalidInputError
    from autotrader.ledger.groups import GROUPINGS
    from autotrader.ledger.plot import plot_equity, plot_nav

    by = choice(by, name="--by", allowed=[g for g in GROUPINGS if g != "account"])
    if (account is None) == (by is None):
        raise InvalidInputError("give --account (with --compare) or --by, not both")
    if by is not None:
        if compare is not None:
            raise InvalidInputError("--compare goes with --account, not --by")
        store = open_store(ctx, db, readonly=True)
        drawn = plot_nav(store, by, out or Path(f"nav-{by}.png"), force=force)
        render.say(
            f"wrote the NAV chart by {by} ({len(drawn.groups)} curves, {drawn.points} points) "
            f"to {drawn.path.resolve()}"
        )
        return
    others = parse_ids(compare, name="--compare")
    path = out or Path(f"equity-{account}.png")
    store = open_store(ctx, db, readonly=True)
    result = plot_equity(store, account, path, compare=others, force=force)
    left_out = f", {result.left_out} stored outside 2000–2100 left out" if result.left_out else ""
    render.say(
        f"wrote the equity chart of account(s) {', '.join(map(str, result.accounts))} "
        f"({result.points} points, {result.trades} fills marked{left_out}) to "
        f"{result.path.resolve()}"
    )
