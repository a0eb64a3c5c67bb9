"""``autotrader prop``: trade prop accounts by hand (through the same gates), watch positions,
mark to market, and administer accounts."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer

from autotrader.cli import prop_accounts
from autotrader.cli._context import clock, open_store, settings_for
from autotrader.cli._loop import run_job
from autotrader.cli._options import (
    DbOption,
    IntervalOption,
    JsonOption,
    LoopOption,
    MaxTicksOption,
    count_option,
    decimal_option,
    id_option,
)
from autotrader.cli._render import out, print_json, say, styled, table

if TYPE_CHECKING:
    from autotrader.prop.execution import Submission

app = typer.Typer(
    help="Prop accounts: manual intents, positions, mark-to-market, admin.", no_args_is_help=True
)
app.add_typer(prop_accounts.app, name="accounts")
admin_app = typer.Typer(
    help="Freeze, unfreeze, flatten or finalize an account (ledgered).", no_args_is_help=True
)
app.add_typer(admin_app, name="admin")

AccountOption = Annotated[int, id_option("--account", "Prop account id.")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (written to the ledger).")]


def render_submission(sub: Submission, *, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "intent_id": sub.intent_id,
                "accepted": sub.accepted,
                "reject_code": sub.reject_code,
                "reason": sub.reason,
                "replayed": sub.replayed,
                "gates": sub.gate_results,
                "fill": sub.fill,
                "position_id": sub.booked.position_id if sub.booked else None,
            }
        )
        return
    rows = [
        (
            g["gate"],
            styled("pass", "green") if g["passed"] else styled("FAIL", "red"),
            g["code"],
            g["reason"],
        )
        for g in sub.gate_results
    ]
    out.print(table(f"Intent {sub.intent_id}: gates", ["gate", "result", "code", "reason"], rows))
    if not sub.accepted:
        say(styled("rejected", "red"), f" ({sub.reject_code}): {sub.reason}")
    elif sub.fill:
        f = sub.fill
        say(
            styled("filled", "green"),
            f" {f['side']} {f['qty']} {f['symbol']} @ {f['price']} "
            f"(reference {f['reference_price']}, fee {f['fee']}) → position {f['position_id']}",
        )
    else:
        say(styled("accepted", "green"), " (nothing to fill)")
    if sub.replayed:
        say("(idempotency key seen before: this is the earlier outcome, nothing new was booked)")


def _text(value: Decimal | None) -> str | None:
    """A parsed decimal as the intent contract takes it: canonical text, as a model writes it."""
    from autotrader.core.money import to_text

    return None if value is None else to_text(value)


def _submit(
    ctx: typer.Context, db, account: int, intent_data: dict, key: str | None, as_json: bool
) -> None:
    from autotrader.live.factory import prop_desk
    from autotrader.prop.models import parse_intent

    intent = parse_intent({k: v for k, v in intent_data.items() if v is not None})
    store = open_store(ctx, db)
    desk = prop_desk(settings_for(ctx, db), store, clock(ctx))
    submission = desk.submit(account, intent, idempotency_key=key)
    render_submission(submission, as_json=as_json)
    if not submission.accepted:
        raise typer.Exit(1)


@app.command("order")
def order(
    ctx: typer.Context,
    account: AccountOption,
    symbol: Annotated[str, typer.Option("--symbol", help="e.g. BTC.")],
    side: Annotated[str, typer.Option("--side", help="long or short.")],
    notional: Annotated[
        Decimal | None, decimal_option("--notional", "Size in USD.", positive=True)
    ] = None,
    qty: Annotated[
        Decimal | None, decimal_option("--qty", "Size in asset units.", positive=True)
    ] = None,
    leverage: Annotated[int, count_option("--leverage", "1 to the account/market max.")] = 1,
    stop: Annotated[
        Decimal | None, decimal_option("--stop", "Stop-loss price.", positive=True)
    ] = None,
    target: Annotated[
        Decimal | None, decimal_option("--target", "Take-profit price.", positive=True)
    ] = None,
    time_exit: Annotated[
        str | None, typer.Option("--time-exit", help="ISO-8601 UTC close time.")
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--idempotency-key",
            help="Retries of this order with it fill once; another order under it is refused.",
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open (or add to) a position with a market order, through the safety gates.

    Exits 1 when a gate rejects it. Example:
    autotrader prop order --account 1 --symbol BTC --side long --notional 500 --stop 60000
    """
    plan = {"stop": _text(stop), "target": _text(target), "time_exit": time_exit}
    intent = {
        "action": "OPEN",
        "symbol": symbol,
        "side": side.upper(),
        "qty": _text(qty),
        "notional_usd": _text(notional),
        "leverage": leverage,
        "exit_plan": {k: v for k, v in plan.items() if v is not None} or None,
    }
    _submit(ctx, db, account, intent, key, as_json)


@app.command("close")
def close(
    ctx: typer.Context,
    account: AccountOption,
    symbol: Annotated[str, typer.Option("--symbol", help="e.g. BTC.")],
    qty: Annotated[
        Decimal | None,
        decimal_option("--qty", "Partial close size (default all).", positive=True),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--idempotency-key",
            help="Retries of this order with it fill once; another order under it is refused.",
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Close a position (all of it, or --qty of it) with a market order, through the gates.

    Example: autotrader prop close --account 1 --symbol BTC --qty 0.001
    """
    intent = {"action": "CLOSE", "symbol": symbol, "qty": _text(qty)}
    _submit(ctx, db, account, intent, key, as_json)


@app.command("positions")
def positions(
    ctx: typer.Context,
    account: Annotated[int | None, id_option("--account", "Only this account.")] = None,
    status: Annotated[str, typer.Option("--status", help="open, closed or all.")] = "open",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Positions with side, size, entry, exit plan and PnL.

    Example: autotrader prop positions --account 1 --status all --json
    """
    from autotrader.cli._options import choice
    from autotrader.prop import repo as prop_repo

    status = choice(status, name="--status", allowed=("open", "closed", "all"))
    rows = prop_repo.positions(
        open_store(ctx, db, readonly=True),
        account_id=account,
        status=None if status == "all" else status.upper(),
    )
    if as_json:
        print_json(rows)
        return
    if not rows:
        say(f"no {status} positions")
        return
    columns = [
        "id",
        "acct",
        "symbol",
        "side",
        "status",
        "qty",
        "entry",
        "exit",
        "stop",
        "target",
        "realized",
        "fees",
        "trigger",
    ]
    body = [
        (
            r["id"],
            r["account_id"],
            r["symbol"],
            r["side"],
            r["status"],
            r["qty"] or r["max_qty"],
            r["entry_price"],
            r["exit_price"],
            r["stop"],
            r["target"],
            f"{r['realized_pnl']:+,.2f}",
            f"{r['fees_paid']:,.4f}",
            r["close_trigger"],
        )
        for r in rows
    ]
    out.print(table("Positions", columns, body))


@app.command("mark-to-market")
def mark_to_market(
    ctx: typer.Context,
    account: Annotated[int | None, id_option("--account", "Only this account.")] = None,
    loop: LoopOption = False,
    interval: IntervalOption = None,
    max_ticks: MaxTicksOption = None,
    db: DbOption = None,
) -> None:
    """Mark open positions, fire stops/targets/time exits/liquidations, book funding, snapshot.

    Safe from cron every minute while a worker also runs. Example: autotrader prop mark-to-market
    """
    report = run_job(
        ctx,
        "mark-to-market",
        db=db,
        options={"accounts": None if account is None else [account]},
        loop=loop,
        interval=interval,
        max_ticks=max_ticks,
    )
    if report is not None:
        say(f"mark-to-market: {report.summary}")


def _admin(ctx: typer.Context, db, account: int, action: str, reason: str) -> None:
    from autotrader.bootstrap import precision
    from autotrader.prop.admin import admin_action

    store = open_store(ctx, db)
    say(
        admin_action(
            store,
            clock(ctx),
            precision(store, clock(ctx)),
            account_id=account,
            action=action,
            reason=reason,
        )
    )


@admin_app.command("freeze")
def freeze(
    ctx: typer.Context, account: AccountOption, reason: ReasonOption, db: DbOption = None
) -> None:
    """Stop an account from trading (its stops still fire).

    Example: autotrader prop admin freeze --account 1 --reason 'manual review'
    """
    _admin(ctx, db, account, "freeze", reason)


@admin_app.command("unfreeze")
def unfreeze(
    ctx: typer.Context, account: AccountOption, reason: ReasonOption, db: DbOption = None
) -> None:
    """Let a frozen account trade again.

    Example: autotrader prop admin unfreeze --account 1 --reason 'review passed'
    """
    _admin(ctx, db, account, "unfreeze", reason)


@admin_app.command("close-all")
def close_all(
    ctx: typer.Context, account: AccountOption, reason: ReasonOption, db: DbOption = None
) -> None:
    """Close every open position at the latest price (gates bypassed, trigger ADMIN).

    Example: autotrader prop admin close-all --account 1 --reason 'risk off'
    """
    _admin(ctx, db, account, "close-all", reason)


@admin_app.command("finalize")
def finalize(
    ctx: typer.Context, account: AccountOption, reason: ReasonOption, db: DbOption = None
) -> None:
    """Close everything and end the run for good.

    Example: autotrader prop admin finalize --account 1 --reason 'audition over'
    """
    _admin(ctx, db, account, "finalize", reason)


@app.command("decisions-worker")
def decisions_worker(
    ctx: typer.Context,
    interval: IntervalOption = None,
    max_ticks: MaxTicksOption = None,
    db: DbOption = None,
) -> None:
    """The decision loop over every active prop account (same as `decisions worker`).

    Example: autotrader prop decisions-worker --interval 30
    """
    from autotrader.cli.decisions import worker

    worker(ctx, interval=interval, max_ticks=max_ticks, db=db)
