"""``autotrader arena``: races among arena clones, tickets on them (real USDC), the payouts of
their settlement, economy balances and the Hall of Fame."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from autotrader.cli import arena_render as render
from autotrader.cli._context import actor, clock, open_store, settings_for
from autotrader.cli._loop import run_job
from autotrader.cli._options import (
    DbOption,
    ForceOption,
    IntervalOption,
    JsonOption,
    MaxTicksOption,
    choice,
    decimal_option,
    id_argument,
    id_option,
    parse_duration,
    parse_ids,
    parse_time,
    split_csv,
)
from autotrader.cli._payments import (
    ReasonOption,
    ReferenceOption,
    TxOption,
    VerifierOption,
    payment_verifier,
    transfer_hash,
)

app = typer.Typer(help="Races, tickets, payouts, balances, the Hall of Fame.", no_args_is_help=True)
races_app = typer.Typer(help="Races: create, list, show, run the job.", no_args_is_help=True)
tickets_app = typer.Typer(help="Tickets on an accumulating race (real USDC).", no_args_is_help=True)
payouts_app = typer.Typer(help="What settlements paid whom.", no_args_is_help=True)
app.add_typer(races_app, name="races")
app.add_typer(tickets_app, name="tickets")
app.add_typer(payouts_app, name="payouts")

RaceArgument = Annotated[int, id_argument("The race's id (see `arena races list`).")]
TicketArgument = Annotated[int, id_argument("The ticket's id.")]
RaceFilter = Annotated[int | None, id_option("--race", "Only this race's.")]
OwnerFilter = Annotated[str | None, typer.Option("--owner", help="Only this owner's.")]


@races_app.command("create")
def races_create(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--start", help="ISO-8601 UTC start (tickets sell until).")],
    duration: Annotated[str, typer.Option("--duration", help="How long it races: 30m, 24h, 7d.")],
    entrants: Annotated[
        str | None, typer.Option("--entrants", help="all-slots: every clone in the arena.")
    ] = None,
    clones: Annotated[
        str | None, typer.Option("--clones", help="Or these arena clones: 1,2,3.")
    ] = None,
    rules: Annotated[
        str, typer.Option("--rules", help="standard, conservative or aggressive.")
    ] = "standard",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a race among arena clones; tickets sell until it starts.

    Its entrants, rules and pool terms are fixed now.
    Example: autotrader arena races create --start 2026-03-01T00:00:00Z --duration 24h
    """
    from autotrader.arena.models import RaceRules, RaceTerms
    from autotrader.arena.races import create_race
    from autotrader.arena.vocabulary import RuleSet

    rules = choice(rules, name="--rules", allowed=RuleSet)
    chosen = _entrants(entrants, clones)
    settings = settings_for(ctx, db)
    race = create_race(open_store(ctx, db), clock(ctx), starts_at=parse_time(start, name="--start"),
                       duration_ms=parse_duration(duration, name="--duration"),
                       rules=RaceRules.named(settings, rules),
                       terms=RaceTerms.from_settings(settings), clone_ids=chosen,
                       actor=actor())  # fmt: skip
    render.race_created(race, as_json=as_json)


def _entrants(entrants: str | None, clones: str | None) -> list[int] | None:
    from autotrader.core.errors import InvalidInputError

    if entrants is not None and clones is not None:
        raise InvalidInputError("give --entrants all-slots or --clones, not both")
    choice(entrants, name="--entrants", allowed=("all-slots",))
    if clones is None:
        return None
    return parse_ids(clones, name="--clones")


@races_app.command("list")
def races_list(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", help="accumulating, live, settled, ...")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every race, oldest first. Example: autotrader arena races list --status live"""
    from autotrader.arena.races import list_races
    from autotrader.arena.vocabulary import RaceStatus

    status = choice(status, name="--status", allowed=RaceStatus)
    render.races(list_races(open_store(ctx, db, readonly=True), status=status), as_json=as_json)


@races_app.command("show")
def races_show(
    ctx: typer.Context, race_id: RaceArgument, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """A race: rules, terms, entrants with their pools and results, the settlement table.

    The settlement table is the pool split and every row it paid; then the strikes.
    Example: autotrader arena races show 3
    """
    from autotrader.arena.races import race_detail

    render.race(race_detail(open_store(ctx, db, readonly=True), race_id), as_json=as_json)


@races_app.command("run-once")
def races_run_once(
    ctx: typer.Context,
    race: Annotated[
        int | None, id_option("--race", "Only settle this race (refused before its end).")
    ] = None,
    db: DbOption = None,
) -> None:
    """One pass of the races job: tickets, launches, settlements, Hall of Fame, archive.

    Pending tickets are paid from the treasury's transfers or expired, due races launched,
    finished ones settled, retired clones inducted, old races archived.
    Example: autotrader arena races run-once
    """
    if race is not None:
        from autotrader.arena.settlement import require_settleable

        require_settleable(open_store(ctx, db), race, clock(ctx).now_ms())
    report = run_job(ctx, "arena-races", db=db, options={"race": race})
    render.tick(report, summary=report.summary)


@races_app.command("worker")
def races_worker(
    ctx: typer.Context,
    interval: IntervalOption = None,
    max_ticks: MaxTicksOption = None,
    db: DbOption = None,
) -> None:
    """Run the races job forever (any number of workers may share a store).

    Example: autotrader arena races worker --interval 60
    """
    run_job(ctx, "arena-races", db=db, loop=True, interval=interval, max_ticks=max_ticks)


@tickets_app.command("buy")
def tickets_buy(
    ctx: typer.Context,
    race: Annotated[int, id_option("--race", "An accumulating race's id.")],
    clone_id: Annotated[int, id_option("--clone-id", "The entrant it backs.")],
    amount: Annotated[
        Decimal, decimal_option("--amount", "USDC, up to six decimals.", positive=True)
    ],
    owner: Annotated[str, typer.Option("--owner", help="Who holds (and pays for) it.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Buy a ticket: pending until paid (`arena tickets verify`, or the treasury's transfer).

    Example: autotrader arena tickets buy --race 3 --clone-id 42 --amount 25 --owner alice
    """
    from autotrader.arena.models import ArenaPolicy
    from autotrader.arena.tickets import buy

    policy = ArenaPolicy.from_settings(settings_for(ctx, db))
    ticket = buy(open_store(ctx, db), clock(ctx), race_id=race, clone_id=clone_id, owner=owner,
                 amount=amount, policy=policy)  # fmt: skip
    render.ticket(ticket, as_json=as_json)


@tickets_app.command("verify")
def tickets_verify(
    ctx: typer.Context,
    ticket_id: TicketArgument,
    verifier: VerifierOption = "manual",
    reference: ReferenceOption = None,
    reason: ReasonOption = None,
    amount: Annotated[
        Decimal | None,
        decimal_option("--amount", "manual: USDC received (default the ticket).", positive=True),
    ] = None,
    tx: TxOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Verify a ticket's payment by hand or from the treasury's transfers; exit 1 if unpaid.

    Example: autotrader arena tickets verify 7 --reference wire-77 --reason "paid by wire"
    """
    from autotrader.arena.tickets import verify_ticket

    settings, now = settings_for(ctx, db), clock(ctx)
    chosen = payment_verifier(settings, now, verifier, reference, reason, amount, tx)
    result = verify_ticket(open_store(ctx, db), now, ticket_id, chosen, actor=actor(),
                           transfer=transfer_hash(tx))  # fmt: skip
    render.verification(result, as_json=as_json)
    if not result.settlement.paid:
        raise typer.Exit(1)


@tickets_app.command("list")
def tickets_list(
    ctx: typer.Context,
    race: RaceFilter = None,
    owner: OwnerFilter = None,
    status: Annotated[
        str | None, typer.Option("--status", help="pending, paid, expired or refunded.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Tickets, oldest first. Example: autotrader arena tickets list --race 3 --owner alice"""
    from autotrader.arena.tickets import list_tickets
    from autotrader.arena.vocabulary import TicketStatus

    status = choice(status, name="--status", allowed=TicketStatus)
    rows = list_tickets(open_store(ctx, db, readonly=True), race_id=race, owner=owner,
                        status=status)  # fmt: skip
    render.tickets(rows, as_json=as_json)


@tickets_app.command("show")
def tickets_show(
    ctx: typer.Context, ticket_id: TicketArgument, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """A ticket with every verification outcome. Example: autotrader arena tickets show 7"""
    from autotrader.arena.tickets import ticket_detail

    render.ticket(ticket_detail(open_store(ctx, db, readonly=True), ticket_id), as_json=as_json)


@payouts_app.command("list")
def payouts_list(
    ctx: typer.Context,
    owner: OwnerFilter = None,
    race: RaceFilter = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="payout, royalty, rake, unclaimed, dust, refund (a,b)."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Settlement rows, oldest first: payouts, royalties, rake, dust and refunds.

    Example: autotrader arena payouts list --owner alice --kind payout,royalty
    """
    from autotrader.arena.payouts import payouts
    from autotrader.arena.vocabulary import PayoutKind

    kinds = tuple(split_csv(kind, name="--kind", allowed=tuple(PayoutKind)))
    rows = payouts(open_store(ctx, db, readonly=True), owner=owner, race_id=race, kinds=kinds)
    render.payouts(rows, as_json=as_json)


@app.command("balances")
def balances(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every economy balance: owners' credit, race pools, the protocol's accounts.

    Example: autotrader arena balances --json
    """
    from autotrader.arena.payouts import balances as rows

    render.balances(rows(open_store(ctx, db, readonly=True)), as_json=as_json)


@app.command("hall-of-fame")
def hall_of_fame(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Retired clones with the record they retired with.

    Races, wins, best finish, lifetime race return, royalties, strikes and the profile at
    retirement, kept as they were whatever changes later.
    Example: autotrader arena hall-of-fame
    """
    from autotrader.arena.hall_of_fame import hall_of_fame as records

    render.hall_of_fame(records(open_store(ctx, db, readonly=True)), as_json=as_json)


@app.command("export")
def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="csv, json or parquet.")],
    what: Annotated[str, typer.Option("--what", help="payouts or tickets.")] = "payouts",
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default stdout; parquet needs it).")
    ] = None,
    race: RaceFilter = None,
    owner: OwnerFilter = None,
    force: ForceOption = False,
    db: DbOption = None,
) -> None:
    """Export settlement rows or tickets like `ledger export` (decimals as strings).

    The file appears whole or not at all; an existing one is replaced only with --force.
    Example: autotrader arena export --what payouts --format csv --out payouts.csv
    """
    import sys

    from autotrader.arena.export import export as run_export

    result = run_export(open_store(ctx, db, readonly=True), what=what, fmt=fmt, race_id=race,
                        owner=owner, out=out, stream=None if out else sys.stdout,
                        force=force)  # fmt: skip
    if result.path is not None:
        render.say(f"wrote {result.rows} {what} rows as {fmt} to {result.path.resolve()}")
