"""``autotrader prop accounts``: open, list and inspect prop accounts."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer

from autotrader.cli._context import clock, open_store
from autotrader.cli._options import (
    DbOption,
    JsonOption,
    choice,
    count_option,
    decimal_option,
    id_argument,
    id_option,
    parse_symbols,
)
from autotrader.cli._render import out, print_json, say, table

if TYPE_CHECKING:
    from autotrader.prop.accounts import AccountState
    from autotrader.prop.final import FinalResult

app = typer.Typer(help="Open, list and inspect prop accounts.", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    clone_id: Annotated[int, id_option("--clone-id", "The clone this account trades for.")],
    balance: Annotated[
        Decimal, decimal_option("--balance", "Starting balance in USDC.", positive=True)
    ],
    kind: Annotated[str, typer.Option("--kind", help="sandbox, audition or race.")] = "sandbox",
    max_leverage: Annotated[int | None, count_option("--max-leverage", "Default 10.")] = None,
    slippage_bps: Annotated[Decimal | None, decimal_option("--slippage-bps", "Default 5.")] = None,
    taker_fee: Annotated[Decimal | None, decimal_option("--taker-fee", "Default 0.00045.")] = None,
    maker_fee: Annotated[Decimal | None, decimal_option("--maker-fee", "Default 0.00015.")] = None,
    max_position_notional: Annotated[
        Decimal | None,
        decimal_option("--max-position-notional", "USD cap per position (5000).", positive=True),
    ] = None,
    max_open_positions: Annotated[
        int | None, count_option("--max-open-positions", "Default 5.")
    ] = None,
    max_daily_trades: Annotated[
        int | None, count_option("--max-daily-trades", "OPENs per UTC day (50).")
    ] = None,
    max_drawdown: Annotated[
        Decimal | None,
        decimal_option("--max-drawdown", "Fraction that freezes (0.2).", positive=True),
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
        Decimal | None,
        decimal_option("--min-confidence", "OPENs below it are rejected (0.6).", positive=True),
    ] = None,
    max_position_risk: Annotated[
        Decimal | None,
        decimal_option(
            "--max-position-risk", "Equity one position may lose at its stop.", positive=True
        ),
    ] = None,
    max_portfolio_risk: Annotated[
        Decimal | None,
        decimal_option(
            "--max-portfolio-risk", "Equity all positions may lose at stops.", positive=True
        ),
    ] = None,
    default_stop_pct: Annotated[
        Decimal | None,
        decimal_option(
            "--default-stop-pct", "Stop for an OPEN without one (0.3 = 30%).", positive=True
        ),
    ] = None,
    venue: Annotated[
        str,
        typer.Option("--venue", help="paper, hyperliquid-testnet or hyperliquid (real money)."),
    ] = "paper",
    deposit_cap: Annotated[
        Decimal | None,
        decimal_option(
            "--deposit-cap",
            "Most open notional + pending orders may reach, USDC (live venues; default "
            "AUTOTRADER_DEPOSIT_CAP_USDC, required for hyperliquid).",
            positive=True,
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
    from autotrader.prop.accounts import account_state
    from autotrader.prop.models import AccountKind, AccountRules, validation_summary
    from autotrader.prop.vocabulary import Venue

    kind = choice(kind, name="--kind", allowed=AccountKind)
    venue = choice(venue, name="--venue", allowed=Venue)
    cap = deposit_cap
    if cap is None and Venue(venue).is_live:
        cap = settings_for(ctx, db).deposit_cap_usdc
    given = {
        "max_leverage": max_leverage,
        "slippage_bps": slippage_bps,
        "taker_fee": taker_fee,
        "maker_fee": maker_fee,
        "max_position_notional": max_position_notional,
        "max_open_positions": max_open_positions,
        "max_daily_trades": max_daily_trades,
        "max_drawdown": max_drawdown,
        "allowed_symbols": parse_symbols(allowed_symbols, name="--allowed-symbols") or None,
        "margin_mode": margin_mode,
        "require_stop": require_stop or None,
        "min_confidence": min_confidence,
        "max_position_risk": max_position_risk,
        "max_portfolio_risk": max_portfolio_risk,
        "default_stop_pct": default_stop_pct,
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
        starting_balance=balance,
        rules=rules,
        venue=venue,
        deposit_cap=cap,
    )
    render_account(account_state(store, account_id, clock(ctx).now_ms()), as_json=as_json)


@app.command("list")
def list_accounts(
    ctx: typer.Context,
    clone_id: Annotated[int | None, id_option("--clone-id", "Only this clone's.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="active, frozen, ...")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List prop accounts with balance and status.

    Example: autotrader prop accounts list --clone-id 42
    """
    from autotrader.prop.accounts import account_state
    from autotrader.prop.repo import list_accounts as rows
    from autotrader.prop.vocabulary import AccountStatus

    status = choice(status, name="--status", allowed=AccountStatus)
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
    account_id: Annotated[int, id_argument("Account id.")],
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


def render_account(state: AccountState, *, as_json: bool, final: FinalResult | None = None) -> None:
    data = _summary(state)
    if final is not None:
        data["final"] = asdict(final)
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
