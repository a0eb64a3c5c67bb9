"""A market-only decision's context, archived by reference to market memory.

A rules (or hold) decision sees a market snapshot: the execution price and a few bars with their
indicators, all rows market memory already keeps, keyed by time. Archiving a copy of those rows
for every decision cost a third of a replay and hundreds of megabytes, so the run's context
artifact is a *reference* instead: which symbol, source series, bar size and bar times, the
decision instant, and the sha256 of the snapshot as the engine saw it. :func:`resolve` rebuilds
the snapshot from market memory and checks it against that digest, so ``decisions show`` tells
the whole story and says plainly when market memory has changed since (re-ingested or pruned
bars). Model-backed decisions keep their full context packet: there the prompt is the evidence.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from autotrader.core.db import Store
from autotrader.decisions.engines.base import DecisionRequest, MarketSnapshot
from autotrader.market.models import TIMEFRAME_MS

REFERENCE = "market_memory"  # the ``ref`` of a context stored by reference


def market_json(market: MarketSnapshot) -> dict:
    """The snapshot as JSON-ready data: what ``dataclasses.asdict`` gives, without its deep
    copy of every bar (which cost more than the whole decision)."""
    return {
        "symbol": market.symbol,
        "price": market.price,
        "price_time": market.price_time,
        "granularity": market.granularity,
        "bars": [dict(vars(bar)) for bar in market.bars],
    }


def bars_digest(bars: list[dict]) -> str:
    """sha256 hex of bars' canonical JSON (floats as ``repr``, so any change shows)."""
    text = json.dumps(bars, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def market_reference(request: DecisionRequest) -> dict:
    """What a market-only run saw, as a reference into market memory (a few hundred bytes).

    Closed bars are referenced by open time (and digested); a bar still forming at the decision
    instant is kept whole, like the price: later data rewrites both in memory.
    """
    market = request.market
    step = TIMEFRAME_MS.get(market.granularity, 0)
    closed = [bar for bar in market.bars if bar.open_time + step <= request.now_ms]
    return {
        "ref": REFERENCE,
        "strategy": request.strategy.strategy_id,
        "symbol": market.symbol,
        "granularity": market.granularity,
        "as_of": request.now_ms,
        "price": market.price,
        "price_time": market.price_time,
        "bar_times": [bar.open_time for bar in closed],
        "sha256": bars_digest([dict(vars(bar)) for bar in closed]),
        "forming": [dict(vars(bar)) for bar in market.bars[len(closed) :]],
    }


def is_reference(context: Any) -> bool:
    return isinstance(context, dict) and context.get("ref") == REFERENCE


def resolve(store: Store, reference: dict) -> dict:
    """The full context a reference stands for: ``{"market", "strategy", "verified"}``, its
    closed bars read back from memory. ``verified`` is False (with ``problem`` saying why)
    when memory no longer holds exactly the bars the engine saw."""
    from autotrader.decisions.snapshot import market_snapshot

    times = reference["bar_times"]
    wanted = set(times)
    rebuilt = market_snapshot(
        store,
        reference["symbol"],
        now_ms=reference["as_of"],
        granularity=reference["granularity"],
        bars=len(times) + len(reference["forming"]),
    )
    closed = [dict(vars(bar)) for bar in rebuilt.bars if bar.open_time in wanted]
    verified = bars_digest(closed) == reference["sha256"]
    context: dict[str, Any] = {
        "market": {
            "symbol": reference["symbol"],
            "price": reference["price"],
            "price_time": reference["price_time"],
            "granularity": reference["granularity"],
            "bars": closed + reference["forming"],
        },
        "strategy": reference["strategy"],
        "verified": verified,
    }
    if not verified:
        context["problem"] = (
            "market memory changed since the decision (bars re-ingested or pruned): the bars "
            "shown are today's rows, not exactly what the engine saw"
        )
    return context
