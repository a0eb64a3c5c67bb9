"""Polymarket's layers for one topic, as the data contract names them: the *immediate* market
(the open one that resolves soonest: the current 15-minute "Up or Down" round, this week's
close) and the *later* ones, by resolution time. Pure: no I/O, no clock of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from autotrader.market.models import PredictionMarket


@dataclass(frozen=True, slots=True)
class TopicMarkets:
    """The markets of one topic as a trader reads them.

    ``immediate`` is the open market that resolves soonest after now (``None`` when there is
    none); ``later`` holds the other open markets by end time, those without an end time last.
    """

    immediate: PredictionMarket | None
    later: tuple[PredictionMarket, ...]


def markets_for_topic(markets: Iterable[PredictionMarket], *, now_ms: int) -> TopicMarkets:
    """Split open markets (active, not closed, not yet ended at ``now_ms``) into the immediate
    one and the later ones. A market seen twice counts once (its latest observation). Pure."""
    latest: dict[str, PredictionMarket] = {}
    for market in markets:
        seen = latest.get(market.market_id)
        if seen is None or market.observed_at >= seen.observed_at:
            latest[market.market_id] = market
    open_markets = [
        m
        for m in latest.values()
        if m.active and not m.closed and (m.end_time is None or m.end_time > now_ms)
    ]
    timed = sorted((m for m in open_markets if m.end_time is not None), key=_by_end)
    untimed = sorted((m for m in open_markets if m.end_time is None), key=lambda m: m.market_id)
    if not timed:
        return TopicMarkets(immediate=None, later=tuple(untimed))
    return TopicMarkets(immediate=timed[0], later=tuple(timed[1:] + untimed))


def _by_end(market: PredictionMarket) -> tuple[int, str]:
    return (market.end_time or 0, market.market_id)
