"""``autotrader prop accounts``: open, list and inspect prop accounts."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer

from autotrader.cli._context import clock, open_store
from autotrader.cli._options import DbOption, JsonOption, split_csv
from autotrader.cli._render import out, print_json, say, table

if TYPE_CHECKING:
    from autotrader.prop.accounts import AccountState

app = typer.Typer(help="Open, list and inspect prop accounts.", no_args_is_help=True)


def _decimal(value: str | None, name: str) -> Decimal | None:
    from autotrader.core.money import to_decimal

    return None if value is None else to_decimal(value, field=name)


@app.command("create")
def create(
    ctx: typer.Context,
    clone_id: Annotated[int, typer.Option("--clone-id", help="The clone this account trades for.")],
    balance: Annotated[str, typer.Option("--balance", help="Starting balance in USDC.")],
    kind: Annotated[str, typer.Option("--kind", help="sandbox, audition or race.")] = "sandbox",
    max_leverage: Annotated[int | None, typer.Option("--max-leverage", help="Default 10.")] = None,
    slippage_bps: Annotated[str | None, typer.Option("--slippage-bps", help="Default 5.")] = None,
    taker_fee: Annotated[str | None, typer.Option("--taker-fee", help="Default 0.00045.")] = None,
    maker_fee: Annotated[str | None, typer.Option("--maker-fee", help="Default 0.00015.")] = None,
    max_position_notional: Annotated[
        str | None, typer.Option("--max-position-notional", help="USD cap per position (5000).")
    ] = None,
    max_open_positions: Annotated[int | None, typer.Option("--max-open-positions")] = None,
    max_daily_trades: Annotated[int | None, typer.Option("--max-daily-trades")] = None,
    max_drawdown: Annotated[
        str | None, typer.Option("--max-drawdown", help="Fraction that freezes (0.2).")
    ] = None,
    allowed_symbols: Annotated[
        str | None, typer.Option("--allowed-symbols", help="Comma list; default all.")
    ] = None,
    margin_mode: Annotated[
        str | None, typer.Option("--margin-mode", help="isolated or cross.")
    ] = None,
    require_stop: Annotated[
        bool, typer.Option("--require-stop", help="OPENs need a stop.")
    ] = False,
    venue: Annotated[
        str,
        typer.Option("--venue", help="paper, hyperliquid-testnet or hyperliquid (real money)."),
    ] = "paper",
    deposit_cap: Annotated[
        str | None,
        typer.Option(
            "--deposit-cap",
            help="Most open notional + pending orders may reach, USDC (live venues; default "
            "AUTOTRADER_DEPOSIT_CAP_USDC, required for hyperliquid).",
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open a prop account: a bounded trading run for one clone, on paper or on a venue.

    Example: autotrader prop accounts create --clone-id 42 --kind sandbox --balance 10000
    Example: autotrader prop accounts create --clone-id 42 --balance 500 --venue hyperliquid
    --deposit-cap 500
    """
    from pydantic import ValidationError

    from autotrader.cli._context import settings_for
    from autotrader.clones.accounts import open_clone_account
    from autotrader.core.errors import InvalidInputError
    from autotrader.core.money import to_decimal
    from autotrader.prop.accounts import account_state
    from autotrader.prop.models import AccountKind, AccountRules, validation_summary
    from autotrader.prop.vocabulary import Venue

    split_csv(kind, name="--kind", allowed=tuple(AccountKind))
    split_csv(venue, name="--venue", allowed=tuple(Venue))
    cap = _decimal(deposit_cap, "--deposit-cap")
    if cap is None and Venue(venue).is_live:
        cap = settings_for(ctx, db).deposit_cap_usdc
    given = {
        "max_leverage": max_leverage,
        "slippage_bps": _decimal(slippage_bps, "--slippage-bps"),
        "taker_fee": _decimal(taker_fee, "--taker-fee"),
        "maker_fee": _decimal(maker_fee, "--maker-fee"),
        "max_position_notional": _decimal(max_position_notional, "--max-position-notional"),
        "max_open_positions": max_open_positions,
        "max_daily_trades": max_daily_trades,
        "max_drawdown": _decimal(max_drawdown, "--max-drawdown"),
        "allowed_symbols": split_csv(allowed_symbols, name="--allowed-symbols") or None,
        "margin_mode": margin_mode,
        "require_stop": require_stop or None,
    }
    try:
        rules = AccountRules(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        raise InvalidInputError(f"invalid account rules: {validation_summary(exc)}") from None
    store = open_store(ctx, db)
    account_id = open_clone_account(
        store,
        clock(ctx),
        clone_id=clone_id,
        kind=kind,
        starting_balance=to_decimal(balance, field="--balance"),
        rules=rules,
        venue=venue,
        deposit_cap=cap,
    )
    render_account(account_state(store, account_id, clock(ctx).now_ms()), as_json=as_json)


@app.command("list")
def list_accounts(
    ctx: typer.Context,
    clone_id: Annotated[int | None, typer.Option("--clone-id", help="Only this clone's.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="active, frozen, ...")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List prop accounts with balance and status.

    Example: autotrader prop accounts list --clone-id 42
    """
    from autotrader.prop.accounts import account_state
    from autotrader.prop.repo import list_accounts as rows

    store = open_store(ctx, db, readonly=True)
    now = clock(ctx).now_ms()
    states = [
        account_state(store, a["id"], now) for a in rows(store, clone_id=clone_id, status=status)
    ]
    if as_json:
        print_json([_summary(s) for s in states])
        return
    if not states:
        say("no prop accounts yet; open one with `autotrader prop accounts create`")
        return
    columns = ["id", "clone", "kind", "status", "balance", "equity", "drawdown", "open"]
    body = [
        (
            s.account["id"],
            s.account["clone_id"],
            s.account["kind"],
            s.account["status"],
            f"{s.balance:,.2f}",
            f"{s.equity:,.2f}",
            f"{s.drawdown:.2%}",
            len(s.positions),
        )
        for s in states
    ]
    out.print(table("Prop accounts", columns, body))


@app.command("show")
def show(
    ctx: typer.Context,
    account_id: Annotated[int, typer.Argument(help="Account id.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Balance, equity, margin, drawdown, limits and open positions of one account.

    Example: autotrader prop accounts show 1 --json
    """
    from autotrader.prop.accounts import account_state

    render_account(
        account_state(open_store(ctx, db, readonly=True), account_id, clock(ctx).now_ms()),
        as_json=as_json,
    )


def _summary(state: AccountState) -> dict:
    a = state.account
    return {
        "id": a["id"],
        "clone_id": a["clone_id"],
        "kind": a["kind"],
        "venue": a["venue"],
        "deposit_cap": a["deposit_cap"],
        "status": a["status"],
        "status_reason": a["status_reason"],
        "quote": a["quote"],
        "starting_balance": a["starting_balance"],
        "balance": state.balance,
        "cash": state.cash,
        "margin_used": state.margin_used,
        "unrealized_pnl": state.unrealized_pnl,
        "equity": state.equity,
        "peak_equity": state.peak_equity,
        "drawdown": state.drawdown,
        "rules": a["rules"].model_dump(mode="json"),
        "positions": [
            {
                k: p.row[k]
                for k in (
                    "id",
                    "symbol",
                    "side",
                    "qty",
                    "entry_price",
                    "leverage",
                    "margin",
                    "liquidation_price",
                    "stop",
                    "target",
                )
            }
            | {"mark": p.mark, "unrealized_pnl": p.unrealized}
            for p in state.positions
        ],
    }


def render_account(state: AccountState, *, as_json: bool) -> None:
    data = _summary(state)
    if as_json:
        print_json(data)
        return
    facts = [
        ("account", f"{data['id']} (clone {data['clone_id']}, {data['kind']}, {data['venue']})"),
        (
            "status",
            data["status"] + (f" — {data['status_reason']}" if data["status_reason"] else ""),
        ),
        ("balance", f"{state.balance:,.2f} {data['quote']}"),
        ("equity", f"{state.equity:,.2f}"),
        ("margin used", f"{state.margin_used:,.2f}"),
        ("unrealized PnL", f"{state.unrealized_pnl:+,.2f}"),
        ("drawdown", f"{state.drawdown:.2%} (peak {state.peak_equity:,.2f})"),
    ]
    if data["deposit_cap"] is not None:
        facts.append(("deposit cap", f"{data['deposit_cap']:,.2f} {data['quote']}"))
    facts += [(f"rule {k}", str(v)) for k, v in data["rules"].items()]
    out.print(table(f"Prop account {data['id']}", ["", ""], facts))
    if state.positions:
        columns = [
            "id",
            "symbol",
            "side",
            "qty",
            "entry",
            "mark",
            "lev",
            "margin",
            "liq",
            "stop",
            "target",
            "uPnL",
        ]
        rows = [
            (
                p.row["id"],
                p.row["symbol"],
                p.row["side"],
                p.row["qty"],
                p.row["entry_price"],
                p.mark,
                f"{p.row['leverage']:.2f}",
                f"{p.row['margin']:,.2f}",
                _money(p.row["liquidation_price"]),
                p.row["stop"],
                p.row["target"],
                f"{p.unrealized:+,.2f}",
            )
            for p in state.positions
        ]
        out.print(table("Open positions", columns, rows))


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"
