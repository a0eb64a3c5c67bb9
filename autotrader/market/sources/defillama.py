"""DefiLlama macro data (TVL, flows, DEX volume, fees, stablecoin supply) → MacroObservation.

The parsers are pure and never raise: a malformed entry becomes a
:class:`~autotrader.market.models.Rejection` with a short reason and the rest is kept; a payload
of the wrong shape is one rejection with index ``-1``. Amounts are USD floats (analytics, not
money); a negative or non-finite amount is rejected.

Units and names, so every metric means one thing wherever it comes from:

- ``tvl``, ``supply``, ``dex_volume_24h``, ``dex_volume_7d``, ``fees_24h``, ``revenue_24h``,
  ``open_interest`` (perp DEXs' open interest): USD.
- ``*_change_1d`` / ``*_change_7d``: **fractions** (0.021 = +2.1 %). DefiLlama's own ``change_1d``
  fields are percentages and are divided by 100 here; chain flows are computed from the
  historical series as ``tvl_now / tvl_then - 1``.

Times: a series point's own ``date`` (unix seconds → ms); otherwise the caller's ``now_ms``
floored to the minute, so two reads in the same minute land on the same row.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

import httpx

from autotrader.core.clock import Clock
from autotrader.core.errors import InvalidInputError
from autotrader.market.models import MacroObservation, Rejection
from autotrader.market.sources._http import DEFAULT_TIMEOUT_S, JsonHttpClient

DEFAULT_BASE_URL = "https://api.llama.fi"
DEFAULT_STABLECOINS_URL = "https://stablecoins.llama.fi"
DEFAULT_OPEN_INTEREST_PATH = "/overview/open-interest"
SOURCE = "DefiLlama"

WHOLE_PAYLOAD = -1  # Rejection.index when the whole payload is refused
DAY_S = 86_400

Parsed = tuple[list[MacroObservation], list[Rejection]]


def _minute(now_ms: int) -> int:
    return now_ms - now_ms % 60_000


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


def _name(entry: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _slug(entry: dict[str, Any]) -> str | None:
    """A protocol's slug; DefiLlama's ``slug`` field, else its name in slug form."""
    slug = _name(entry, "slug")
    if slug:
        return slug
    name = _name(entry, "name")
    return "-".join(name.lower().split()) if name else None


class _Collector:
    """Accumulates observations and rejections for one payload."""

    def __init__(self) -> None:
        self.observations: list[MacroObservation] = []
        self.rejections: list[Rejection] = []

    def reject(self, index: int, reason: str, detail: str = "") -> None:
        self.rejections.append(Rejection(index, reason, detail[:120]))

    def amount(
        self, index: int, scope: str, subject: str, metric: str, at: int, raw: Any
    ) -> float | None:
        """Keep ``raw`` as a non-negative USD amount, or reject it; returns the value kept."""
        value = _number(raw)
        if value is None:
            self.reject(index, f"{metric}_not_a_number", f"{subject}: {raw!r}")
            return None
        if value < 0:
            self.reject(index, f"{metric}_negative", f"{subject}: {raw!r}")
            return None
        self.observations.append(MacroObservation(scope, subject, metric, at, value))
        return value

    def percent_change(
        self, index: int, scope: str, subject: str, metric: str, at: int, raw: Any
    ) -> None:
        """Keep a DefiLlama percentage change as a fraction; absent/null is simply skipped."""
        if raw is None:
            return
        value = _number(raw)
        if value is None:
            self.reject(index, f"{metric}_not_a_number", f"{subject}: {raw!r}")
            return
        self.observations.append(MacroObservation(scope, subject, metric, at, value / 100))

    def result(self) -> Parsed:
        return self.observations, self.rejections


def _whole(reason: str, payload: Any) -> Parsed:
    return [], [Rejection(WHOLE_PAYLOAD, reason, type(payload).__name__)]


# -- TVL ---------------------------------------------------------------------------------------


def parse_chains(payload: Any, *, now_ms: int) -> Parsed:
    """``/v2/chains`` → one ``chain``/<name>/``tvl`` per chain plus ``global``/``all``/``tvl``,
    the sum of the chains kept (DefiLlama's chain TVLs exclude double counting, so they add up).
    All at ``now_ms`` floored to the minute."""
    if not isinstance(payload, list):
        return _whole("not_a_list", payload)
    at = _minute(now_ms)
    out = _Collector()
    total, kept = 0.0, 0
    seen: set[str] = set()
    for index, entry in enumerate(payload):
        if not isinstance(entry, dict) or not (name := _name(entry, "name")):
            out.reject(index, "missing_name")
            continue
        if name in seen:
            out.reject(index, "duplicate_subject", name)
            continue
        seen.add(name)
        value = out.amount(index, "chain", name, "tvl", at, entry.get("tvl"))
        if value is not None:
            total, kept = total + value, kept + 1
    if kept:
        out.observations.append(MacroObservation("global", "all", "tvl", at, total))
    return out.result()


def _change_at(points: list[tuple[int, float]], days: int) -> float | None:
    """``tvl_now / tvl_then - 1`` where *then* is the last point at least ``days`` before the
    latest one; ``None`` when the series is too short or *then* is zero."""
    latest_s, latest = points[-1]
    target = latest_s - days * DAY_S
    earlier = [value for when, value in points if when <= target]
    if not earlier or earlier[-1] == 0:
        return None
    return latest / earlier[-1] - 1


def parse_tvl_history(
    payload: Any, *, scope: str = "chain", subject: str, value_key: str = "tvl"
) -> Parsed:
    """A TVL series (``[{"date": unix_s, "tvl": usd}]``, from ``/v2/historicalChainTvl[/chain]``)
    → one ``tvl`` observation per point, at its date, plus the flows ``tvl_change_1d`` and
    ``tvl_change_7d`` (fractions) at the latest point when the series reaches back far enough.

    Points are sorted by date; a repeated date keeps the first and rejects the rest.
    ``value_key`` is ``"totalLiquidityUSD"`` for ``/protocol/{slug}`` series.
    """
    if not isinstance(payload, list):
        return _whole("not_a_list", payload)
    out = _Collector()
    points: dict[int, float] = {}
    for index, entry in enumerate(payload):
        if not isinstance(entry, dict):
            out.reject(index, "not_an_object")
            continue
        date = _number(entry.get("date"))
        if date is None or date < 0:
            out.reject(index, "bad_date", repr(entry.get("date")))
            continue
        when = int(date)
        if when in points:
            out.reject(index, "duplicate_time", str(when))
            continue
        value = _number(entry.get(value_key))
        if value is None or value < 0:
            reason = "tvl_not_a_number" if value is None else "tvl_negative"
            out.reject(index, reason, f"{subject}@{when}: {entry.get(value_key)!r}")
            continue
        points[when] = value
    series = sorted(points.items())
    for when, value in series:
        out.observations.append(MacroObservation(scope, subject, "tvl", when * 1000, value))
    if series:
        latest_ms = series[-1][0] * 1000
        for days, metric in ((1, "tvl_change_1d"), (7, "tvl_change_7d")):
            change = _change_at(series, days)
            if change is not None:
                out.observations.append(MacroObservation(scope, subject, metric, latest_ms, change))
    return out.result()


def parse_protocols(payload: Any, *, now_ms: int) -> Parsed:
    """``/protocols`` → per protocol (subject = slug): ``tvl`` (USD), ``tvl_change_1d`` and
    ``tvl_change_7d`` (fractions; DefiLlama sends percent). At ``now_ms`` floored to the minute.
    A protocol whose TVL is missing, NaN or negative is rejected whole."""
    if not isinstance(payload, list):
        return _whole("not_a_list", payload)
    at = _minute(now_ms)
    out = _Collector()
    seen: set[str] = set()
    for index, entry in enumerate(payload):
        if not isinstance(entry, dict) or not (slug := _slug(entry)):
            out.reject(index, "missing_name")
            continue
        if slug in seen:
            out.reject(index, "duplicate_subject", slug)
            continue
        seen.add(slug)
        if out.amount(index, "protocol", slug, "tvl", at, entry.get("tvl")) is None:
            continue
        out.percent_change(index, "protocol", slug, "tvl_change_1d", at, entry.get("change_1d"))
        out.percent_change(index, "protocol", slug, "tvl_change_7d", at, entry.get("change_7d"))
    return out.result()


# DefiLlama's chain-TVL keys that are extras, not part of the headline TVL.
_EXTRA_TVL_KEYS = frozenset({"borrowed", "staking", "pool2", "vesting", "doublecounted"})


def parse_protocol(payload: Any, *, slug: str, now_ms: int) -> Parsed:
    """``/protocol/{slug}`` → the protocol's TVL: its ``tvl`` series with flows when the payload
    has one (see :func:`parse_tvl_history`), else the sum of ``currentChainTvls`` without the
    extras (``borrowed``, ``staking``, ``Ethereum-staking``, ...) at ``now_ms`` floored."""
    if not isinstance(payload, dict):
        return _whole("not_an_object", payload)
    if isinstance(payload.get("tvl"), list):
        return parse_tvl_history(
            payload["tvl"], scope="protocol", subject=slug, value_key="totalLiquidityUSD"
        )
    current = payload.get("currentChainTvls")
    if not isinstance(current, dict):
        return _whole("no_tvl", payload)
    out = _Collector()
    total, kept = 0.0, 0
    for index, (chain, raw) in enumerate(current.items()):
        if "-" in chain or chain.lower() in _EXTRA_TVL_KEYS:
            continue
        value = _number(raw)
        if value is None or value < 0:
            out.reject(index, "tvl_not_a_number" if value is None else "tvl_negative", chain)
            continue
        total, kept = total + value, kept + 1
    if kept:
        out.observations.append(MacroObservation("protocol", slug, "tvl", _minute(now_ms), total))
    return out.result()


# -- volumes, fees, stablecoins ----------------------------------------------------------------


def _overview(
    payload: Any, now_ms: int, metrics: Iterable[tuple[str, str]], change_metric: str
) -> Parsed:
    """Shared reader of ``/overview/dexs`` and ``/overview/fees``.

    ``metrics`` maps payload keys to metric names (``total24h`` → ``dex_volume_24h``). Global
    values are the payload's top-level totals when present, else the sum over protocols kept.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("protocols", []), list):
        return _whole("not_an_overview", payload)
    metrics = list(metrics)
    at = _minute(now_ms)
    out = _Collector()
    sums: dict[str, float] = {}
    seen: set[str] = set()
    for index, entry in enumerate(payload.get("protocols") or []):
        if not isinstance(entry, dict) or not (slug := _slug(entry)):
            out.reject(index, "missing_name")
            continue
        if slug in seen:
            out.reject(index, "duplicate_subject", slug)
            continue
        seen.add(slug)
        for key, metric in metrics:
            # A protocol may not report every metric (revenue especially): absent is not bad.
            if entry.get(key) is None:
                continue
            value = out.amount(index, "protocol", slug, metric, at, entry[key])
            if value is not None:
                sums[metric] = sums.get(metric, 0.0) + value
        out.percent_change(index, "protocol", slug, change_metric, at, entry.get("change_1d"))
    for key, metric in metrics:
        top = payload.get(key)
        if top is not None:
            out.amount(WHOLE_PAYLOAD, "global", "all", metric, at, top)
        elif metric in sums:
            out.observations.append(MacroObservation("global", "all", metric, at, sums[metric]))
    out.percent_change(WHOLE_PAYLOAD, "global", "all", change_metric, at, payload.get("change_1d"))
    return out.result()


def parse_dex_overview(payload: Any, *, now_ms: int) -> Parsed:
    """``/overview/dexs`` → ``dex_volume_24h``, ``dex_volume_7d`` (USD) and
    ``dex_volume_change_1d`` (fraction) per protocol and for ``global``/``all``."""
    return _overview(
        payload,
        now_ms,
        (("total24h", "dex_volume_24h"), ("total7d", "dex_volume_7d")),
        "dex_volume_change_1d",
    )


def parse_fees_overview(payload: Any, *, now_ms: int) -> Parsed:
    """``/overview/fees`` → ``fees_24h`` and, when present, ``revenue_24h`` (USD), and
    ``fees_change_1d`` (fraction), per protocol and for ``global``/``all``."""
    return _overview(
        payload,
        now_ms,
        (("total24h", "fees_24h"), ("revenue24h", "revenue_24h")),
        "fees_change_1d",
    )


def parse_open_interest(payload: Any, *, now_ms: int) -> Parsed:
    """``/overview/open-interest`` → ``open_interest`` (USD, its ``total24h``) and
    ``open_interest_change_1d`` (fraction) per perp DEX and for ``global``/``all``."""
    return _overview(payload, now_ms, (("total24h", "open_interest"),), "open_interest_change_1d")


def parse_stablecoins(payload: Any, *, now_ms: int) -> Parsed:
    """``/stablecoins`` → ``stablecoin``/<symbol>/``supply`` (circulating, USD) per USD-pegged
    stablecoin, plus ``stablecoin``/``all``/``supply``, their sum.

    Coins pegged to another currency are left out on purpose (their supply is not in USD); a
    repeated symbol keeps the first coin as its own row but still counts in the total.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("peggedAssets"), list):
        return _whole("not_a_stablecoin_list", payload)
    at = _minute(now_ms)
    out = _Collector()
    total, kept = 0.0, 0
    seen: set[str] = set()
    for index, entry in enumerate(payload["peggedAssets"]):
        if not isinstance(entry, dict) or not (symbol := _name(entry, "symbol", "name")):
            out.reject(index, "missing_symbol")
            continue
        peg = entry.get("pegType", "peggedUSD")
        if peg != "peggedUSD":
            continue
        circulating = entry.get("circulating")
        raw = circulating.get("peggedUSD") if isinstance(circulating, dict) else None
        value = _number(raw)
        if value is None or value < 0:
            reason = "supply_not_a_number" if value is None else "supply_negative"
            out.reject(index, reason, f"{symbol}: {raw!r}")
            continue
        total, kept = total + value, kept + 1
        if symbol in seen:
            out.reject(index, "duplicate_subject", symbol)
            continue
        seen.add(symbol)
        out.observations.append(MacroObservation("stablecoin", symbol, "supply", at, value))
    if kept:
        out.observations.append(MacroObservation("stablecoin", "all", "supply", at, total))
    return out.result()


# -- client ------------------------------------------------------------------------------------


class DefiLlamaSource:
    """Read-only DefiLlama client (free API, no key). Each method returns
    ``(observations, rejections)``; it raises ``TemporaryError`` when the API cannot be reached
    or keeps failing and ``InvalidInputError`` for an unknown chain or protocol (404/400)."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        stablecoins_url: str = DEFAULT_STABLECOINS_URL,
        open_interest_path: str = DEFAULT_OPEN_INTEREST_PATH,
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
        self._api = JsonHttpClient(base_url, **common)
        self._stables = JsonHttpClient(stablecoins_url, **common)
        # A setting, not a constant: DefiLlama has moved and renamed its perps endpoints before.
        self._open_interest_path = open_interest_path

    def close(self) -> None:
        """Release pooled connections."""
        self._api.close()
        self._stables.close()

    def __enter__(self) -> DefiLlamaSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def chains(self) -> Parsed:
        """Current TVL per chain and in total (GET ``/v2/chains``)."""
        return parse_chains(self._api.get_json("/v2/chains"), now_ms=self._clock.now_ms())

    def chain_history(self, chain: str) -> Parsed:
        """TVL series and 1d/7d flows of one chain (GET ``/v2/historicalChainTvl/{chain}``)."""
        if not chain.strip():
            raise InvalidInputError(f"{SOURCE}: a chain name is required")
        payload = self._api.get_json(
            f"/v2/historicalChainTvl/{quote(chain.strip(), safe='')}", what=f"chain {chain!r}"
        )
        return parse_tvl_history(payload, scope="chain", subject=chain.strip())

    def global_history(self) -> Parsed:
        """TVL series and flows of all chains together (GET ``/v2/historicalChainTvl``)."""
        payload = self._api.get_json("/v2/historicalChainTvl")
        return parse_tvl_history(payload, scope="global", subject="all")

    def protocols(self) -> Parsed:
        """TVL and 1d/7d TVL change of every protocol (GET ``/protocols``)."""
        return parse_protocols(self._api.get_json("/protocols"), now_ms=self._clock.now_ms())

    def protocol(self, slug: str) -> Parsed:
        """TVL (series when given) of one protocol (GET ``/protocol/{slug}``)."""
        if not slug.strip():
            raise InvalidInputError(f"{SOURCE}: a protocol slug is required")
        payload = self._api.get_json(
            f"/protocol/{quote(slug.strip(), safe='')}", what=f"protocol {slug!r}"
        )
        return parse_protocol(payload, slug=slug.strip(), now_ms=self._clock.now_ms())

    def dex_overview(self) -> Parsed:
        """DEX volumes, total and per protocol (GET ``/overview/dexs``, charts excluded)."""
        payload = self._api.get_json("/overview/dexs", _NO_CHARTS)
        return parse_dex_overview(payload, now_ms=self._clock.now_ms())

    def fees_overview(self) -> Parsed:
        """Fees (and revenue when reported), total and per protocol (GET ``/overview/fees``)."""
        payload = self._api.get_json("/overview/fees", _NO_CHARTS)
        return parse_fees_overview(payload, now_ms=self._clock.now_ms())

    def open_interest(self) -> Parsed:
        """Open interest of the perp DEXs, total and per protocol (GET
        ``/overview/open-interest`` or the configured path, charts excluded)."""
        payload = self._api.get_json(
            self._open_interest_path, _NO_CHARTS, what="open interest overview"
        )
        return parse_open_interest(payload, now_ms=self._clock.now_ms())

    def stablecoins(self) -> Parsed:
        """Circulating USD supply per stablecoin and in total (GET stablecoins ``/stablecoins``)."""
        payload = self._stables.get_json("/stablecoins", {"includePrices": False})
        return parse_stablecoins(payload, now_ms=self._clock.now_ms())


# The charts can be megabytes; the overview totals are all we read.
_NO_CHARTS = {"excludeTotalDataChart": True, "excludeTotalDataChartBreakdown": True}
