"""Polymarket prediction markets: Gamma (discovery, search, events) and CLOB (order books).

The parsers are pure and never raise on a malformed market inside a batch: it becomes a
:class:`~autotrader.market.models.Rejection` with a short reason, and the rest is kept. Gamma
quirks they absorb: ``outcomes``, ``outcomePrices`` and ``clobTokenIds`` are JSON-encoded strings
inside the JSON (a real list is accepted too); numbers often arrive as strings; markets nested in
an event carry neither the event slug nor the tags, so those come from the event. CLOB books list
bids ascending and asks descending (best = last); we take max/min rather than trust the order.

Prices are outcome probabilities in [0, 1] (floats, analytics only). Times are epoch ms, UTC.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import httpx

from autotrader.core.clock import Clock, parse_iso_utc
from autotrader.core.errors import InvalidInputError
from autotrader.market.models import PredictionMarket, PredictionOutcome, Rejection
from autotrader.market.sources._http import DEFAULT_TIMEOUT_S, JsonHttpClient

DEFAULT_GAMMA_URL = "https://gamma-api.polymarket.com"
DEFAULT_CLOB_URL = "https://clob.polymarket.com"
SOURCE = "Polymarket"

# Index used in a Rejection that refuses the whole payload rather than one row of it.
WHOLE_PAYLOAD = -1


class _Malformed(Exception):
    """One market cannot be read; ``reason`` is short and machine-friendly."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


# -- small readers -----------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    """A finite float from a JSON number or numeric string; ``None`` for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _amount(payload: dict[str, Any], *keys: str) -> float | None:
    """The first readable non-negative amount under ``keys`` (volume, liquidity), else ``None``."""
    for key in keys:
        number = _number(payload.get(key))
        if number is not None and number >= 0:
            return number
    return None


def _flag(value: Any, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return default


def _json_list(payload: dict[str, Any], key: str) -> list[Any] | None:
    """The list under ``key``, decoding Gamma's JSON-in-a-string; ``None`` when absent."""
    raw = payload.get(key)
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise _Malformed(f"{key}_not_json", raw[:80]) from None
    if not isinstance(raw, list):
        raise _Malformed(f"{key}_not_list", repr(raw)[:80])
    return raw


def _time_ms(value: Any) -> int | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return parse_iso_utc(value)
    except ValueError:
        return None


def _tag_names(raw: Any) -> tuple[str, ...]:
    """Tag slugs (or labels, or plain strings), lower-cased, first occurrence kept."""
    if not isinstance(raw, list):
        return ()
    names: list[str] = []
    for tag in raw:
        if isinstance(tag, dict):
            tag = tag.get("slug") or tag.get("label")
        if isinstance(tag, str) and tag.strip() and tag.strip().lower() not in names:
            names.append(tag.strip().lower())
    return tuple(names)


def _first_event(payload: dict[str, Any]) -> dict[str, Any]:
    """The event a standalone Gamma market embeds (``events[0]``), or an empty dict."""
    events = payload.get("events")
    if isinstance(events, list) and events and isinstance(events[0], dict):
        return events[0]
    return {}


# -- markets -----------------------------------------------------------------------------------


def _outcomes(payload: dict[str, Any]) -> tuple[PredictionOutcome, ...]:
    names = _json_list(payload, "outcomes")
    if not names:
        raise _Malformed("no_outcomes", repr(payload.get("outcomes"))[:80])
    if not all(isinstance(name, str) and name.strip() for name in names):
        raise _Malformed("bad_outcome_name", repr(names)[:80])
    prices_raw = _json_list(payload, "outcomePrices")
    prices: list[float | None] = [None] * len(names)
    if prices_raw is not None:
        if len(prices_raw) != len(names):
            raise _Malformed("price_count_mismatch", f"{len(names)} outcomes, {len(prices_raw)}")
        for i, raw in enumerate(prices_raw):
            price = _number(raw)
            if price is None:
                raise _Malformed("price_not_a_number", repr(raw)[:40])
            if not 0.0 <= price <= 1.0:
                raise _Malformed("price_out_of_range", repr(raw)[:40])
            prices[i] = price
    tokens_raw = _json_list(payload, "clobTokenIds")
    tokens: list[str | None] = [None] * len(names)
    if tokens_raw is not None:
        # Zipping a short token list would pair an outcome with another outcome's token.
        if len(tokens_raw) != len(names):
            raise _Malformed("token_count_mismatch", f"{len(names)} outcomes, {len(tokens_raw)}")
        tokens = [str(t) if isinstance(t, (str, int)) and str(t) else None for t in tokens_raw]
    return tuple(
        PredictionOutcome(name=n.strip(), price=p, token_id=t)
        for n, p, t in zip(names, prices, tokens, strict=True)
    )


def _parse_market(
    payload: Any, observed_at: int, event_slug: str | None, tags: Sequence[str]
) -> PredictionMarket:
    if not isinstance(payload, dict):
        raise _Malformed("not_an_object", type(payload).__name__)
    question = payload.get("question")
    if not isinstance(question, str) or not question.strip():
        raise _Malformed("missing_question")
    market_id = payload.get("id") or payload.get("conditionId")
    if not isinstance(market_id, (str, int)) or isinstance(market_id, bool):
        raise _Malformed("missing_id")
    slug = payload.get("slug")
    embedded = _first_event(payload)
    own_slug = embedded.get("slug") if isinstance(embedded.get("slug"), str) else None
    own_tags = _tag_names(payload.get("tags")) + _tag_names(embedded.get("tags"))
    return PredictionMarket(
        market_id=str(market_id),
        slug=slug if isinstance(slug, str) else "",
        question=question.strip(),
        event_slug=own_slug or event_slug,
        outcomes=_outcomes(payload),
        volume=_amount(payload, "volumeNum", "volume"),
        liquidity=_amount(payload, "liquidityNum", "liquidity"),
        end_time=_time_ms(payload.get("endDate")) or _time_ms(payload.get("endDateIso")),
        active=_flag(payload.get("active"), False),
        closed=_flag(payload.get("closed"), False),
        observed_at=observed_at,
        tags=tuple(dict.fromkeys((*own_tags, *tags))),
    )


def parse_market(
    payload: dict[str, Any],
    *,
    observed_at: int,
    event_slug: str | None = None,
    tags: Sequence[str] = (),
) -> PredictionMarket:
    """One Gamma market object → :class:`PredictionMarket` observed at ``observed_at`` (ms).

    ``event_slug`` and ``tags`` fill in what a market nested in an event does not carry itself.
    Volume and liquidity are USD floats (``None`` when absent or unreadable); ``end_time`` is
    epoch ms from ``endDate`` (``None`` when unreadable). Raises ``InvalidInputError`` when the
    market is malformed (see :func:`parse_markets` for the reasons).
    """
    try:
        return _parse_market(payload, observed_at, event_slug, tags)
    except _Malformed as bad:
        ident = payload.get("id") if isinstance(payload, dict) else None
        raise InvalidInputError(
            f"{SOURCE}: market {ident!r} is malformed: {bad.reason}"
            + (f" ({bad.detail})" if bad.detail else "")
        ) from None


def _collect(
    items: Iterable[tuple[Any, str | None, Sequence[str]]], observed_at: int
) -> tuple[list[PredictionMarket], list[Rejection]]:
    markets: list[PredictionMarket] = []
    rejections: list[Rejection] = []
    for index, (payload, event_slug, tags) in enumerate(items):
        try:
            markets.append(_parse_market(payload, observed_at, event_slug, tags))
        except _Malformed as bad:
            rejections.append(Rejection(index, bad.reason, bad.detail))
    return markets, rejections


def parse_markets(
    payloads: Any, observed_at: int
) -> tuple[list[PredictionMarket], list[Rejection]]:
    """A Gamma ``/markets`` list → (markets, rejections); never raises.

    A market is rejected (``Rejection.index`` = its position) when it is not an object, has no
    question or id, its outcomes/prices/token ids are not JSON lists, the counts differ, a price
    is not a finite number or lies outside [0, 1]. A payload that is not a list is one rejection
    with index ``-1``.
    """
    if not isinstance(payloads, list):
        return [], [Rejection(WHOLE_PAYLOAD, "not_a_list", type(payloads).__name__)]
    return _collect(((p, None, ()) for p in payloads), observed_at)


def _event_markets(events: Iterable[Any]) -> Iterable[tuple[Any, str | None, Sequence[str]]]:
    for event in events:
        if not isinstance(event, dict):
            continue
        slug = event.get("slug") if isinstance(event.get("slug"), str) else None
        tags = _tag_names(event.get("tags"))
        for market in event.get("markets") or ():
            yield market, slug, tags


def parse_event(payload: Any, observed_at: int) -> tuple[list[PredictionMarket], list[Rejection]]:
    """A Gamma event object → (its markets, rejections); markets inherit the event's slug and
    tags. Never raises; a payload that is not an object is one rejection with index ``-1``."""
    if not isinstance(payload, dict):
        return [], [Rejection(WHOLE_PAYLOAD, "not_an_object", type(payload).__name__)]
    if not isinstance(payload.get("markets"), list):
        return [], [Rejection(WHOLE_PAYLOAD, "no_markets", str(payload.get("slug", ""))[:80])]
    return _collect(_event_markets([payload]), observed_at)


def parse_search(payload: Any, observed_at: int) -> tuple[list[PredictionMarket], list[Rejection]]:
    """A Gamma ``/public-search`` answer (``{"events": [...]}``) → (markets, rejections).

    Rejection indexes count markets across all events, in order. Never raises.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("events", []), list):
        return [], [Rejection(WHOLE_PAYLOAD, "not_a_search_result", type(payload).__name__)]
    return _collect(_event_markets(payload.get("events") or []), observed_at)


# -- order book --------------------------------------------------------------------------------


def _levels(raw: Any) -> list[tuple[float, float]]:
    levels: list[tuple[float, float]] = []
    for level in raw if isinstance(raw, list) else ():
        if not isinstance(level, dict):
            continue
        price, size = _number(level.get("price")), _number(level.get("size"))
        if price is not None and size is not None and 0.0 <= price <= 1.0 and size > 0:
            levels.append((price, size))
    return levels


def parse_book(payload: Any) -> dict[str, Any]:
    """A CLOB ``/book`` answer → ``{"token_id", "market", "time", "best_bid", "bid_size",
    "best_ask", "ask_size", "mid", "spread"}``.

    Prices are floats in [0, 1]; a side with no readable level gives ``None`` for its best price
    and for ``mid``/``spread``; ``time`` is epoch ms or ``None``. Unreadable levels are skipped.
    Raises ``InvalidInputError`` only when the payload is not an object.
    """
    if not isinstance(payload, dict):
        raise InvalidInputError(f"{SOURCE}: order book answer is not an object")
    bids, asks = _levels(payload.get("bids")), _levels(payload.get("asks"))
    best_bid = max(bids, default=None)
    best_ask = min(asks, default=None)
    stamp = _number(payload.get("timestamp"))
    mid = spread = None
    if best_bid is not None and best_ask is not None:
        mid = (best_bid[0] + best_ask[0]) / 2
        spread = best_ask[0] - best_bid[0]
    return {
        "token_id": str(payload.get("asset_id") or "") or None,
        "market": payload.get("market") if isinstance(payload.get("market"), str) else None,
        "time": int(stamp) if stamp is not None else None,
        "best_bid": best_bid[0] if best_bid else None,
        "bid_size": best_bid[1] if best_bid else None,
        "best_ask": best_ask[0] if best_ask else None,
        "ask_size": best_ask[1] if best_ask else None,
        "mid": mid,
        "spread": spread,
    }


# -- client ------------------------------------------------------------------------------------


class PolymarketSource:
    """Read-only Polymarket client: Gamma for markets, CLOB for books. No keys needed.

    Every method raises ``TemporaryError`` when the API cannot be reached or keeps failing, and
    ``InvalidInputError`` when the thing asked for does not exist (404/400).
    """

    def __init__(
        self,
        gamma_url: str = DEFAULT_GAMMA_URL,
        clob_url: str = DEFAULT_CLOB_URL,
        *,
        clock: Clock,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_retries: int = 3,
    ) -> None:
        self._clock = clock
        common: dict[str, Any] = {
            "name": SOURCE,
            "transport": transport,
            "sleep": sleep,
            "timeout_s": timeout_s,
            "max_retries": max_retries,
        }
        self._gamma = JsonHttpClient(gamma_url, **common)
        self._clob = JsonHttpClient(clob_url, **common)

    def close(self) -> None:
        """Release pooled connections."""
        self._gamma.close()
        self._clob.close()

    def __enter__(self) -> PolymarketSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def discover(
        self, limit: int = 100, tag: str | int | None = None, active: bool = True
    ) -> tuple[list[PredictionMarket], list[Rejection]]:
        """Markets by 24 h volume, busiest first (GET ``/markets``). ``tag`` is a Gamma tag id
        (e.g. 21 = Crypto); ``active`` keeps only open markets (active, not closed)."""
        if not 1 <= limit <= 500:
            raise InvalidInputError(f"{SOURCE}: limit must be between 1 and 500 (got {limit})")
        params: dict[str, str | int | bool | None] = {
            "limit": limit,
            "order": "volume24hr",
            "ascending": False,
            "tag_id": tag,
        }
        if active:
            params.update(active=True, closed=False)
        payload = self._gamma.get_json("/markets", params, what="market list")
        return parse_markets(payload, self._clock.now_ms())

    def search(self, topic: str) -> tuple[list[PredictionMarket], list[Rejection]]:
        """Markets of the events matching ``topic`` (GET ``/public-search?q=``)."""
        if not topic.strip():
            raise InvalidInputError(f"{SOURCE}: a search needs a topic")
        payload = self._gamma.get_json(
            "/public-search", {"q": topic.strip()}, what=f"search {topic!r}"
        )
        return parse_search(payload, self._clock.now_ms())

    def event(self, slug: str) -> tuple[list[PredictionMarket], list[Rejection]]:
        """The markets of the event ``slug`` (GET ``/events?slug=``); an unknown slug raises
        ``InvalidInputError``."""
        what = f"event {slug!r}"
        payload = self._gamma.get_json("/events", {"slug": slug}, what=what)
        if isinstance(payload, list):
            if not payload:
                raise InvalidInputError(f"{SOURCE}: {what} not found")
            payload = payload[0]
        return parse_event(payload, self._clock.now_ms())

    def book(self, token_id: str) -> dict[str, Any]:
        """Best bid/ask/mid of one outcome token (GET CLOB ``/book?token_id=``); see
        :func:`parse_book` for the shape."""
        payload = self._clob.get_json(
            "/book", {"token_id": token_id}, what=f"order book for token {token_id!r}"
        )
        return parse_book(payload)
