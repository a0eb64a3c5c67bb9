"""The kill switch: stop live submission, cancel resting orders, optionally flatten.

Without an account, the halt file is written first — every process that could submit checks it
before each order, so submission stops at once everywhere — then every resting order of each
live venue's wallet is cancelled. With ``account_id`` only that account's orders are cancelled
and the account is frozen afterwards. ``flatten`` closes each open position with a reduce-only
IOC order (the halt does not stop these: they only take exposure away) and books the
exchange's fill like an admin close.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError
from autotrader.live import repo as live_repo
from autotrader.live.errors import ExchangeRefusal, SubmitUncertain
from autotrader.live.models import Execution, OrderRequest
from autotrader.live.reconcile import live_accounts
from autotrader.live.venue import executed_fill, order_record
from autotrader.live.vocabulary import OrderPurpose
from autotrader.market.view import execution_price
from autotrader.prop import pnl
from autotrader.prop import repo as prop_repo
from autotrader.prop.accounts import require_account
from autotrader.prop.admin import admin_action
from autotrader.prop.booking import book_system_close, plan_full_close
from autotrader.prop.vocabulary import AccountStatus, Venue

if TYPE_CHECKING:
    from autotrader.live.client import HyperliquidTrader

HALT_REASON = "live halt"


@dataclass
class HaltReport:
    halt_file: Path | None
    cancelled: int = 0
    flattened: list[str] = field(default_factory=list)  # "account 3: BTC 0.01"
    failed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"halt file {self.halt_file}" if self.halt_file else "account halt"]
        parts.append(f"{self.cancelled} order(s) cancelled")
        if self.flattened:
            parts.append("flattened " + ", ".join(self.flattened))
        if self.failed:
            parts.append("FAILED " + "; ".join(self.failed))
        return "; ".join(parts)


def halt(
    store: Store,
    clock: Clock,
    precision,
    traders: Callable[[Venue], HyperliquidTrader],
    *,
    halt_file: Path,
    account_id: int | None = None,
    flatten: bool = False,
) -> HaltReport:
    if account_id is None:
        halt_file.parent.mkdir(parents=True, exist_ok=True)
        halt_file.write_text(f"halted at {clock.now_ms()} (epoch ms)\n", encoding="utf-8")
        accounts = [a for venue in Venue if venue.is_live for a in live_accounts(store, venue)]
    else:
        account = require_account(store, account_id)
        if not Venue(account["venue"]).is_live:
            raise InvalidInputError(f"account {account_id} trades on paper: nothing to halt")
        accounts = [account]
    report = HaltReport(halt_file if account_id is None else None)
    for venue in {Venue(a["venue"]) for a in accounts}:
        ours = None
        if account_id is not None:
            ours = live_repo.account_cloids(store, account_id)
        cancelled = _cancel_resting(traders(venue), ours)
        live_repo.cancel_protections(store, cancelled, now_ms=clock.now_ms())
        report.cancelled += len(cancelled)
    for account in accounts:
        if flatten:
            _flatten(store, clock, precision, traders(Venue(account["venue"])), account, report)
        if account_id is not None and account["status"] == AccountStatus.ACTIVE:
            admin_action(
                store,
                clock,
                precision,
                account_id=account["id"],
                action="freeze",
                reason=HALT_REASON,
            )
    return report


def _cancel_resting(trader: HyperliquidTrader, only: set[str] | None) -> list[str]:
    """Cancel the wallet's resting orders (those of ``only`` cloids); the cancelled cloids."""
    resting = trader.open_orders()
    chosen = [o for o in resting if only is None or o.get("cloid") in only]
    return [o.get("cloid") or "" for o in chosen if trader.cancel(o["coin"], str(o["oid"]))]


def _flatten(
    store: Store,
    clock: Clock,
    precision,
    trader: HyperliquidTrader,
    account: dict,
    report: HaltReport,
) -> None:
    venue = Venue(account["venue"])
    for position in prop_repo.open_positions(store, account["id"]):
        now = clock.now_ms()
        latest = execution_price(store, position["symbol"], now)
        reference = (
            latest.price if latest else position["last_mark_price"] or position["entry_price"]
        )
        rules = account["rules"]
        planned = plan_full_close(
            position, reference, rules, precision, slippage_bps=rules.slippage_bps
        )
        order = OrderRequest(
            account_id=account["id"],
            symbol=position["symbol"],
            side="buy" if pnl.is_buy(planned.side, False) else "sell",
            qty=planned.qty,
            limit_price=planned.fill_price,
            reduce_only=True,
            purpose=OrderPurpose.FLATTEN,
            cloid="0x" + uuid.uuid4().hex,
            idempotency_key=None,
        )
        label = f"account {account['id']}: {position['symbol']}"
        try:
            execution = trader.place(order)
        except ExchangeRefusal as exc:
            execution = Execution(None, refusal=exc.message)
        except SubmitUncertain as exc:
            report.failed.append(f"{label} answer lost ({exc}); run the halt again")
            continue
        with store.atomic():
            live_repo.record_order(store, order_record(order, venue, execution, now))
            if execution.refusal is not None or not execution.fills:
                report.failed.append(f"{label} not filled: {execution.refusal or 'no liquidity'}")
                continue
            fill = executed_fill(store, account["id"], planned, execution)
            book_system_close(
                store,
                account=account,
                position=position,
                fill=fill,
                origin="admin",
                code="halt_flatten",
                reason=f"{HALT_REASON} --flatten on {venue}",
                trigger="ADMIN",
                now_ms=now,
            )
        report.flattened.append(f"{label} {fill.qty}")
