"""``autotrader prop accounts``: open, list and inspect prop accounts."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer

from autotrader.cli._context import clock, open_store
from autotrader.cli._options import DbOption, JsonOption, split_csv
from autotrader.cli._render import out, print_json, say, table

if TYPE_CHECKING:
    from autotrader.prop.accounts import AccountState
    from autotrader.prop.final import FinalResult

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
    min_confidence: Annotated[
        str | None, typer.Option("--min-confidence", help="OPENs below it are rejected (0.6).")
    ] = None,
    max_position_risk: Annotated[
        str | None,
        typer.Option("--max-position-risk", help="Equity one position may lose at its stop."),
    ] = None,
    max_portfolio_risk: Annotated[
        str | None,
        typer.Option("--max-portfolio-risk", help="Equity all positions may lose at stops."),
    ] = None,
    default_stop_pct: Annotated[
        str | None,
        typer.Option("--default-stop-pct", help="Stop for an OPEN without one (0.3 = 30%)."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open a prop account: a bounded paper trading run for one clone.

    Example: autotrader prop accounts create --clone-id 42 --kind sandbox --balance 10000
    """
    from pydantic import ValidationError

    from autotrader.clones.accounts import open_clone_account
    from autotrader.core.errors import InvalidInputError
    from autotrader.core.money import to_decimal
    from autotrader.prop.accounts import account_state
    from autotrader.prop.models import AccountKind, AccountRules, validation_summary

    split_csv(kind, name="--kind", allowed=tuple(AccountKind))
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
        "min_confidence": _decimal(min_confidence, "--min-confidence"),
        "max_position_risk": _decimal(max_position_risk, "--max-position-risk"),
        "max_portfolio_risk": _decimal(max_portfolio_risk, "--max-portfolio-risk"),
        "default_stop_pct": _decimal(default_stop_pct, "--default-stop-pct"),
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
    """Balance, equity, margin, drawdown, limits and open positions of one account; for a
    finalized one, its final result.

    Example: autotrader prop accounts show 1 --json
    """
    from autotrader.prop.accounts import account_state
    from autotrader.prop.final import final_result

    store = open_store(ctx, db, readonly=True)
    state = account_state(store, account_id, clock(ctx).now_ms())
    render_account(state, as_json=as_json, final=final_result(store, state.account))


def _summary(state: AccountState) -> dict:
    a = state.account
    return {
        "id": a["id"],
        "clone_id": a["clone_id"],
        "kind": a["kind"],
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


def render_account(state: AccountState, *, as_json: bool, final: FinalResult | None = None) -> None:
    data = _summary(state)
    if final is not None:
        data["final"] = asdict(final)
    if as_json:
        print_json(data)
        return
    facts = [
        ("account", f"{data['id']} (clone {data['clone_id']}, {data['kind']})"),
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
    facts += [(f"rule {k}", str(v)) for k, v in data["rules"].items()]
    if final is not None:
        from autotrader.core.clock import iso_utc

        facts += [
            ("finalized", iso_utc(final.finalized_at)),
            ("final equity", f"{final.equity:,.2f} (balance {final.balance:,.2f})"),
            ("return", f"{final.return_fraction:+.2%}"),
            ("max drawdown", f"{final.max_drawdown:.2%}"),
            ("trades", f"{final.trades} fills, {final.fees:,.2f} fees"),
        ]
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
