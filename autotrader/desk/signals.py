"""The rules-based signal analyzer: technical analysis over market memory, with a confidence.

One analysis reads, for one symbol and bar size, only what had happened by ``now``: the last two
*closed* bars and their stored indicators, the 20 bars before them (volume), the latest funding
rate and Polymarket's up/down markets on the symbol. Each input gives a component in [-1, 1]
(+1 is bullish); the weighted sum is the score, its sign the side, and
``confidence = 0.5 + |score| / 2`` (at most 0.99). A score under 0.15 in size is no signal.

========== ====== ================================================================
component  weight +1 when (−1 mirrored)
========== ====== ================================================================
trend      0.5    MACD histogram turns positive with the close above EMA20 and SMA20
                  (0.5 when it is positive and the close above EMA20)
momentum   0.3    RSI14 crosses up through 30 (0.5 while below 30)
breakout   0.3    the close breaks above the upper Bollinger band from inside
volume     0.2    the bar's volume is at least twice the 20-bar mean and it closed up
funding    0.15   funding is below -0.01 %/h (shorts crowded); above +0.01 %/h: −1
polymarket 0.3    an "Up or Down" market on the symbol moved ≥ 10 points to Up in an hour
========== ====== ================================================================

The seed's "KOL activity" (influencers' wallets and posts) has no source in this product; volume,
funding and Polymarket moves stand in for it.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from decimal import Decimal

from autotrader.core.clock import HOUR_MS
from autotrader.core.db import Store
from autotrader.core.money import from_float
from autotrader.desk.vocabulary import SignalSource
from autotrader.market import repo as market_repo
from autotrader.market.models import TIMEFRAME_MS
from autotrader.market.repo import observations
from autotrader.prop.models import Side

WEIGHTS = {
    "trend": 0.5,
    "momentum": 0.3,
    "breakout": 0.3,
    "volume": 0.2,
    "funding": 0.15,
    "polymarket": 0.3,
}
MIN_SCORE = 0.15
MAX_CONFIDENCE = 0.99
VOLUME_BARS = 20
VOLUME_SPIKE = 2.0
FUNDING_EXTREME = 0.0001  # hourly, as a fraction
POLYMARKET_MOVE = 0.10
_SOURCE_OF = {
    "trend": SignalSource.INDICATOR,
    "momentum": SignalSource.INDICATOR,
    "breakout": SignalSource.INDICATOR,
    "volume": SignalSource.VOLUME,
    "funding": SignalSource.FUNDING,
    "polymarket": SignalSource.POLYMARKET,
}


@dataclass(frozen=True)
class Analysis:
    """One symbol's reading at one closed bar."""

    symbol: str
    timeframe: str
    bar_time: int  # open time of the newest closed bar read
    price: Decimal  # its close
    components: dict[str, float]
    notes: tuple[str, ...] = field(default=())

    @property
    def score(self) -> float:
        return round(sum(WEIGHTS[name] * value for name, value in self.components.items()), 4)

    @property
    def side(self) -> Side | None:
        if abs(self.score) < MIN_SCORE:
            return None
        return Side.LONG if self.score > 0 else Side.SHORT

    @property
    def confidence(self) -> float:
        return round(min(MAX_CONFIDENCE, 0.5 + abs(self.score) / 2), 4)

    @property
    def source(self) -> SignalSource:
        """Where the largest part of the score came from."""
        by_source: dict[SignalSource, float] = {}
        for name, value in self.components.items():
            by_source[_SOURCE_OF[name]] = by_source.get(_SOURCE_OF[name], 0.0) + (
                WEIGHTS[name] * value
            )
        return max(by_source, key=lambda s: (abs(by_source[s]), s == SignalSource.INDICATOR))

    def metadata(self) -> dict:
        return {
            "score": self.score,
            "components": self.components,
            "weights": {k: WEIGHTS[k] for k in self.components},
            "notes": list(self.notes),
        }


def analyze(store: Store, symbol: str, timeframe: str, now_ms: int) -> Analysis | str:
    """The analysis of ``symbol`` on ``timeframe`` bars as of ``now_ms``, or why there is none
    (no closed bars, no indicators yet)."""
    step = TIMEFRAME_MS[timeframe]
    closed_until = now_ms - step  # a bar opened after this has not closed by now
    series = market_repo.freshest_series(store, symbol, (timeframe,), until_ms=closed_until)
    if series is None:
        return f"no closed {timeframe} bars of {symbol}"
    rows = market_repo.indicator_rows(
        store, series.source, symbol, timeframe, until_ms=closed_until, limit=2
    )
    bars = market_repo.candles_between(
        store, series.source, symbol, timeframe, closed_until - VOLUME_BARS * step, closed_until
    )
    if len(rows) < 2 or len(bars) < 2 or rows[-1][0] != bars[-1].open_time:
        return f"not enough {timeframe} indicators of {symbol} yet"
    prev, last = _indicators(rows[0]), _indicators(rows[1])
    notes: list[str] = []
    components = {
        "trend": _trend(prev, last, bars[-1].close),
        "momentum": _momentum(prev, last),
        "breakout": _breakout(prev, last, bars[-2].close, bars[-1].close),
        "volume": _volume(bars, notes),
        "funding": _funding(store, symbol, now_ms, notes),
        "polymarket": _polymarket(store, symbol, now_ms, notes),
    }
    return Analysis(
        symbol,
        timeframe,
        bars[-1].open_time,
        from_float(bars[-1].close),
        {name: value for name, value in components.items() if value},
        tuple(notes),
    )


_COLUMNS = ("rsi14", "bb_upper", "bb_middle", "bb_lower", "sma20", "ema20", "macd", "macd_signal")


def _indicators(row: tuple) -> dict[str, float | None]:
    return dict(zip(("open_time", *_COLUMNS, "macd_hist"), row, strict=True))


def _trend(prev: dict, last: dict, close: float) -> float:
    before, now, ema, sma = prev["macd_hist"], last["macd_hist"], last["ema20"], last["sma20"]
    if None in (before, now, ema, sma):
        return 0.0
    if before <= 0 < now and close > ema and close > sma:
        return 1.0
    if before >= 0 > now and close < ema and close < sma:
        return -1.0
    if now > 0 and close > ema:
        return 0.5
    if now < 0 and close < ema:
        return -0.5
    return 0.0


def _momentum(prev: dict, last: dict) -> float:
    before, now = prev["rsi14"], last["rsi14"]
    if before is None or now is None:
        return 0.0
    if before < 30 <= now:
        return 1.0
    if before > 70 >= now:
        return -1.0
    if now < 30:
        return 0.5
    if now > 70:
        return -0.5
    return 0.0


def _breakout(prev: dict, last: dict, prev_close: float, close: float) -> float:
    if None in (prev["bb_upper"], prev["bb_lower"], last["bb_upper"], last["bb_lower"]):
        return 0.0
    if prev_close <= prev["bb_upper"] and close > last["bb_upper"]:
        return 1.0
    if prev_close >= prev["bb_lower"] and close < last["bb_lower"]:
        return -1.0
    return 0.0


def _volume(bars: list, notes: list[str]) -> float:
    earlier = [b.volume for b in bars[:-1]]
    if len(earlier) < VOLUME_BARS // 2:
        return 0.0
    mean = statistics.fmean(earlier)
    last = bars[-1]
    if mean <= 0 or last.volume < VOLUME_SPIKE * mean:
        return 0.0
    notes.append(f"volume {last.volume / mean:.1f}x the {len(earlier)}-bar mean")
    return 1.0 if last.close > bars[-2].close else -1.0 if last.close < bars[-2].close else 0.0


def _funding(store: Store, symbol: str, now_ms: int, notes: list[str]) -> float:
    rows = observations.funding_rows(store, symbol, until_ms=now_ms, limit=1)
    if not rows or now_ms - rows[-1][0] > 2 * HOUR_MS:
        return 0.0
    rate = rows[-1][2]
    if rate > FUNDING_EXTREME:
        notes.append(f"funding {rate:.4%}/h: longs crowded")
        return -1.0
    if rate < -FUNDING_EXTREME:
        notes.append(f"funding {rate:.4%}/h: shorts crowded")
        return 1.0
    return 0.0


def _polymarket(store: Store, symbol: str, now_ms: int, notes: list[str]) -> float:
    """The largest hourly move of an up/down market on ``symbol`` (only those say which way)."""
    best = 0.0
    for market in observations.prediction_markets_for(
        store, "topic", symbol, until_ms=now_ms, limit=5
    ):
        names = {o["name"].lower() for o in json.loads(market["outcomes"])}
        if names != {"up", "down"}:
            continue
        _, now = observations.prediction_prices_at(store, market["market_id"], until_ms=now_ms)
        _, before = observations.prediction_prices_at(
            store, market["market_id"], until_ms=now_ms - HOUR_MS
        )
        up_now = next((p for name, p in now.items() if name.lower() == "up"), None)
        up_before = next((p for name, p in before.items() if name.lower() == "up"), None)
        if up_now is None or up_before is None:
            continue
        move = up_now - up_before
        if abs(move) >= POLYMARKET_MOVE and abs(move) > abs(best):
            best = move
            notes.append(f"Polymarket {market['slug']}: Up {up_before:.2f} → {up_now:.2f}")
    return 0.0 if not best else (1.0 if best > 0 else -1.0)
