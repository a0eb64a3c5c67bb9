"""Build the effective context packet of one decision: a compiled strategy's read plan for one
asset, resolved against SQLite as of the clock, plus the prop account's state and memories,
rendered into a budgeted prompt.

Retrieval is deterministic: the same market memory, account rows, clock, strategy, symbol,
memories and budget always give the same packet, byte for byte (``prompt_hash`` is the sha256
of the prompt). Market memory is read through a
:class:`~autotrader.context.market_reader.MarketReader` (the store's by default; a backtest's
history in memory), the account from the store. Nothing newer than ``clock.now_ms()`` is read,
so a replay sees what a live run would have seen. Missing data is stated in the packet ("no 1m
candles stored for X"), never raised.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from autotrader.clones.plan import CompiledStrategy, ReadItem
from autotrader.context.account import account_context
from autotrader.context.market_reader import MarketReader, StoreMarket
from autotrader.context.render import build_parts, fmt_float
from autotrader.context.tokens import SEPARATOR, Section, Trim, fit_to_budget, total_tokens
from autotrader.core.clock import Clock, iso_utc
from autotrader.core.db import Store
from autotrader.market.models import INDICATOR_COLUMNS, TIMEFRAME_MS, Candle, PredictionMarket
from autotrader.market.repo import SOURCE_PRIORITY, observations
from autotrader.market.rollup import rollup_with_counts
from autotrader.market.topics import markets_for_topic
from autotrader.market.view import SOURCE_TIMEFRAMES

DEFAULT_BUDGET_TOKENS = 6000
# Candle times repeat across symbols and builds; strftime is a visible share of a build.
_iso = lru_cache(maxsize=1 << 16)(iso_utc)
_CANDLE_COLUMNS = ("time", "open", "high", "low", "close", "volume")
# DefiLlama channel → which stored metrics it reads (see market.sources.defillama for units).
_LLAMA_METRICS: dict[str, tuple[str, ...]] = {
    "tvl": ("tvl",),
    "flows": ("tvl_change_",),
    "dex": ("dex_volume_",),
    "fees": ("fees_", "revenue_"),
    "stablecoins": ("supply",),
    "open_interest": ("open_interest", "open_interest_change_"),
}


@dataclass(frozen=True, slots=True)
class Memory:
    """Something a clone's earlier decision recorded (time in epoch ms; text is quoted as data)."""

    time_ms: int
    kind: str
    text: str


@dataclass(frozen=True)
class ContextPacket:
    """The effective context of one decision on ``symbol`` as of ``as_of`` (epoch ms).

    ``data`` is JSON-ready (Decimals and floats as text, times ISO-8601 UTC); ``sections`` are
    the prompt's sections in order; ``prompt`` is their text joined by blank lines;
    ``token_estimate`` is what the budget was checked against
    (:func:`~autotrader.context.tokens.total_tokens` of the sections, within a token per
    section of ``estimate_tokens(prompt)``); ``trimmed`` records what the budget removed and
    why, in order.
    """

    clone_id: int | None
    strategy_id: str
    symbol: str
    as_of: int
    data: dict[str, Any]
    sections: tuple[Section, ...]
    prompt: str
    token_estimate: int
    budget: int
    trimmed: tuple[Trim, ...]
    prompt_hash: str


def build_context(
    store: Store,
    clock: Clock,
    strategy: CompiledStrategy,
    symbol: str,
    *,
    account_id: int | None,
    memories: Sequence[Memory] = (),
    budget_tokens: int = DEFAULT_BUDGET_TOKENS,
    clone_id: int | None = None,
    market: MarketReader | None = None,
) -> ContextPacket:
    """Resolve ``strategy``'s read plan for ``symbol`` and the account's state as of
    ``clock.now_ms()`` and render the budgeted prompt.

    ``market`` is where market memory is read (default: ``store``'s, as of the clock); the
    account's rows are always ``store``'s. ``clone_id`` defaults to the account's clone.
    Memories newer than the clock are ignored and the rest are ordered by time. Raises
    ``NotFoundError`` for an unknown ``account_id``; missing market data and a symbol without a
    read plan are stated in the packet instead.
    """
    now = clock.now_ms()
    plan = strategy.read_plans.get(symbol)
    with store.read():
        market = market if market is not None else StoreMarket(store, now)
        account = None
        if account_id is not None:
            account = account_context(store, symbol, account_id, now, market=market)
        reads_data = [_read(market, item, now) for item in plan or ()]
    if clone_id is None and account is not None:
        clone_id = account["clone_id"]
    data: dict[str, Any] = {
        "clone_id": clone_id,
        "strategy_id": strategy.strategy_id,
        "engine": strategy.engine,
        "coverage_mode": strategy.coverage_mode,
        "symbol": symbol,
        "as_of": now,
        "as_of_iso": iso_utc(now),
        "behaviour_prompt": strategy.prompt_for(symbol),
        "plan_note": None if plan is not None else f"the strategy has no read plan for {symbol}",
        "reads": reads_data,
        "account": account,
        "memories": [
            {"time": iso_utc(m.time_ms), "kind": m.kind, "text": m.text}
            for m in sorted(memories, key=lambda m: (m.time_ms, m.kind, m.text))
            if m.time_ms <= now
        ],
    }
    return render_packet(data, budget_tokens=budget_tokens)


def render_packet(
    data: dict[str, Any], *, budget_tokens: int = DEFAULT_BUDGET_TOKENS
) -> ContextPacket:
    """The packet of ``data`` (as :func:`build_context` assembles it): its sections fitted to
    the budget and the prompt. A pure function, for data rewritten after assembly (a blind
    backtest's)."""
    sections, trims = fit_to_budget(build_parts(data), budget_tokens)
    prompt = SEPARATOR.join(s.text for s in sections)
    return ContextPacket(
        clone_id=data["clone_id"],
        strategy_id=data["strategy_id"],
        symbol=data["symbol"],
        as_of=data["as_of"],
        data=data,
        sections=tuple(sections),
        prompt=prompt,
        token_estimate=total_tokens(sections),
        budget=budget_tokens,
        trimmed=tuple(trims),
        prompt_hash=hashlib.sha256(prompt.encode("utf-8")).hexdigest(),
    )


def packet_to_dict(packet: ContextPacket) -> dict[str, Any]:
    """The packet as plain JSON-ready data (what :func:`packet_to_json` encodes)."""
    return {
        "clone_id": packet.clone_id,
        "strategy_id": packet.strategy_id,
        "symbol": packet.symbol,
        "as_of": packet.as_of,
        "as_of_iso": iso_utc(packet.as_of),
        "budget": packet.budget,
        "token_estimate": packet.token_estimate,
        "prompt_hash": packet.prompt_hash,
        "trimmed": [
            {
                "section": t.section,
                "action": t.action,
                "reason": t.reason,
                "tokens_before": t.tokens_before,
                "tokens_after": t.tokens_after,
            }
            for t in packet.trimmed
        ],
        "sections": [
            {"name": s.name, "priority": s.priority, "tokens": s.tokens, "text": s.text}
            for s in packet.sections
        ],
        "prompt": packet.prompt,
        "data": packet.data,
    }


def packet_to_json(packet: ContextPacket) -> str:
    """Canonical JSON of the packet (sorted keys, 2-space indent, UTF-8 text, trailing
    newline): equal packets give equal bytes, for ``--json`` output and artifact storage."""
    return json.dumps(packet_to_dict(packet), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


# -- market reads -------------------------------------------------------------------------------


def _read(market: MarketReader, item: ReadItem, now: int) -> dict[str, Any]:
    base: dict[str, Any] = {
        "source": item.source,
        "channel": item.channel,
        "symbol": item.symbol,
        "context_symbol": item.context_symbol,
        "granularity": item.granularity,
        "lookback": item.lookback,
        "scope": item.scope,
        "include_in_prompt": item.include_in_prompt,
        "profile": item.profile,
        "origin": item.origin,
        "node_id": item.node_id,
        "status": "ok",
        "note": None,
    }
    reader = {
        ("hyperliquid", "ohlcv"): _ohlcv,
        ("hyperliquid", "indicators"): _indicators,
        ("hyperliquid", "funding"): _funding,
    }.get((item.source, item.channel))
    if item.source == "polymarket":
        reader = _polymarket
    elif item.source == "defillama" and item.channel in _LLAMA_METRICS:
        reader = _defillama
    if reader is None:
        return _missing(base, f"unsupported read {item.source}/{item.channel}")
    return reader(market, item, now, base)


def _missing(base: dict[str, Any], note: str) -> dict[str, Any]:
    return {**base, "status": "missing", "note": note}


def _freshest(
    market: MarketReader, symbol: str, timeframe: str, now: int
) -> tuple[str, int] | None:
    """The source whose ``timeframe`` series of ``symbol`` has the newest bar opened by
    ``now``, with that bar's open time (ties go to ``SOURCE_PRIORITY`` order). One
    primary-key seek per source, where ``market.repo.freshest_series`` would scan every
    symbol's candles."""
    best: tuple[str, int] | None = None
    for source in SOURCE_PRIORITY:
        opened = market.newest_open_time(source, symbol, timeframe, until_ms=now)
        if opened is not None and (best is None or opened > best[1]):
            best = (source, opened)
    return best


def _ohlcv(market: MarketReader, item: ReadItem, now: int, base: dict) -> dict[str, Any]:
    symbol, timeframe, count = item.context_symbol, item.granularity or "1m", max(1, item.lookback)
    if timeframe not in TIMEFRAME_MS:
        return _missing(base, f"unknown granularity {timeframe}")
    step, derived_from = TIMEFRAME_MS[timeframe], None
    chosen = _freshest(market, symbol, timeframe, now)
    if chosen is None:
        # No stored series at this granularity (5m from a 1m feed): roll a finer one up.
        for finer in SOURCE_TIMEFRAMES:
            if TIMEFRAME_MS[finer] < step and step % TIMEFRAME_MS[finer] == 0:
                chosen = _freshest(market, symbol, finer, now)
                if chosen is not None:
                    derived_from = finer
                    break
    if chosen is None:
        return _missing(base, f"no candles stored as of {iso_utc(now)}")
    source, newest = chosen
    since = newest - newest % step - (count - 1) * step
    candles: list[Candle]
    if derived_from is not None:
        fine = market.candles(source, symbol, derived_from, since, until_ms=now)
        candles = [c for c, _ in rollup_with_counts(fine, timeframe)]
    elif timeframe in SOURCE_TIMEFRAMES:
        candles = market.candles(source, symbol, timeframe, since, until_ms=now)
    else:
        # A stored rollup (1h) that is still forming may hold source bars newer than ``now``
        # (a replay over a loaded store): take closed bars only and rebuild the forming one
        # from the source bars opened by now, as a live run would have seen it.
        candles = market.candles(source, symbol, timeframe, since, until_ms=now - step)
        forming = _forming_rollup(market, symbol, timeframe, now)
        if forming is not None and (not candles or forming.open_time > candles[-1].open_time):
            # A reader that shows closed bars only (a backtest's) leaves ``since`` a bar early.
            candles = [*candles, forming][-count:]
    if not candles:
        return _missing(base, f"no closed {timeframe} candles stored as of {iso_utc(now)}")
    rows = [
        [_iso(c.open_time), *(fmt_float(v) for v in (c.open, c.high, c.low, c.close, c.volume))]
        for c in candles
    ]
    notes, close_time = [], candles[-1].open_time + step
    if len(rows) < count:
        notes.append(f"{count - len(rows)} of {count} bars missing in the window")
    if close_time > now:
        notes.append("the newest bar is still forming")
    elif now - close_time >= step:
        notes.append(f"stale: the newest bar closed at {iso_utc(close_time)}")
    return {
        **base,
        "note": "; ".join(notes) or None,
        "series": {"source": source, "timeframe": timeframe, "derived_from": derived_from},
        "columns": list(_CANDLE_COLUMNS),
        "rows": rows,
    }


def _forming_rollup(market: MarketReader, symbol: str, timeframe: str, now: int) -> Candle | None:
    """The ``timeframe`` bar holding ``now``, rolled up from the freshest source bars opened by
    ``now`` (None when no source bar is in that bucket)."""
    bucket = now - now % TIMEFRAME_MS[timeframe]
    for finer in SOURCE_TIMEFRAMES:
        chosen = _freshest(market, symbol, finer, now)
        if chosen is not None and chosen[1] >= bucket:
            fine = market.candles(chosen[0], symbol, finer, bucket, until_ms=now)
            return rollup_with_counts(fine, timeframe)[-1][0]
    return None


def _indicators(market: MarketReader, item: ReadItem, now: int, base: dict) -> dict[str, Any]:
    timeframe = item.granularity or "1m"
    if timeframe not in TIMEFRAME_MS:
        return _missing(base, f"unknown granularity {timeframe}")
    chosen = _freshest(market, item.context_symbol, timeframe, now)
    if chosen is None:
        return _missing(base, f"no {timeframe} candles stored as of {iso_utc(now)}")
    source = chosen[0]
    # Indicators of a forming rollup bar depend on its final close: closed bars only (see _ohlcv).
    until = now if timeframe in SOURCE_TIMEFRAMES else now - TIMEFRAME_MS[timeframe]
    found = market.indicator_rows(
        source, item.context_symbol, timeframe, until_ms=until, limit=max(1, item.lookback)
    )
    if not found:
        return _missing(base, f"no {timeframe} indicators stored as of {iso_utc(now)}")
    return {
        **base,
        "series": {"source": source, "timeframe": timeframe, "derived_from": None},
        "columns": ["time", *INDICATOR_COLUMNS],
        "rows": [[_iso(r[0]), *(fmt_float(v) for v in r[1:])] for r in found],
    }


def _funding(market: MarketReader, item: ReadItem, now: int, base: dict) -> dict[str, Any]:
    found = market.funding_rows(item.context_symbol, until_ms=now, limit=max(1, item.lookback))
    if not found:
        return _missing(base, f"no funding observations stored as of {iso_utc(now)}")
    return {
        **base,
        "note": "rate is hourly, as a fraction",
        "columns": ["time", *observations.FUNDING_COLUMNS],
        "rows": [[_iso(r[0]), *(fmt_float(v) for v in r[2:])] for r in found],
    }


def _polymarket(market: MarketReader, item: ReadItem, now: int, base: dict) -> dict[str, Any]:
    scope = item.scope or "topic"
    base = {**base, "scope": scope}
    found = _layered_markets(market, scope, item.context_symbol, now, max(1, item.lookback))
    if not found:
        return _missing(base, "no matching active markets stored")
    markets = []
    for layer, m in found:
        at, prices = market.prediction_prices_at(m["market_id"], until_ms=now)
        names = [o["name"] for o in json.loads(m["outcomes"])]
        names += sorted(set(prices) - set(names))
        markets.append(
            {
                "layer": layer,
                "market_id": m["market_id"],
                "slug": m["slug"],
                "event_slug": m["event_slug"],
                "question": m["question"],
                "tags": json.loads(m["tags"]),
                "end_time": iso_utc(m["end_time"]) or None,
                "volume": fmt_float(m["volume"]),
                "liquidity": fmt_float(m["liquidity"]),
                "outcomes": [{"name": n, "price": fmt_float(prices.get(n))} for n in names],
                "prices_as_of": iso_utc(at) if at else None,
            }
        )
    return {**base, "markets": markets}


def _layered_markets(
    market: MarketReader, scope: str, target: str, now: int, count: int
) -> list[tuple[str, dict]]:
    """At most ``count`` markets in the contract's two layers: the ``immediate`` one (the open
    market resolving soonest, looked up on its own so a quiet one is not crowded out by
    volume), then the busiest others as ``later``, by resolution time."""
    rows = {
        r["market_id"]: r
        for r in (
            *market.prediction_markets_for(scope, target, until_ms=now, limit=1, soonest=True),
            *market.prediction_markets_for(scope, target, until_ms=now, limit=count),
        )
    }
    view = markets_for_topic(map(_open_market, rows.values()), now_ms=now)
    layered = [("immediate", view.immediate)] if view.immediate else []
    layered += [("later", m) for m in view.later]
    return [(layer, rows[m.market_id]) for layer, m in layered[:count]]


def _open_market(row: dict) -> PredictionMarket:
    """A stored market row as the topic split reads it (the query kept only open markets)."""
    return PredictionMarket(
        market_id=row["market_id"],
        slug=row["slug"],
        question=row["question"],
        event_slug=row["event_slug"],
        outcomes=(),
        volume=row["volume"],
        liquidity=row["liquidity"],
        end_time=row["end_time"],
        active=True,
        closed=False,
        observed_at=0,
    )


def _defillama(market: MarketReader, item: ReadItem, now: int, base: dict) -> dict[str, Any]:
    scope, subject = item.scope or "global", item.context_symbol or "all"
    base = {**base, "scope": scope}
    stored, found = market.macro_latest(scope, subject, until_ms=now)
    wanted = _LLAMA_METRICS[item.channel]
    metrics = [
        {
            "metric": metric,
            "time": iso_utc(at),
            "value": fmt_float(value),
            "unit": "fraction" if "_change_" in metric else "USD",
        }
        for metric, at, value in found
        if metric in wanted or metric.startswith(tuple(w for w in wanted if w.endswith("_")))
    ]
    if not metrics:
        return _missing(base, f"no {item.channel} metrics stored as of {iso_utc(now)}")
    return {**base, "subject": stored, "metrics": metrics}
