"""Read views over market memory: the latest candle with its indicators, the execution price."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from autotrader.core.clock import Clock, iso_utc
from autotrader.core.db import Store
from autotrader.core.errors import NotFoundError
from autotrader.core.money import from_float
from autotrader.market import repo
from autotrader.market.models import INDICATOR_COLUMNS, TIMEFRAME_MS
from autotrader.market.repo import observations

SOURCE_TIMEFRAMES = ("1m", "5m")


def latest_view(store: Store, clock: Clock, symbol: str, timeframe: str | None = None) -> dict:
    """The newest candle of ``symbol`` with every indicator and the latest funding rate.

    Without ``timeframe``, the freshest source series (1m, else 5m) is used, or 1h when only
    hourly candles are stored (an imported 1h file). Raises NotFoundError when nothing is stored
    for the symbol.
    """
    now = clock.now_ms()
    timeframes = (timeframe,) if timeframe else SOURCE_TIMEFRAMES
    chosen = repo.freshest_series(store, symbol, timeframes, until_ms=now)
    if chosen is None and not timeframe:
        # 1h is not a candidate next to 1m: the forming hour would always look fresher.
        chosen = repo.freshest_series(store, symbol, ("1h",), until_ms=now)
    if chosen is None:
        raise NotFoundError(
            f"no {'/'.join(timeframes)} candles stored for {symbol}; ingest or import some first"
        )
    row = repo.latest_candle(store, chosen.source, symbol, chosen.timeframe, until_ms=now)
    assert row is not None  # the series has a bar opened by now
    close_time = row["open_time"] + TIMEFRAME_MS[chosen.timeframe]
    view = {
        "symbol": symbol,
        "source": chosen.source,
        "timeframe": chosen.timeframe,
        "open_time": iso_utc(row["open_time"]),
        "age_s": round((now - close_time) / 1000, 1),
        **{k: row[k] for k in ("open", "high", "low", "close", "volume", "bars")},
        **{k: row[k] for k in INDICATOR_COLUMNS},
        "series_bars": repo.count_bars(store, chosen.source, symbol, chosen.timeframe, now),
    }
    funding = observations.latest_funding(store, symbol)
    if funding:
        view["funding_rate"] = funding["rate"]
        view["funding_time"] = iso_utc(funding["time"])
    return view


@dataclass(frozen=True)
class ExecutionPrice:
    """The price a market order would reference now, and as of when (epoch ms)."""

    symbol: str
    price: Decimal
    as_of: int
    source: str
    timeframe: str


def execution_price(store: Store, symbol: str, now_ms: int) -> ExecutionPrice | None:
    """The close of the newest *closed* source bar (1m, else 5m) as of ``now_ms``, converted
    to Decimal once; ``as_of`` is that bar's close time.

    Only bars that have closed by ``now_ms`` count: a bar still forming in a replay holds prices
    from after ``now_ms``, and a fill must never see the future. Live, this is at most one bar
    old, which the gates' price-age limit covers. ``None`` when no bar has closed yet.
    """
    best: ExecutionPrice | None = None
    for timeframe in SOURCE_TIMEFRAMES:
        step = TIMEFRAME_MS[timeframe]
        chosen = repo.freshest_series(store, symbol, (timeframe,), until_ms=now_ms - step)
        if chosen is None:
            continue
        row = repo.latest_candle(store, chosen.source, symbol, timeframe, until_ms=now_ms - step)
        if row is None:
            continue
        candidate = ExecutionPrice(
            symbol, from_float(row["close"]), row["open_time"] + step, chosen.source, timeframe
        )
        if best is None or candidate.as_of > best.as_of:
            best = candidate
    return best
