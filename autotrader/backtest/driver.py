"""The in-memory driver: a clone's strategies over history, through the live trading code.

What live spreads over two workers happens here in one loop over every source-bar close in
the period, in this order at each instant ``t``:

1. mark-to-market (``prop.mtm``'s functions): each open position's bar closing at ``t`` is
   checked for a stop, target, liquidation, invalidation or time exit (``find_exit``), hourly
   funding is booked (``book_funding``), exits are closed (``close_on_exit``); a snapshot and
   the drawdown check (``take_snapshot``) run once an hour;
2. decisions: a strategy whose cadence bucket changed decides each candidate with its engine
   on the bars closed by ``t`` (an engine that reads a prompt gets the context packet live
   would build, its market reads answered from the history, its account from the run's
   store); intents go through ``PropDesk`` — the same gates, fill pricing and booking as live.

Market reads come from :class:`~autotrader.backtest.history.History` (lists in memory, never a
query per bar); the store is written only when something happens (a fill, an exit, a funding
hour, a snapshot), inside the caller's one transaction, so a run commits whole at the end.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from autotrader.clones.compiler import select_candidates
from autotrader.clones.plan import CompiledStrategy
from autotrader.context.packet import build_context
from autotrader.core.clock import HOUR_MS, SimulatedClock
from autotrader.core.db import Store
from autotrader.core.money import from_float
from autotrader.decisions.engines.base import DecisionRequest, Engine, EngineResult
from autotrader.decisions.engines.base import MarketSnapshot as EngineMarket
from autotrader.decisions.engines.hold import hold_result
from autotrader.prop import repo as prop_repo
from autotrader.prop.execution import PropDesk, position_view
from autotrader.prop.gates import Precision
from autotrader.prop.models import Action
from autotrader.prop.mtm import book_funding, close_on_exit, find_exit, take_snapshot
from autotrader.prop.vocabulary import MARKED_STATUSES, AccountStatus

from .blind import Blinding
from .exits import ExitWatch
from .history import History, HistoryMarket, SourceSeries

SNAPSHOT_BARS = 50  # bars an engine's market snapshot carries, as live's request builder reads


@dataclass
class DriverStats:
    bars: int = 0
    decisions: int = 0
    intents: int = 0
    fills: int = 0
    exits: int = 0


class BacktestDriver:
    """Runs one account of one clone over ``history``, writing into ``store``."""

    def __init__(
        self,
        store: Store,
        history: History,
        precision: Precision,
        engines: Mapping[str, Engine],
        clock: SimulatedClock,
        *,
        blinding: Blinding | None = None,
    ) -> None:
        self.store = store
        self.blinding = blinding
        self.history = history
        self.precision = precision
        self.engines = engines
        self.clock = clock
        self.desk = PropDesk(
            store, clock, precision, market_at=lambda _store, now: HistoryMarket(history, now)
        )
        # What the run keeps in memory between store reads, refreshed after each change: the
        # account row, its open positions by symbol, and per position the close time of the
        # newest bar examined for exits and its levels as floats.
        self._account: dict = {}
        self._positions: dict[str, dict] = {}
        self._examined: dict[int, int] = {}
        self._watches: dict[int, ExitWatch] = {}
        self._marked: dict[int, int] = {}  # position id → the bar whose close is its mark

    def run(
        self,
        *,
        clone_id: int,
        model: str,
        account_id: int,
        strategies: tuple[CompiledStrategy, ...],
    ) -> DriverStats:
        """Replay the period for ``account_id``; the caller owns the transaction."""
        stats = DriverStats(bars=self.history.bar_count())
        self._account = prop_repo.get_account(self.store, account_id)
        self._refresh_positions()
        buckets: dict[str, int] = {}
        previous = self.history.since_ms
        for now in self.history.times():
            self.clock.set(now)
            hour_passed = now // HOUR_MS > previous // HOUR_MS
            self._mark_to_market(now, hour_passed, stats)
            if self._account["status"] == AccountStatus.ACTIVE:
                for strategy in strategies:
                    bucket = now // (strategy.cadence_s * 1000)
                    if strategy.enabled and buckets.get(strategy.strategy_id) != bucket:
                        buckets[strategy.strategy_id] = bucket
                        self._decide(clone_id, model, strategy, now, stats)
            previous = now
        self._finish(previous)
        return stats

    # -- mark-to-market ----------------------------------------------------------------------

    def _refresh_positions(self) -> None:
        rows = prop_repo.open_positions(self.store, self._account["id"])
        self._positions = {row["symbol"]: row for row in rows}
        self._examined = {
            row["id"]: self._examined.get(row["id"], row["last_mark_at"] or row["opened_at"])
            for row in rows
        }
        self._watches = {row["id"]: ExitWatch(row) for row in rows}

    def _mark_to_market(self, now: int, hour_passed: bool, stats: DriverStats) -> None:
        account = self._account
        if account["status"] not in MARKED_STATUSES:
            return
        changed = False
        rate_at = self._rate_at
        for symbol, position in list(self._positions.items()):
            series = self.history.symbols[symbol].series
            exit_ = None
            if series is not None:
                lo = bisect.bisect_right(series.close_time, self._examined[position["id"]])
                hi = bisect.bisect_right(series.close_time, now, lo=lo)
                if hi > lo:
                    self._examined[position["id"]] = series.close_time[hi - 1]
                timed_out = position["time_exit"] is not None and now >= position["time_exit"]
                # Only bars that may touch a level go to find_exit: the exact check is its.
                if timed_out or self._watches[position["id"]].may_exit(series, lo, hi):
                    self._sync_mark(position, series)
                    bars = [series.candle(symbol, i) for i in range(lo, hi)]
                    exit_ = find_exit(position, bars, now)
            if exit_ is not None:
                self._sync_mark(position, series)
                book_funding(self.store, account, position, rate_at, now, until_ms=exit_.at_ms)
                close_on_exit(self.store, account, position, exit_, now, self.precision)
                stats.exits += 1
                changed = True
                continue
            if hour_passed:
                self._sync_mark(position, series)
                book_funding(self.store, account, position, rate_at, now)
            if series is not None and hi > 0:
                self._marked[position["id"]] = hi - 1  # live's pass marks at the newest close
        if changed:
            self._refresh_positions()
        if hour_passed or changed:
            self._snapshot(now)

    def _sync_mark(self, position: dict, series: SourceSeries | None) -> None:
        """Give the cached row the mark live's last pass would have written (funding without
        an oracle price, and a time exit without a new bar, price at it); until a pass has
        marked it, the row keeps its fill price."""
        index = self._marked.get(position["id"])
        if series is not None and index is not None:
            position["last_mark_price"] = from_float(series.close[index])

    def _rate_at(self, symbol: str, hour: int) -> dict | None:
        return self.history.symbols[symbol].funding_rate(hour)

    def _snapshot(self, now: int) -> None:
        take_snapshot(self.store, self._account, HistoryMarket(self.history, now), now)
        # The snapshot may have frozen the account, or raised its peak equity.
        self._account = prop_repo.get_account(self.store, self._account["id"])

    def _finish(self, now: int) -> None:
        """Leave the open positions marked at the last price, and a last snapshot."""
        market = HistoryMarket(self.history, now)
        for symbol, position in self._positions.items():
            price = market.price(symbol)
            if price is not None:
                prop_repo.update_position(
                    self.store,
                    position["id"],
                    last_mark_price=price.price,
                    last_mark_at=self._examined[position["id"]],
                    updated_at=now,
                )
        if self._account["status"] in MARKED_STATUSES:
            self._snapshot(now)

    # -- decisions ---------------------------------------------------------------------------

    def _decide(
        self, clone_id: int, model: str, strategy: CompiledStrategy, now: int, stats: DriverStats
    ) -> None:
        engine = self.engines[strategy.engine]
        granularity = str(strategy.engine_params.get("granularity", "1h"))
        candidates = select_candidates(
            strategy,
            open_position_symbols=list(self._positions),
            metrics=self._metrics(strategy, now),
        )
        for symbol in candidates:
            request = self._request(clone_id, model, strategy, symbol, granularity, now)
            stats.decisions += 1
            try:
                if self.blinding is not None and request.packet is not None:
                    result = self._decide_blind(engine, request)
                else:
                    result = engine.decide(request)
            except Exception as exc:  # an engine must never end the run (live records it too)
                why = f"engine crashed: {type(exc).__name__}: {exc}"[:300]
                result = hold_result(symbol, why, error=why)
            self._execute(result, strategy, symbol, now, stats)

    def _decide_blind(self, engine: Engine, request: DecisionRequest) -> EngineResult:
        """The engine decides on the disguised prompt alone (the request carries no real
        symbol, price or position); its intents come back in real terms."""
        blinding = self.blinding
        assert blinding is not None
        alias = blinding.aliases[request.symbol]
        blind = dataclasses.replace(
            request,
            symbol=alias,
            packet=blinding.packet(request.packet),
            market=EngineMarket(alias, None, None, request.market.granularity, ()),
            position=None,
        )
        result = engine.decide(blind)
        result.intents = [blinding.intent(intent) for intent in result.intents]
        return result

    def _request(
        self,
        clone_id: int,
        model: str,
        strategy: CompiledStrategy,
        symbol: str,
        granularity: str,
        now: int,
    ) -> DecisionRequest:
        history = self.history.symbols[symbol]
        price = history.price(now)
        row = self._positions.get(symbol)
        packet = None
        if getattr(self.engines[strategy.engine], "needs_context", False):
            packet = build_context(
                self.store,
                self.clock,
                strategy,
                symbol,
                account_id=self._account["id"],
                clone_id=clone_id,
                market=HistoryMarket(self.history, now),
            )
        return DecisionRequest(
            run_id=0,
            trace_id="",
            clone_id=clone_id,
            account_id=self._account["id"],
            model=model,
            strategy=strategy,
            symbol=symbol,
            now_ms=now,
            market=EngineMarket(
                symbol=symbol,
                price=price.price if price else None,
                price_time=price.as_of if price else None,
                granularity=granularity,
                bars=history.closed_bars(granularity, now, SNAPSHOT_BARS),
            ),
            position=position_view(row) if row else None,
            packet=packet,
        )

    def _execute(
        self,
        result: EngineResult,
        strategy: CompiledStrategy,
        symbol: str,
        now: int,
        stats: DriverStats,
    ) -> None:
        acted: set[str] = set()
        booked_any = False
        for seq, intent in enumerate(result.intents):
            if intent.action is Action.HOLD:
                continue
            submission = self.desk.submit(
                self._account["id"],
                intent,
                origin="decision",
                idempotency_key=f"backtest:{strategy.strategy_id}:{symbol}:{now}:{seq}",
                symbols_already_acted=frozenset(acted),
            )
            acted.add(intent.symbol)
            stats.intents += 1
            if submission.booked is not None:
                stats.fills += 1
                booked_any = True
        if booked_any:
            self._refresh_positions()

    def _metrics(self, strategy: CompiledStrategy, now: int) -> dict[str, float]:
        """The candidate prefilter's metrics from the last *closed* hourly bar (live reads the
        newest bar opened by now, which in a replay is built from later prices)."""
        prefilter = strategy.candidate_policy.prefilter
        if prefilter == "none":
            return {}
        values = {}
        for entry in strategy.universe:
            history = self.history.symbols.get(entry.symbol)
            value = history.prefilter_metric(prefilter, now) if history else None
            if value is not None:
                values[entry.symbol] = value
        return values
