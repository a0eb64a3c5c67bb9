"""The seam between a context packet and market memory: what a packet reads, as of one instant.

:func:`~autotrader.context.packet.build_context` asks a :class:`MarketReader` for everything it
takes from market memory — the prop desk's questions (``price``, ``asset``: the marks and limits
of the account section) and the read plan's (bars, indicators, funding, Polymarket, DefiLlama).
Live decisions read the store (:class:`StoreMarket`); a backtest answers the same questions from
the history it holds in memory (``autotrader.backtest.history.HistoryMarket``), while the
account's rows stay in the run's own store. Every ``until_ms`` is inclusive, every list
ascending, and a reader never answers with anything newer than ``now_ms``.
"""

from __future__ import annotations

from typing import Protocol

from autotrader.market import repo as market_repo
from autotrader.market.models import AssetInfo, Candle
from autotrader.market.repo import observations
from autotrader.market.view import ExecutionPrice
from autotrader.prop.execution import MarketSnapshot


class MarketReader(Protocol):
    now_ms: int

    def price(self, symbol: str) -> ExecutionPrice | None: ...

    def asset(self, symbol: str) -> AssetInfo | None: ...

    def newest_open_time(
        self, source: str, symbol: str, timeframe: str, *, until_ms: int
    ) -> int | None:
        """The open time of the newest bar of a series opened by ``until_ms`` (None: none)."""
        ...

    def candles(
        self, source: str, symbol: str, timeframe: str, since_ms: int, *, until_ms: int
    ) -> list[Candle]:
        """The bars of a series opened in ``[since_ms, until_ms]``."""
        ...

    def indicator_rows(
        self, source: str, symbol: str, timeframe: str, *, until_ms: int, limit: int
    ) -> list[tuple]:
        """The newest ``limit`` indicator rows opened by ``until_ms``:
        ``(open_time, *INDICATOR_COLUMNS)``."""
        ...

    def funding_rows(self, symbol: str, *, until_ms: int, limit: int) -> list[tuple]:
        """The newest ``limit`` funding observations: ``(time, source, *FUNDING_COLUMNS)``."""
        ...

    def prediction_markets_for(
        self, scope: str, target: str, *, until_ms: int, limit: int, soonest: bool = False
    ) -> list[dict]: ...

    def prediction_prices_at(self, market_id: str, *, until_ms: int) -> tuple[int, dict]: ...

    def macro_latest(
        self, scope: str, subject: str, *, until_ms: int
    ) -> tuple[str, list[tuple[str, int, float]]]: ...


class StoreMarket(MarketSnapshot):
    """Market memory in the store, as of ``now_ms``: the live reader (each call one indexed
    query of ``market.repo``; prices and registry entries read once, as the prop desk does)."""

    def newest_open_time(
        self, source: str, symbol: str, timeframe: str, *, until_ms: int
    ) -> int | None:
        row = market_repo.latest_candle(self.store, source, symbol, timeframe, until_ms=until_ms)
        return None if row is None else row["open_time"]

    def candles(
        self, source: str, symbol: str, timeframe: str, since_ms: int, *, until_ms: int
    ) -> list[Candle]:
        return market_repo.candles_between(
            self.store, source, symbol, timeframe, since_ms, until_ms=until_ms
        )

    def indicator_rows(
        self, source: str, symbol: str, timeframe: str, *, until_ms: int, limit: int
    ) -> list[tuple]:
        return market_repo.indicator_rows(
            self.store, source, symbol, timeframe, until_ms=until_ms, limit=limit
        )

    def funding_rows(self, symbol: str, *, until_ms: int, limit: int) -> list[tuple]:
        return observations.funding_rows(self.store, symbol, until_ms=until_ms, limit=limit)

    def prediction_markets_for(
        self, scope: str, target: str, *, until_ms: int, limit: int, soonest: bool = False
    ) -> list[dict]:
        return observations.prediction_markets_for(
            self.store, scope, target, until_ms=until_ms, limit=limit, soonest=soonest
        )

    def prediction_prices_at(self, market_id: str, *, until_ms: int) -> tuple[int, dict]:
        return observations.prediction_prices_at(self.store, market_id, until_ms=until_ms)

    def macro_latest(
        self, scope: str, subject: str, *, until_ms: int
    ) -> tuple[str, list[tuple[str, int, float]]]:
        return observations.macro_latest(self.store, scope, subject, until_ms=until_ms)
