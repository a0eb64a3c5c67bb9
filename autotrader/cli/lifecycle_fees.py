"""``autotrader lifecycle fees`` and ``economy``: audition fees (real USDC) and the economy
ledger they are booked in."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import typer

from autotrader.cli import lifecycle_render as render
from autotrader.cli._context import actor, clock, open_store, settings_for
from autotrader.cli._loop import run_job
from autotrader.cli._options import (
    DbOption,
    IntervalOption,
    JsonOption,
    LoopOption,
    MaxTicksOption,
    choice,
    decimal_option,
    id_argument,
    id_option,
)
from autotrader.cli._payments import (
    ReasonOption,
    ReferenceOption,
    TxOption,
    VerifierOption,
    transfer_hash,
)
from autotrader.cli._render import say, styled

app = typer.Typer(help="Audition fees: request, verify, list, reconcile.", no_args_is_help=True)
economy_app = typer.Typer(help="The economy ledger of real money.", no_args_is_help=True)

CloneIdOption = Annotated[int, id_option("--clone-id", "The clone's id, e.g. 42.")]
FeeIdArgument = Annotated[int, id_argument("The audition fee's id.")]


@app.command("request")
def request(
    ctx: typer.Context, clone_id: CloneIdOption, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """Request the fee of the clone's next audition: amount, unique reference, expiry.

    Example: autotrader lifecycle fees request --clone-id 42
    """
    from autotrader.lifecycle.fees import FeePolicy, request_fee

    policy = FeePolicy.from_settings(settings_for(ctx, db))
    fee = request_fee(open_store(ctx, db), clock(ctx), clone_id, policy, actor=actor())
    render.fee(fee, as_json=as_json)


@app.command("list")
def list_fees(
    ctx: typer.Context,
    clone_id: Annotated[int | None, id_option("--clone-id", "Only this clone's.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="pending, verified or expired.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Audition fees, oldest first. Example: autotrader lifecycle fees list --status pending"""
    from autotrader.lifecycle.fees import list_fees as rows
    from autotrader.lifecycle.vocabulary import FeeStatus

    status = choice(status, name="--status", allowed=FeeStatus)
    store = open_store(ctx, db, readonly=True)
    render.fees(rows(store, clone_id=clone_id, status=status), as_json=as_json)


@app.command("show")
def show(
    ctx: typer.Context, fee_id: FeeIdArgument, db: DbOption = None, as_json: JsonOption = False
):
    """A fee with every verification outcome. Example: autotrader lifecycle fees show 1"""
    from autotrader.lifecycle.fees import fee_detail

    render.fee(fee_detail(open_store(ctx, db, readonly=True), fee_id), as_json=as_json)


@app.command("verify")
def verify(
    ctx: typer.Context,
    fee_id: FeeIdArgument,
    verifier: VerifierOption = "manual",
    reference: ReferenceOption = None,
    reason: ReasonOption = None,
    amount: Annotated[
        Decimal | None,
        decimal_option("--amount", "manual: USDC received (default the fee).", positive=True),
    ] = None,
    tx: TxOption = None,
    override_expiry: Annotated[
        bool, typer.Option("--override-expiry", help="manual: verify a fee that expired.")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Verify a fee by hand, or from the treasury's Hyperliquid transfers; exit 1 if unpaid.

    Example: autotrader lifecycle fees verify 1 --reference wire-0042 --reason "paid by wire"
    """
    from autotrader.lifecycle.fees import FeePolicy, verify_fee

    settings, now = settings_for(ctx, db), clock(ctx)
    chosen = _verifier(settings, now, verifier, reference, reason, amount, tx, override_expiry)
    store = open_store(ctx, db)
    result = verify_fee(
        store,
        now,
        fee_id,
        chosen,
        FeePolicy.from_settings(settings),
        actor=actor(),
        transfer=transfer_hash(tx),
        override_expiry=override_expiry,
    )
    render.verification(result, as_json=as_json)
    if not result.settlement.paid:
        raise typer.Exit(1)


def _verifier(settings, now, name, reference, reason, amount, tx, override_expiry):
    from autotrader.cli._payments import payment_verifier
    from autotrader.core.errors import InvalidInputError
    from autotrader.lifecycle.vocabulary import VerifierName

    if name == VerifierName.HYPERLIQUID and (reference or reason or amount or override_expiry):
        raise InvalidInputError(
            "--reference, --reason, --amount and --override-expiry are for --verifier manual"
        )
    return payment_verifier(settings, now, name, reference, reason, amount, tx)


@app.command("reconcile")
def reconcile(
    ctx: typer.Context,
    loop: LoopOption = False,
    interval: IntervalOption = None,
    max_ticks: MaxTicksOption = None,
    db: DbOption = None,
) -> None:
    """Verify pending fees the treasury was paid, expire those whose window closed unpaid.

    Safe from cron while a worker runs. Example: autotrader lifecycle fees reconcile --loop
    """
    report = run_job(
        ctx, "lifecycle-reconcile", db=db, loop=loop, interval=interval, max_ticks=max_ticks
    )
    if report is not None:
        say(f"reconcile: {report.summary}")


@economy_app.command("show")
def economy_show(
    ctx: typer.Context,
    holder: Annotated[
        str | None, typer.Option("--holder", help="One owner's handle, or protocol:fees.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="Entries.")] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Economy entries newest first, every balance, and the conservation check.

    Example: autotrader lifecycle economy show --holder alice
    """
    from autotrader.lifecycle.economy import ledger_view

    store = open_store(ctx, db, readonly=True)
    entries, balances, problems = ledger_view(store, holder=holder, limit=limit)
    render.economy(entries, balances, problems, as_json=as_json)


@economy_app.command("verify")
def economy_verify(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Recheck that real money adds up; print every violation and exit 1 if there is any.

    Example: autotrader lifecycle economy verify
    """
    from autotrader.cli._render import print_json
    from autotrader.lifecycle.economy import verify_economy

    problems = verify_economy(open_store(ctx, db, readonly=True))
    if as_json:
        print_json({"ok": not problems, "problems": problems})
    else:
        for problem in problems:
            say(styled("violation", "red"), f" {problem}")
        say("economy ledger: every invariant holds" if not problems else "")
    if problems:
        raise typer.Exit(1)
