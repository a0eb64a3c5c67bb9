"""Hyperliquid through ccxt: markets, asset registry rows, candles and funding, and an account's
ledger updates (the treasury's incoming transfers, for the lifecycle's payment verifier).

Every call goes through one sync ``ccxt.hyperliquid`` instance with ccxt's rate limiter on. ccxt
sends each public call as ``POST {base_url}/info`` (it appends ``/info`` itself), so
``base_url`` is the bare origin, e.g. ``https://api.hyperliquid.xyz`` or a loopback fake.

Errors are translated here, at the adapter edge, by :meth:`HyperliquidSource._call`:

- ccxt ``NetworkError`` family (timeouts, 5xx, 429, DDoS protection) → retried with exponential
  backoff, then :class:`TemporaryError`;
- ccxt ``BadSymbol`` → :class:`InvalidInputError`;
- any other ccxt error → :class:`TemporaryError` (see the comment in ``_call`` for why).

Importing this module imports ccxt (slow); nothing imports it at CLI start-up.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any, TypeVar

import ccxt
from ccxt.base.decimal_to_precision import DECIMAL_PLACES, TICK_SIZE

from autotrader.core.clock import MINUTE_MS, Clock, SystemClock
from autotrader.core.errors import InvalidInputError, TemporaryError
from autotrader.market.models import TIMEFRAME_MS, AssetInfo, Candle, FundingRate, Rejection
from autotrader.market.validation import validate_candle_rows

DEFAULT_BASE_URL = "https://api.hyperliquid.xyz"
MAX_CANDLES_PER_REQUEST = 5000  # Hyperliquid serves at most this many bars per candleSnapshot
SNAPSHOT_RESOURCE = "hyperliquid_markets.json"
_MAX_BACKOFF_S = 30.0

_T = TypeVar("_T")


def packaged_markets_snapshot() -> dict[str, Any]:
    """The ccxt markets shipped with the package (BTC, ETH, SOL, ADA, MEME perps, PURR/USDC).

    Loaded with ``exchange.set_markets`` it lets precision helpers work with no network.
    """
    resource = resources.files("autotrader").joinpath("data", SNAPSHOT_RESOURCE)
    return json.loads(resource.read_text(encoding="utf-8"))


def asset_infos_from_markets(
    markets: Mapping[str, Mapping[str, Any]], *, precision_mode: int = TICK_SIZE
) -> list[AssetInfo]:
    """One :class:`AssetInfo` per perp or spot market in a ccxt markets dict, sorted by symbol.

    Perps (``BTC/USDC:USDC``) become ``"BTC"`` with channels ohlcv + funding; spot markets keep
    their pair symbol (``"PURR/USDC"``) and only the ohlcv channel, since spot has no funding.
    ``precision_mode`` is the exchange's ``precisionMode``: under ccxt's TICK_SIZE mode the
    precision values already are the step sizes. Other market types are skipped.
    """
    infos = [info for m in markets.values() if (info := _asset_info(m, precision_mode))]
    return sorted(infos, key=lambda info: info.symbol)


class HyperliquidSource:
    """Hyperliquid public market data (no credentials: this never signs or trades).

    Collaborators are passed in: ``sleep`` is used only for retry backoff (tests pass a
    recorder), ``clock`` stamps funding observations. ``max_retries`` is the number of retries
    after the first attempt. ``window_bars`` (≤ 5,000) is the candle count requested per call.
    ``rate_limit_ms`` overrides ccxt's per-request spacing (it waits ``rateLimit × cost``,
    i.e. 500 ms per ``/info`` call by default); tests against a loopback fake lower it.
    """

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout_ms: int = 10_000,
        max_retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        clock: Clock | None = None,
        markets_snapshot: dict[str, Any] | None = None,
        backoff_s: float = 0.5,
        window_bars: int = MAX_CANDLES_PER_REQUEST,
        rate_limit_ms: int | None = None,
    ) -> None:
        if not 1 <= window_bars <= MAX_CANDLES_PER_REQUEST:
            raise ValueError(f"window_bars must be 1..{MAX_CANDLES_PER_REQUEST}, got {window_bars}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        config: dict[str, Any] = {
            "enableRateLimit": True,
            "timeout": int(timeout_ms),
            "urls": {"api": {"public": base_url, "private": base_url}},
        }
        if rate_limit_ms is not None:
            config["rateLimit"] = rate_limit_ms
        self._exchange = ccxt.hyperliquid(config)
        self._max_retries = max_retries
        self._sleep = sleep
        self._clock: Clock = clock or SystemClock()
        self._snapshot = markets_snapshot
        self._backoff_s = backoff_s
        self._window_bars = window_bars
        self._symbols: dict[str, str] | None = None  # our symbol → ccxt symbol

    @property
    def exchange(self) -> ccxt.hyperliquid:
        """The underlying ccxt exchange (for precision helpers such as ``amount_to_precision``)."""
        return self._exchange

    # -- markets and assets -------------------------------------------------------------------

    def markets(self, refresh: bool = False) -> dict[str, Any]:
        """ccxt's markets dict keyed by ccxt symbol.

        Without ``refresh``, markets already loaded are reused and, when none are, the offline
        snapshot (``markets_snapshot`` or the packaged one) is installed: no network. With
        ``refresh`` they are reloaded over HTTP. Raises ``TemporaryError`` when that fails.
        """
        if refresh:
            self._call("load_markets", lambda: self._exchange.load_markets(reload=True))
            self._symbols = None
        elif not self._exchange.markets:
            snapshot = self._snapshot if self._snapshot is not None else packaged_markets_snapshot()
            self._exchange.set_markets(snapshot)
            self._symbols = None
        return self._exchange.markets

    def assets(self, refresh: bool = False) -> list[AssetInfo]:
        """The registry view of :meth:`markets` (see :func:`asset_infos_from_markets`)."""
        markets = self.markets(refresh)
        return asset_infos_from_markets(markets, precision_mode=self._exchange.precisionMode)

    def ccxt_symbol(self, symbol: str) -> str:
        """``"BTC"`` → ``"BTC/USDC:USDC"``, ``"PURR/USDC"`` → ``"PURR/USDC"``.

        Raises ``InvalidInputError`` for a symbol the loaded markets do not know.
        """
        if self._symbols is None:
            self._symbols = {
                a.symbol: a.ccxt_symbol for a in asset_infos_from_markets(self.markets())
            }
        try:
            return self._symbols[symbol]
        except KeyError:
            raise InvalidInputError(f"unknown Hyperliquid symbol {symbol!r}") from None

    # -- candles --------------------------------------------------------------------------------

    def fetch_candles(
        self, symbol: str, *, since_ms: int, until_ms: int, timeframe: str = "1m"
    ) -> tuple[list[Candle], list[Rejection]]:
        """Candles of ``symbol`` whose open time (epoch ms) is in ``[since_ms, until_ms]``.

        Requests windows of at most ``window_bars`` bars, each starting one bar after the last
        open time received, so a server that caps its answer is still read completely. Rows are
        deduplicated by open time and validated: malformed rows come back as rejections (their
        ``index`` is the position in the merged, time-ordered batch), never as an exception.
        Raises ``InvalidInputError`` (unknown symbol or timeframe, empty range) or
        ``TemporaryError`` (network or exchange failure after retries).
        """
        if timeframe not in TIMEFRAME_MS:
            raise InvalidInputError(f"unsupported timeframe {timeframe!r} (use 1m, 5m or 1h)")
        if since_ms > until_ms:
            raise InvalidInputError(f"candle range starts after it ends ({since_ms} > {until_ms})")
        market_symbol = self.ccxt_symbol(symbol)
        step = TIMEFRAME_MS[timeframe]
        merged: dict[int, list[Any]] = {}
        conflicts: list[list[Any]] = []
        start = since_ms
        while start <= until_ms:
            end = min(until_ms, start + self._window_bars * step - 1)
            rows = self._fetch_window(symbol, market_symbol, timeframe, start, end)
            newest = _merge_rows(merged, rows, since_ms, until_ms, conflicts)
            # Advance past what arrived; a window with nothing new (data older than the API's
            # 5,000-bar horizon, or a listing gap) is skipped whole rather than ending the read.
            start = newest + step if newest is not None and newest >= start else end + 1
        ordered = [merged[t] for t in sorted(merged)]
        candles, rejections = validate_candle_rows(ordered, symbol=symbol, timeframe=timeframe)
        rejections += [
            Rejection(len(ordered) + i, "duplicate_time", f"{row[0]} sent twice with other values")
            for i, row in enumerate(conflicts)
        ]
        return candles, rejections

    def _fetch_window(
        self, symbol: str, market_symbol: str, timeframe: str, start: int, end: int
    ) -> list[list[Any]]:
        def request() -> list[list[Any]]:
            return self._exchange.fetch_ohlcv(
                market_symbol,
                timeframe,
                since=start,
                limit=self._window_bars,
                params={"until": end},
            )

        return self._call(f"fetch_candles {symbol} {timeframe}", request)

    # -- funding --------------------------------------------------------------------------------

    def fetch_funding(self, symbols: Iterable[str]) -> list[FundingRate]:
        """The current hourly funding rate of each perp in ``symbols`` and Hyperliquid's predicted
        rate for the next funding (two ``/info`` calls: ``metaAndAssetCtxs`` through ccxt, then
        ``predictedFundings``, which ccxt does not read).

        ``time`` is the observation time from the clock, floored to the minute; mark price,
        oracle price and open interest (base units) are filled when the exchange reports them;
        ``predicted_rate`` is ``None`` for a perp the prediction does not cover. Perps the
        exchange did not report are left out. Raises ``InvalidInputError`` for an unknown or spot
        symbol (spot has no funding) before any request, ``TemporaryError`` when a request fails.
        """
        wanted = {symbol: self._perp_symbol(symbol) for symbol in dict.fromkeys(symbols)}
        if not wanted:
            return []
        market_symbols = list(wanted.values())
        rates = self._call(
            "fetch_funding", lambda: self._exchange.fetch_funding_rates(market_symbols)
        )
        predicted = self.fetch_predicted_funding()
        observed = self._clock.now_ms() // MINUTE_MS * MINUTE_MS
        result = []
        for symbol, market_symbol in wanted.items():
            entry = rates.get(market_symbol) or {}
            rate = _float(entry.get("fundingRate"))
            if rate is None:
                continue
            info = entry.get("info") or {}
            result.append(
                FundingRate(
                    symbol=symbol,
                    time=observed,
                    rate=rate,
                    predicted_rate=predicted.get(symbol),
                    mark_price=_float(entry.get("markPrice")),
                    oracle_price=_float(entry.get("indexPrice")),
                    open_interest=_float(info.get("openInterest")),
                )
            )
        return result

    def fetch_predicted_funding(self) -> dict[str, float]:
        """Hyperliquid's own predicted hourly rate per perp coin (``predictedFundings``).

        The answer lists, per coin, the next funding on several venues (``BinPerp``,
        ``BybitPerp``, ``HlPerp``); only ``HlPerp`` is what a position here will pay. A rate
        quoted over an interval of several hours is divided down to hourly, as stored rates
        are. Entries that are malformed or null (a venue that does not list the coin) are
        skipped. Raises ``TemporaryError`` when the request fails or the answer is not a list.
        """
        answer = self._call(
            "fetch_predicted_funding",
            lambda: self._exchange.publicPostInfo({"type": "predictedFundings"}),
        )
        if not isinstance(answer, list):
            raise TemporaryError(
                "Hyperliquid fetch_predicted_funding: expected a list of coins, "
                f"got {type(answer).__name__}"
            )
        return {coin: rate for coin, rate in map(_hyperliquid_prediction, answer) if coin}

    def _perp_symbol(self, symbol: str) -> str:
        market_symbol = self.ccxt_symbol(symbol)
        if not self.markets()[market_symbol].get("swap"):
            raise InvalidInputError(f"Hyperliquid spot market {symbol!r} has no funding")
        return market_symbol

    # -- an account's transfers --------------------------------------------------------------------

    def ledger_updates(self, user: str, *, since_ms: int, until_ms: int) -> list[Any]:
        """The raw ``userNonFundingLedgerUpdates`` rows of ``user`` (an address) between
        ``since_ms`` and ``until_ms`` (epoch ms, inclusive): deposits, withdrawals and transfers,
        amounts still the exchange's decimal strings.

        ccxt's ``fetch_ledger`` asks the same endpoint but parses amounts into floats and keeps
        only one side of a transfer, so the raw rows come through its ``publicPostInfo``: the
        same client, rate limiter and error translation as every other call here. Raises
        ``TemporaryError`` when the request fails or the answer is not a list.
        """
        body = {
            "type": "userNonFundingLedgerUpdates",
            "user": user,
            "startTime": int(since_ms),
            "endTime": int(until_ms),
        }
        rows = self._call("ledger_updates", lambda: self._exchange.publicPostInfo(body))
        if not isinstance(rows, list):
            raise TemporaryError(
                f"Hyperliquid ledger_updates: expected a list of updates, got {type(rows).__name__}"
            )
        return rows

    # -- error translation ------------------------------------------------------------------------

    def _call(self, operation: str, request: Callable[[], _T]) -> _T:
        """Run one ccxt request, retrying network failures, and translate ccxt's errors.

        Backoff before retry k (0-based) is ``backoff_s × 2**k`` seconds, capped at 30 s.
        """
        attempts = self._max_retries + 1
        for attempt in range(attempts):
            try:
                return request()
            except ccxt.BadSymbol as exc:
                raise InvalidInputError(f"Hyperliquid {operation}: {brief_error(exc)}") from exc
            except ccxt.NetworkError as exc:
                # Timeouts, 5xx, 429 and DDoS protection: the next attempt may well succeed.
                if attempt + 1 >= attempts:
                    raise TemporaryError(
                        f"Hyperliquid {operation} failed after {attempts} attempt(s): "
                        f"{brief_error(exc)}"
                    ) from exc
                self._sleep(min(self._backoff_s * 2**attempt, _MAX_BACKOFF_S))
            except ccxt.BaseError as exc:
                # An exchange-side refusal of a public read (odd payload, maintenance, a 422 on
                # a changed API) is not the user's fault (symbols are checked before we ask) and
                # must not stop a worker that ingests every other asset (OperationalError would):
                # a later tick may succeed, so it is temporary. It is not retried here because
                # repeating the identical request at once rarely changes the answer.
                raise TemporaryError(f"Hyperliquid {operation} failed: {brief_error(exc)}") from exc
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


# -- pure helpers ---------------------------------------------------------------------------------


def _hyperliquid_prediction(entry: Any) -> tuple[str | None, float]:
    """``["BTC", [["HlPerp", {"fundingRate": "0.0000125", "fundingIntervalHours": 1}], ...]]``
    → ``("BTC", 1.25e-05)``; ``(None, 0.0)`` when the entry carries no usable HlPerp rate."""
    if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
        return None, 0.0
    coin, venues = entry
    for venue in venues if isinstance(venues, list) else ():
        if not (isinstance(venue, list) and len(venue) == 2 and venue[0] == "HlPerp"):
            continue
        point = venue[1] if isinstance(venue[1], dict) else {}
        rate = _float(point.get("fundingRate"))
        hours = _float(point.get("fundingIntervalHours")) or 1.0
        if rate is not None and math.isfinite(rate) and hours > 0:
            return coin, rate / hours
    return None, 0.0


def _asset_info(market: Mapping[str, Any], precision_mode: int) -> AssetInfo | None:
    if market.get("swap"):
        kind, symbol, channels = "perp", str(market["base"]), ("ohlcv", "funding")
    elif market.get("spot"):
        kind, symbol, channels = "spot", str(market["symbol"]), ("ohlcv",)
    else:
        return None
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}
    info = market.get("info") or {}
    leverage = (limits.get("leverage") or {}).get("max") or info.get("maxLeverage")
    return AssetInfo(
        symbol=symbol,
        ccxt_symbol=str(market["symbol"]),
        kind=kind,
        base=str(market["base"]),
        quote=str(market["quote"]),
        settle=market.get("settle"),
        amount_step=_step(precision.get("amount"), precision_mode),
        price_tick=_step(precision.get("price"), precision_mode),
        min_notional=_decimal_text((limits.get("cost") or {}).get("min")),
        max_leverage=_int(leverage),
        active=market.get("active") is not False,
        channels=channels,
    )


def _step(value: Any, precision_mode: int) -> str | None:
    """A precision value as a step size in Decimal text, whatever ccxt's precision mode."""
    if value is None:
        return None
    if precision_mode == TICK_SIZE:
        return _decimal_text(value)
    if precision_mode == DECIMAL_PLACES:
        return _decimal_text(Decimal(1).scaleb(-int(value)))
    return None  # significant digits describe no fixed step


def _decimal_text(value: Any) -> str | None:
    """``1e-05`` → ``"0.00001"``, ``10.0`` → ``"10"``; ``None`` or garbage → ``None``."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return format(number.normalize(), "f")


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _merge_rows(
    merged: dict[int, list[Any]],
    rows: list[list[Any]],
    lo: int,
    hi: int,
    conflicts: list[list[Any]],
) -> int | None:
    """Add rows with an open time in ``[lo, hi]`` not seen before; return the newest added time.

    The first row seen for an open time wins: windows overlap at their edges, where the server
    sends the same bar twice. A repeat with *different* values goes to ``conflicts`` (it is
    rejected and counted, not silently dropped).
    """
    newest = None
    for row in rows:
        # ccxt already drops rows whose open time is missing or not a number.
        open_time = row[0] if row else None
        if not isinstance(open_time, int) or not lo <= open_time <= hi:
            continue
        if open_time in merged:
            if merged[open_time] != row:
                conflicts.append(row)
            continue
        merged[open_time] = row
        newest = open_time if newest is None else max(newest, open_time)
    return newest


def brief_error(exc: BaseException) -> str:
    """One line naming the ccxt error, short enough for a log line (public calls carry no key)."""
    text = " ".join(str(exc).split())
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
