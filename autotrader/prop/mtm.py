"""Mark-to-market: exits, funding, snapshots and drawdown for every active or frozen account.

One account is one transaction. For each open position: the bars since its last mark decide
exits — a stop or target touched by a bar's low/high (stop first when a bar touches both; a gap
through the level fills at the bar's open; a stop whose fill lies beyond the liquidation price
is a liquidation), a liquidation when the mark (a bar's close) crosses the liquidation price, a
time exit once its time has come — then hourly funding from ingested rates (longs pay a positive
rate). Then a snapshot for the current minute, and the drawdown check that freezes an active
account past its limit. A frozen account cannot trade, but its exits and funding still run.

Idempotent: a pass reads only the bars that closed since the last mark, funding hours and
snapshots are keyed, so running it twice for the same minute (cron plus a worker, say) changes
nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal

from autotrader.core.clock import Clock, iso_utc
from autotrader.core.db import Store
from autotrader.core.money import ZERO, from_float
from autotrader.market import repo as market_repo
from autotrader.market.models import TIMEFRAME_MS, Candle
from autotrader.market.view import SOURCE_TIMEFRAMES, execution_price
from autotrader.prop import pnl
from autotrader.prop import repo as prop_repo
from autotrader.prop.accounts import account_state
from autotrader.prop.booking import book_system_close, plan_full_close
from autotrader.prop.gates import Precision
from autotrader.prop.models import CloseTrigger, Side

log = logging.getLogger("autotrader.prop.mtm")

HOUR_MS = 3_600_000
_MARKED = ("active", "frozen")  # statuses whose open positions are still marked
MINUTE_MS = 60_000


@dataclass
class MtmReport:
    accounts: int = 0
    marked: int = 0
    exits: dict[str, int] = field(default_factory=dict)
    funding_payments: int = 0
    snapshots: int = 0
    frozen: list[int] = field(default_factory=list)

    def summary(self) -> str:
        exits = ", ".join(f"{k.lower()}={v}" for k, v in sorted(self.exits.items())) or "none"
        return (
            f"{self.accounts} accounts, {self.marked} positions marked, exits: {exits}, "
            f"{self.funding_payments} funding payments, {self.snapshots} snapshots"
            + (f", frozen {self.frozen}" if self.frozen else "")
        )


@dataclass(frozen=True)
class _Exit:
    trigger: CloseTrigger
    price: Decimal
    at_ms: int
    detail: str


def _bars_since(store: Store, symbol: str, since_ms: int, now_ms: int) -> list[Candle]:
    """Bars that closed after ``since_ms`` (the last mark) and by ``now_ms``, ascending.

    A bar still forming is left for a later pass, once closed: in a replay it holds prices from
    after ``now_ms``, and live its low and high are not final yet (the execution price reads
    closed bars only, for the same reasons).
    """
    series = market_repo.freshest_series(store, symbol, SOURCE_TIMEFRAMES, until_ms=now_ms)
    if series is None:
        return []
    step = TIMEFRAME_MS[series.timeframe]
    return market_repo.candles_between(
        store, series.source, symbol, series.timeframe, since_ms - step + 1, now_ms - step
    )


def find_exit(position: dict, bars: list[Candle], now_ms: int) -> _Exit | None:
    """The first exit the bars (ascending) trigger for ``position``, or None."""
    for bar in bars:
        exit_ = _bar_exit(position, bar, now_ms)
        if exit_ is not None:
            return exit_
    time_exit = position["time_exit"]
    if time_exit is not None and now_ms >= time_exit:
        mark = position["last_mark_price"] or position["entry_price"]
        if bars:
            mark = from_float(bars[-1].close)
        return _Exit(CloseTrigger.TIME, mark, now_ms, f"time exit {iso_utc(time_exit)} reached")
    return None


def _bar_exit(position: dict, bar: Candle, now_ms: int) -> _Exit | None:
    """What one bar does to ``position``: stop before target (the order inside a bar is
    unknown, so assume the worse), then liquidation by the close (the mark), then time."""
    side = Side(position["side"])
    stop, target, liq = position["stop"], position["target"], position["liquidation_price"]
    low, high, open_, close = (from_float(v) for v in (bar.low, bar.high, bar.open, bar.close))
    closes_at = bar.open_time + TIMEFRAME_MS[bar.timeframe]
    touched = f"bar {iso_utc(bar.open_time)} touched"
    if stop is not None and (low <= stop if side is Side.LONG else high >= stop):
        price = min(open_, stop) if side is Side.LONG else max(open_, stop)  # a gap fills at open
        if liq is not None and side.sign * (price - liq) < 0:
            # The price crossed the liquidation level on its way to the stop: isolated margin
            # caps the loss, the stop never gets its turn.
            return _Exit(CloseTrigger.LIQUIDATION, liq, bar.open_time, f"{touched} {liq} first")
        return _Exit(CloseTrigger.STOP, price, bar.open_time, f"{touched} stop {stop}")
    if target is not None and (high >= target if side is Side.LONG else low <= target):
        price = max(open_, target) if side is Side.LONG else min(open_, target)
        return _Exit(CloseTrigger.TARGET, price, bar.open_time, f"{touched} target {target}")
    if liq is not None and side.sign * (close - liq) <= 0:
        return _Exit(
            CloseTrigger.LIQUIDATION, liq, closes_at, f"mark {close} crossed liquidation {liq}"
        )
    time_exit = position["time_exit"]
    # Only a bar closed by now: a forming bar's close is not known yet (or is the future).
    if time_exit is not None and time_exit <= closes_at <= now_ms:
        return _Exit(CloseTrigger.TIME, close, closes_at, f"time exit {iso_utc(time_exit)} reached")
    return None


class MarkToMarket:
    """One mark-to-market pass over active and frozen accounts."""

    def __init__(self, store: Store, clock: Clock, precision: Precision) -> None:
        self.store = store
        self.clock = clock
        self.precision = precision

    def run(self, account_ids: list[int] | None = None) -> MtmReport:
        """Mark every active or frozen account (or those of ``account_ids``): a frozen account
        cannot trade, but its stops, liquidations and funding still happen."""
        report = MtmReport()
        listed = [a["id"] for a in prop_repo.list_accounts(self.store) if a["status"] in _MARKED]
        for account_id in listed:
            if account_ids and account_id not in account_ids:
                continue
            with self.store.atomic():
                # Re-read under the write lock: an admin may have finalized it since the list.
                account = prop_repo.get_account(self.store, account_id)
                if account is None or account["status"] not in _MARKED:
                    continue
                self._account(account, report)
            report.accounts += 1
        return report

    def _account(self, account: dict, report: MtmReport) -> None:
        now = self.clock.now_ms()
        for position in prop_repo.open_positions(self.store, account["id"]):
            since = position["last_mark_at"] or position["opened_at"]
            bars = _bars_since(self.store, position["symbol"], since, now)
            exit_ = find_exit(position, bars, now)
            if exit_ is not None:
                self._close(account, position, exit_, now)
                report.exits[exit_.trigger.value] = report.exits.get(exit_.trigger.value, 0) + 1
                continue
            self._funding(account, position, now, report)
            latest = execution_price(self.store, position["symbol"], now)
            if latest is not None:
                prop_repo.update_position(
                    self.store,
                    position["id"],
                    last_mark_price=latest.price,
                    last_mark_at=now,
                    updated_at=now,
                )
                report.marked += 1
        self._snapshot(account, now, report)

    def _close(self, account: dict, position: dict, exit_: _Exit, now: int) -> None:
        liquidation = exit_.trigger is CloseTrigger.LIQUIDATION
        fill = plan_full_close(
            position,
            exit_.price,
            account["rules"],
            self.precision,
            slippage_bps=ZERO if liquidation else account["rules"].slippage_bps,
        )
        booked = book_system_close(
            self.store,
            account=account,
            position=position,
            fill=fill,
            origin="trigger",
            code=exit_.trigger.value.lower(),
            reason=exit_.detail,
            trigger=exit_.trigger.value,
            now_ms=now,
        )
        if liquidation:
            # Isolated margin is forfeited whole: what the price move did not take, the
            # liquidation does (the maintenance margin left at the liquidation price).
            forfeited = prop_repo.ledger_amount(position["margin"] + fill.gross_pnl)
            if forfeited > 0:
                prop_repo.append_entry(
                    self.store,
                    account["id"],
                    "LIQUIDATION",
                    -forfeited,
                    now_ms=now,
                    symbol=position["symbol"],
                    position_id=position["id"],
                    fill_id=booked.fill_id,
                    order_id=booked.order_id,
                    reason=exit_.detail,
                    idempotency_key=f"liquidation:{position['id']}",
                )
        log.info(
            "account %s: %s %s closed by %s at %s",
            account["id"],
            position["side"],
            position["symbol"],
            exit_.trigger.value,
            fill.fill_price,
        )

    def _funding(self, account: dict, position: dict, now: int, report: MtmReport) -> None:
        """Book every hourly funding payment due since the position was last funded."""
        funded_until = position["funded_until"] or position["opened_at"]
        hour = (funded_until // HOUR_MS + 1) * HOUR_MS
        side = Side(position["side"])
        while hour <= now:
            # The hour's rate was observed during it: [hour − 1h, hour). An observation on the
            # mark itself is the next hour's, so one observation never pays twice.
            rates = market_repo.funding_between(
                self.store, position["symbol"], hour - HOUR_MS, hour - 1
            )
            if rates:
                rate = rates[-1]
                price = rate["oracle_price"] or rate["mark_price"]
                oracle = (
                    from_float(price)
                    if price
                    else (position["last_mark_price"] or position["entry_price"])
                )
                amount = prop_repo.ledger_amount(
                    pnl.funding_payment(side, position["qty"], oracle, from_float(rate["rate"]))
                )
                key = f"funding:{position['id']}:{hour}"
                if amount and not prop_repo.ledger_key_exists(self.store, key):
                    prop_repo.append_entry(
                        self.store,
                        account["id"],
                        "FUNDING",
                        amount,
                        now_ms=now,
                        symbol=position["symbol"],
                        position_id=position["id"],
                        idempotency_key=key,
                        reason=f"funding {iso_utc(hour)} rate {rate['rate']}",
                    )
                    position["funding_paid"] += amount
                    report.funding_payments += 1
            prop_repo.update_position(
                self.store,
                position["id"],
                funded_until=hour,
                funding_paid=position["funding_paid"],
                updated_at=now,
            )
            hour += HOUR_MS

    def _snapshot(self, account: dict, now: int, report: MtmReport) -> None:
        state = account_state(self.store, account["id"], now)
        minute = now // MINUTE_MS * MINUTE_MS
        written = prop_repo.insert_snapshot(
            self.store,
            {
                "account_id": account["id"],
                "time": minute,
                "balance": state.balance,
                "cash": state.cash,
                "margin_used": state.margin_used,
                "unrealized_pnl": state.unrealized_pnl,
                "equity": state.equity,
                "peak_equity": state.peak_equity,
                "drawdown": state.drawdown,
                "open_positions": len(state.positions),
                "last_ledger_id": prop_repo.last_ledger_id(self.store, account["id"]),
            },
        )
        report.snapshots += int(written)
        if state.peak_equity > account["peak_equity"]:
            prop_repo.set_peak_equity(self.store, account["id"], state.peak_equity, now_ms=now)
        limit = account["rules"].max_drawdown
        if account["status"] != "active":
            return  # already stopped; freezing again would overwrite the reason
        if state.equity <= 0:
            prop_repo.set_account_status(
                self.store, account["id"], "liquidated", reason="equity reached zero", now_ms=now
            )
            report.frozen.append(account["id"])
        elif state.drawdown >= limit:
            reason = f"max drawdown breached: {state.drawdown:.2%} ≥ {limit:.2%}"
            prop_repo.set_account_status(
                self.store, account["id"], "frozen", reason=reason, now_ms=now
            )
            report.frozen.append(account["id"])
