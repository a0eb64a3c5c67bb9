"""``autotrader live``: credentials check, status, reconciliation and the kill switch."""

from __future__ import annotations

from typing import Annotated

import typer

from autotrader.cli._context import clock, open_store, settings_for
from autotrader.cli._loop import run_job
from autotrader.cli._options import (
    DbOption,
    IntervalOption,
    JsonOption,
    LoopOption,
    MaxTicksOption,
    id_option,
)
from autotrader.cli._render import out, print_json, say, table

app = typer.Typer(
    help="Live venues: check credentials, status, reconcile, halt.", no_args_is_help=True
)

AccountOption = Annotated[int, id_option("--account", "A live prop account's id.")]


def _live_account(store, account_id: int) -> dict:
    from autotrader.core.errors import InvalidInputError
    from autotrader.prop.accounts import require_account
    from autotrader.prop.vocabulary import Venue

    account = require_account(store, account_id)
    if not Venue(account["venue"]).is_live:
        raise InvalidInputError(f"account {account_id} trades on paper: it has no venue to check")
    return account


@app.command("check")
def check(
    ctx: typer.Context, account: AccountOption, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """Prove the credentials against the account's venue: the key may sign for the wallet, and
    its balance and positions read back. Nothing is traded.

    Example: autotrader live check --account 3
    """
    from autotrader.live.factory import trader
    from autotrader.prop.vocabulary import Venue

    row = _live_account(open_store(ctx, db, readonly=True), account)
    client = trader(settings_for(ctx, db), Venue(row["venue"]))
    signer = client.signer_approved()
    wallet, resting = client.snapshot(), client.open_orders()
    data = {
        "account": account,
        "venue": row["venue"],
        "signer": signer,
        "account_value": wallet.account_value,
        "open_notional": wallet.total_notional,
        "positions": [
            {"symbol": p.symbol, "size": p.size, "entry_price": p.entry_price}
            for p in wallet.positions
        ],
        "open_orders": len(resting),
    }
    if as_json:
        print_json(data)
        return
    say(f"[green]ok[/green] {row['venue']}: {signer}")
    say(
        f"account value {wallet.account_value:,.2f} USDC, open notional "
        f"{wallet.total_notional:,.2f}, {len(wallet.positions)} position(s), "
        f"{len(resting)} open order(s)"
    )


@app.command("status")
def status(
    ctx: typer.Context,
    account: Annotated[int | None, id_option("--account", "Only this account.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Live accounts, the halt, their latest orders and the drift reconciliation found (from
    the store: no network).

    Example: autotrader live status --account 3
    """
    from autotrader.live import repo as live_repo
    from autotrader.live.factory import halted
    from autotrader.prop import repo as prop_repo

    settings = settings_for(ctx, db)
    store = open_store(ctx, db, readonly=True)
    accounts = [
        a
        for a in prop_repo.list_accounts(store)
        if a["venue"] != "paper" and account in (None, a["id"])
    ]
    data = {
        "halted": halted(settings),
        "accounts": [
            {
                "id": a["id"],
                "venue": a["venue"],
                "status": a["status"],
                "status_reason": a["status_reason"],
                "deposit_cap": a["deposit_cap"],
                "orders": live_repo.orders(store, a["id"], limit=10),
            }
            for a in accounts
        ],
        "drift": live_repo.drift_events(store, limit=20),
    }
    if as_json:
        print_json(data)
        return
    say(f"live submission: {'[red]HALTED[/red]' if data['halted'] else 'on'}")
    rows = [
        [a["id"], a["venue"], a["status"], a["deposit_cap"] or "—", len(a["orders"])]
        for a in data["accounts"]
    ]
    out.print(table("Live accounts", ["id", "venue", "status", "cap", "orders"], rows))
    for a in data["accounts"]:
        for o in a["orders"]:
            say(
                f"  account {a['id']} {o['purpose']} {o['side']} {o['qty']} {o['symbol']}: "
                f"{o['outcome']}" + (f" — {o['message']}" if o["message"] else "")
            )
    drift = [[d["venue"], d["kind"], d["symbol"] or "", d["detail"]] for d in data["drift"]]
    out.print(table("Drift", ["venue", "kind", "symbol", "detail"], drift))


@app.command("reconcile")
def reconcile(
    ctx: typer.Context,
    loop: LoopOption = False,
    interval: IntervalOption = None,
    max_ticks: MaxTicksOption = None,
    db: DbOption = None,
) -> None:
    """Compare each live venue's positions and orders with the store; record drift, freeze the
    venue's accounts on unknown state.

    Example: autotrader live reconcile --loop
    """
    report = run_job(
        ctx, "live-reconcile", db=db, loop=loop, interval=interval, max_ticks=max_ticks
    )
    if report is not None:
        say(f"reconcile: {report.summary}")


@app.command("halt")
def halt(
    ctx: typer.Context,
    account: Annotated[
        int | None, id_option("--account", "Only this account (then frozen).")
    ] = None,
    flatten: Annotated[
        bool, typer.Option("--flatten", help="Also close every open position.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Stop live trading: the halt file (all accounts), cancel resting orders, optionally close
    positions with reduce-only orders.

    Example: autotrader live halt --flatten
    """
    from autotrader.live.factory import trader
    from autotrader.live.halt import halt as halt_live
    from autotrader.prop.factory import precision

    settings = settings_for(ctx, db)
    store = open_store(ctx, db)
    report = halt_live(
        store,
        clock(ctx),
        precision(store, clock(ctx)),
        lambda venue: trader(settings, venue),
        halt_file=settings.halt_path,
        account_id=account,
        flatten=flatten,
    )
    say(f"halted: {report.summary()}")
    if report.failed:
        raise typer.Exit(1)


@app.command("resume")
def resume(ctx: typer.Context, db: DbOption = None) -> None:
    """Remove the halt file (a frozen account stays frozen until `prop admin unfreeze`).

    Example: autotrader live resume
    """
    settings = settings_for(ctx, db)
    path = settings.halt_path
    path.unlink(missing_ok=True)
    still = " (AUTOTRADER_LIVE_HALT is still set)" if settings.live_halt else ""
    say(f"live submission resumed: {path} removed{still}")
