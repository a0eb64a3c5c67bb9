"""Mark-to-market: exits, funding, snapshots and drawdown for every active or frozen account.

One account is one transaction. For each open position: the bars since its last mark decide
exits — a stop or target touched by a bar's low/high (stop first when a bar touches both; a gap
through the level fills at the bar's open; a stop whose fill lies beyond the liquidation price
is a liquidation), a liquidation when the mark (a bar's close) crosses the liquidation price, an
invalidation when a bar *closes* at or beyond the exit plan's invalidation price (at that close:
a thesis is disproved where the market settles, not by a wick, so a bar that touches the stop
and closes past the invalidation is a stop), a time exit once its time has come — then hourly
funding from ingested rates (longs pay a positive rate). Then a snapshot for the current minute,
and the drawdown check that freezes an active account past its limit. A frozen account cannot
trade, but its exits and funding still run.

Idempotent: a pass reads only the bars that closed after those the last pass read, funding
hours and snapshots are keyed, so running it twice for the same minute (cron plus a worker, say)
changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from autotrader.core.clock import HOUR_MS, MINUTE_MS, Clock, iso_utc
from autotrader.core.db import Store
from autotrader.core.money import ZERO, from_float
from autotrader.market import repo as market_repo
from autotrader.market.models import TIMEFRAME_MS, Candle
from autotrader.market.repo import observations
from autotrader.market.view import SOURCE_TIMEFRAMES
from autotrader.prop import pnl
from autotrader.prop import repo as prop_repo
from autotrader.prop.accounts import account_state
from autotrader.prop.booking import book_system_close, plan_full_close
from autotrader.prop.execution import MarketSnapshot
from autotrader.prop.gates import Precision
from autotrader.prop.models import AccountStatus, CloseTrigger, Side
from autotrader.prop.vocabulary import MARKED_STATUSES, IntentOrigin, Venue

log = logging.getLogger("autotrader.prop.mtm")


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


class _PassMarket:
    """Market memory as one pass sees it at ``now_ms``: each symbol's series, closed bars,
    execution price and hourly funding rate read once, however many positions hold it."""

    def __init__(self, store: Store, now_ms: int) -> None:
        self.store = store
        self.now_ms = now_ms
        self.prices = MarketSnapshot(store, now_ms)
        self._series: dict[str, market_repo.Series | None] = {}
        self._bars: dict[tuple[str, int], list[Candle]] = {}
        self._funding: dict[tuple[str, int], dict | None] = {}

    def bars_since(self, symbol: str, since_ms: int) -> list[Candle]:
        """Bars that closed after ``since_ms`` (the last mark) and by now, ascending.

        A bar still forming is left for a later pass, once closed: in a replay it holds prices
        from after now, and live its low and high are not final yet (the execution price reads
        closed bars only, for the same reasons).
        """
        if symbol not in self._series:
            self._series[symbol] = market_repo.freshest_series(
                self.store, symbol, SOURCE_TIMEFRAMES, until_ms=self.now_ms
            )
        series = self._series[symbol]
        if series is None:
            return []
        key = (symbol, since_ms)
        if key not in self._bars:
            step = TIMEFRAME_MS[series.timeframe]
            self._bars[key] = market_repo.candles_between(
                self.store,
                series.source,
                symbol,
                series.timeframe,
                since_ms - step + 1,
                self.now_ms - step,
            )
        return self._bars[key]

    def funding(self, symbol: str, hour: int) -> dict | None:
        """The rate paid at ``hour``: the last one observed during ``[hour − 1h, hour)``. An
        observation on the mark itself is the next hour's, so one observation never pays
        twice."""
        key = (symbol, hour)
        if key not in self._funding:
            rates = observations.funding_between(self.store, symbol, *funding_window(hour))
            self._funding[key] = rates[-1] if rates else None
        return self._funding[key]


def funding_window(hour: int) -> tuple[int, int]:
    """The observation times ``[since, until]`` (ms, inclusive) whose last rate is paid at
    ``hour``: an observation on the hour itself belongs to the next one."""
    return hour - HOUR_MS, hour - 1


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


def _touched(bar: Candle, *words: object) -> str:
    return " ".join(["bar", iso_utc(bar.open_time), "touched", *map(str, words)])


def _bar_exit(position: dict, bar: Candle, now_ms: int) -> _Exit | None:
    """What one bar does to ``position``: stop before target (the order inside a bar is
    unknown, so assume the worse), both touched during the bar; then what its close decides —
    liquidation (the mark), then invalidation; then time."""
    side = Side(position["side"])
    stop, target, liq = position["stop"], position["target"], position["liquidation_price"]
    low, high, open_, close = (from_float(v) for v in (bar.low, bar.high, bar.open, bar.close))
    closes_at = bar.open_time + TIMEFRAME_MS[bar.timeframe]
    if stop is not None and (low <= stop if side is Side.LONG else high >= stop):
        price = min(open_, stop) if side is Side.LONG else max(open_, stop)  # a gap fills at open
        if liq is not None and side.sign * (price - liq) < 0:
            # The price crossed the liquidation level on its way to the stop: isolated margin
            # caps the loss, the stop never gets its turn.
            return _Exit(CloseTrigger.LIQUIDATION, liq, bar.open_time, _touched(bar, liq, "first"))
        return _Exit(CloseTrigger.STOP, price, bar.open_time, _touched(bar, "stop", stop))
    if target is not None and (high >= target if side is Side.LONG else low <= target):
        price = max(open_, target) if side is Side.LONG else min(open_, target)
        return _Exit(CloseTrigger.TARGET, price, bar.open_time, _touched(bar, "target", target))
    if liq is not None and side.sign * (close - liq) <= 0:
        return _Exit(
            CloseTrigger.LIQUIDATION, liq, closes_at, f"mark {close} crossed liquidation {liq}"
        )
    invalidation = position["invalidation_price"]
    if invalidation is not None and side.sign * (close - invalidation) <= 0:
        detail = f"bar {iso_utc(bar.open_time)} closed at {close}, past invalidation {invalidation}"
        return _Exit(CloseTrigger.INVALIDATION, close, closes_at, detail)
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
        """Mark every active or frozen account (or those of ``account_ids``) as of one clock
        reading: a frozen account cannot trade, but its stops, liquidations and funding still
        happen."""
        report = MtmReport()
        market = _PassMarket(self.store, self.clock.now_ms())
        listed = [
            a["id"] for a in prop_repo.list_accounts(self.store) if a["status"] in MARKED_STATUSES
        ]
        for account_id in listed:
            if account_ids and account_id not in account_ids:
                continue
            with self.store.atomic():
                # Re-read under the write lock: an admin may have finalized it since the list.
                account = prop_repo.get_account(self.store, account_id)
                if account is None or account["status"] not in MARKED_STATUSES:
                    continue
                if (prop_repo.last_entry_at(self.store, account_id) or 0) > market.now_ms:
                    # Booked after this pass read the clock (a trade, a newer pass): marking it
                    # as of that earlier instant would date entries before the ones it has.
                    continue
                self._account(account, market, report)
            report.accounts += 1
        return report

    def _account(self, account: dict, market: _PassMarket, report: MtmReport) -> None:
        now = market.now_ms
        # A live account's stops and liquidations happen on the exchange: a close booked here
        # would be a fill that never happened there.
        paper = not Venue(account["venue"]).is_live
        for position in prop_repo.open_positions(self.store, account["id"]):
            since = position["last_mark_at"] or position["opened_at"]
            bars = market.bars_since(position["symbol"], since)
            exit_ = find_exit(position, bars, now) if paper else None
            if exit_ is not None:
                # Funding hours the position was still held at are owed before it goes.
                report.funding_payments += book_funding(
                    self.store, account, position, market.funding, now, until_ms=exit_.at_ms
                )
                close_on_exit(self.store, account, position, exit_, now, self.precision)
                report.exits[exit_.trigger.value] = report.exits.get(exit_.trigger.value, 0) + 1
                continue
            report.funding_payments += book_funding(
                self.store, account, position, market.funding, now
            )
            self._mark(position, bars, market, report)
        written, stopped = take_snapshot(self.store, account, market.prices, now)
        report.snapshots += int(written)
        if stopped:
            report.frozen.append(account["id"])

    def _mark(
        self, position: dict, bars: list[Candle], market: _PassMarket, report: MtmReport
    ) -> None:
        """Record the latest price, and how far the bars were read: ``last_mark_at`` becomes
        the close of the newest bar examined (not the clock), so a bar ingested late is still
        examined by the next pass. Nothing is written when nothing changed."""
        latest = market.prices.price(position["symbol"])
        if latest is None:
            return
        read_until = position["last_mark_at"]
        if bars:
            read_until = bars[-1].open_time + TIMEFRAME_MS[bars[-1].timeframe]
        report.marked += 1
        if (position["last_mark_price"], position["last_mark_at"]) == (latest.price, read_until):
            return
        prop_repo.update_position(
            self.store,
            position["id"],
            last_mark_price=latest.price,
            last_mark_at=read_until,
            updated_at=market.now_ms,
        )


def close_on_exit(
    store: Store, account: dict, position: dict, exit_: _Exit, now: int, precision: Precision
) -> None:
    """Close ``position`` whole at the exit's price (no slippage for a liquidation, which
    also forfeits what is left of its isolated margin) as the system's own intent."""
    liquidation = exit_.trigger is CloseTrigger.LIQUIDATION
    fill = plan_full_close(
        position,
        exit_.price,
        account["rules"],
        precision,
        slippage_bps=ZERO if liquidation else account["rules"].slippage_bps,
    )
    booked = book_system_close(
        store,
        account=account,
        position=position,
        fill=fill,
        origin=IntentOrigin.TRIGGER,
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
                store,
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


def book_funding(
    store: Store,
    account: dict,
    position: dict,
    rate_at: Callable[[str, int], dict | None],
    now: int,
    *,
    until_ms: int | None = None,
) -> int:
    """Book every hourly funding payment due since the position was last funded, up to
    ``until_ms`` (default ``now``; an exit's time for a position closing in this pass).

    ``rate_at(symbol, hour)`` is the funding observation paid at ``hour`` (or None). Updates
    ``position`` (``funding_paid``, ``funded_until``) in place, so a caller holding the row
    can pass it again, and returns how many payments it booked.
    """
    payments = 0
    until = now if until_ms is None else min(until_ms, now)
    funded_until = position["funded_until"] or position["opened_at"]
    hour = (funded_until // HOUR_MS + 1) * HOUR_MS
    side = Side(position["side"])
    while hour <= until:
        rate = rate_at(position["symbol"], hour)
        if rate is not None:
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
            if amount and not prop_repo.ledger_key_exists(store, key):
                prop_repo.append_entry(
                    store,
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
                payments += 1
        prop_repo.update_position(
            store,
            position["id"],
            funded_until=hour,
            funding_paid=position["funding_paid"],
            updated_at=now,
        )
        position["funded_until"] = hour
        hour += HOUR_MS
    return payments


def take_snapshot(
    store: Store, account: dict, prices: MarketSnapshot, now: int
) -> tuple[bool, bool]:
    """Snapshot the account for the current minute, raise its peak equity, and freeze (or
    liquidate) an active account past its drawdown limit (or at zero equity).

    Returns ``(written, stopped)``: whether a new snapshot row was written, and whether this
    call froze or liquidated the account.
    """
    state = account_state(store, account["id"], now, market=prices, account=account)
    minute = now // MINUTE_MS * MINUTE_MS
    written = prop_repo.insert_snapshot(
        store,
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
            "last_ledger_id": prop_repo.last_ledger_id(store, account["id"]),
        },
    )
    if state.peak_equity > account["peak_equity"]:
        prop_repo.set_peak_equity(store, account["id"], state.peak_equity, now_ms=now)
    limit = account["rules"].max_drawdown
    if account["status"] != AccountStatus.ACTIVE:
        return written, False  # already stopped; freezing again would overwrite the reason
    if state.equity <= 0:
        prop_repo.set_account_status(
            store,
            account["id"],
            AccountStatus.LIQUIDATED,
            reason="equity reached zero",
            now_ms=now,
        )
        return written, True
    if state.drawdown >= limit:
        reason = f"max drawdown breached: {state.drawdown:.2%} ≥ {limit:.2%}"
        prop_repo.set_account_status(
            store, account["id"], AccountStatus.FROZEN, reason=reason, now_ms=now
        )
        return written, True
    return written, False
