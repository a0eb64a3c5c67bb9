"""Hyperliquid's 1m candles over its WebSocket, through ccxt.pro — the one asyncio module.

:class:`CandleStream` runs an event loop in a background thread: one ``ccxt.pro.hyperliquid``
per connection, one ``watch_ohlcv`` per symbol on it (ccxt sends Hyperliquid's
``{"method": "subscribe", "subscription": {"type": "candle", "coin": ..., "interval": "1m"}}``
and parses its ``channel: "candle"`` pushes). Everything else is sync: the caller drains what
arrived with :meth:`CandleStream.drain` and stores it (``market/stream_job.py``).

What can go wrong, and what happens:

- a push ccxt cannot parse (not JSON, no ``data``, no coin, interval or open time): dropped
  before ccxt sees it and counted as *malformed* — ccxt would otherwise raise inside its receive
  loop, which then stops reading for good, or file the row under a ``None`` open time;
- a push whose values are bad (a price that is not a number, high below low, off the minute
  grid): validated here exactly as REST rows are (``validate_candle_rows``) and counted as a
  rejection with its reason; the rest of the stream goes on;
- the connection drops, the handshake is refused, markets cannot be loaded, or anything else
  fails a connection: logged, and the stream reconnects after :class:`ReconnectBackoff`'s delay
  (exponential, capped, jittered); the delay resets once a connection has gone live.

A connection goes live when Hyperliquid acknowledges a subscription (or a candle arrives): that
bumps :attr:`StreamBatch.connections`, and the caller backfills the gap over REST then, since
pushes only carry the bar that is trading now.

Importing this module imports ccxt (slow); nothing imports it at CLI start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import ccxt.pro

from autotrader.market.models import Candle, Rejection
from autotrader.market.validation import validate_candle_rows

log = logging.getLogger("autotrader.market.stream")

TIMEFRAME = "1m"
_CLOSE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ReconnectBackoff:
    """Seconds to wait before reconnect attempt ``k`` (0-based): ``base × 2**k``, at most
    ``cap``, spread by ± ``jitter`` (a fraction) so many streams do not reconnect in lockstep."""

    base: float
    cap: float
    jitter: float = 0.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        plain = min(self.base * 2 ** min(attempt, 64), self.cap)
        return max(0.0, plain * (1 + rng.uniform(-self.jitter, self.jitter)))


@dataclass
class StreamBatch:
    """What arrived since the previous drain.

    ``candles``: per symbol, the newest push of each bar (open time ascending); ``rejections``:
    per symbol, its pushes that were refused and why; ``malformed``: pushes too broken to name a
    bar; ``connections``: connections that went live (each one opens a gap to backfill);
    ``delays``: the reconnect waits taken; ``connected``: whether a connection is live now;
    ``error``: the newest connection failure, if any.
    """

    candles: dict[str, list[Candle]] = field(default_factory=dict)
    rejections: dict[str, list[Rejection]] = field(default_factory=dict)
    malformed: int = 0
    connections: int = 0
    delays: list[float] = field(default_factory=list)
    connected: bool = False
    error: str | None = None


class _Inbox:
    """The thread-safe hand-over between the event loop (writer) and the caller (reader)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bars: dict[str, dict[int, Candle]] = {}
        self._batch = StreamBatch()
        self.ever_connected = False

    def add(self, symbol: str, rows: list[list[Any]]) -> None:
        with self._lock:
            for row in rows:
                candles, refused = validate_candle_rows([row], symbol=symbol, timeframe=TIMEFRAME)
                for candle in candles:
                    self._bars.setdefault(symbol, {})[candle.open_time] = candle
                self._batch.rejections.setdefault(symbol, []).extend(refused)

    def malformed(self) -> None:
        with self._lock:
            self._batch.malformed += 1

    def connection(self, up: bool, error: str | None = None) -> None:
        with self._lock:
            if up and not self._batch.connected:
                self._batch.connections += 1
                self.ever_connected = True
            self._batch.connected = up
            if error is not None:
                self._batch.error = error

    def waited(self, seconds: float) -> None:
        with self._lock:
            self._batch.delays.append(seconds)

    def drain(self) -> StreamBatch:
        with self._lock:
            batch = self._batch
            batch.candles = {s: [bars[t] for t in sorted(bars)] for s, bars in self._bars.items()}
            self._bars = {}
            # While down, the next batch still says why: a tick reports the newest failure.
            error = None if batch.connected else batch.error
            self._batch = StreamBatch(connected=batch.connected, error=error)
            return batch


class _GuardedHyperliquid(ccxt.pro.hyperliquid):
    """``ccxt.pro.hyperliquid`` with a checkpoint in front of its message handler: a candle push
    that does not name its coin, interval and open time is counted and dropped (see the module
    docstring), nothing a push makes the handler raise can stop ccxt's receive loop, and the
    acknowledgement of a subscription tells the stream its connection is live."""

    def __init__(
        self,
        config: dict[str, Any],
        *,
        on_malformed: Callable[[], None],
        on_live: Callable[[], None],
    ) -> None:
        super().__init__(config)
        self._on_malformed = on_malformed
        self._on_live = on_live

    def handle_message(self, client: Any, message: Any) -> Any:
        if not isinstance(message, dict) or (
            message.get("channel") == "candle" and not _names_a_bar(message.get("data"))
        ):
            self._on_malformed()
            return None
        if message.get("channel") == "subscriptionResponse":
            self._on_live()
        try:
            return super().handle_message(client, message)
        except Exception:
            self._on_malformed()
            log.warning("stream: a push ccxt could not handle was dropped", exc_info=True)
            return None


def _names_a_bar(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("s"), str)
        and data.get("i") == TIMEFRAME
        and isinstance(data.get("t"), int)
        and not isinstance(data.get("t"), bool)
    )


class CandleStream:
    """1m candles of ``symbols`` (our symbol → ccxt symbol, e.g. ``{"BTC": "BTC/USDC:USDC"}``)
    pushed by Hyperliquid at ``ws_url``; markets are loaded once from ``rest_url``.

    :meth:`start` connects in a background thread and returns at once; :meth:`drain` hands
    over what arrived (any thread); :meth:`close` stops it and closes the ccxt client.
    ``rng`` draws the reconnect jitter (tests pass a seeded one).
    """

    def __init__(
        self,
        symbols: Mapping[str, str],
        *,
        ws_url: str,
        rest_url: str,
        backoff: ReconnectBackoff,
        timeout_ms: int = 10_000,
        rng: random.Random | None = None,
    ) -> None:
        self._symbols = dict(symbols)
        self._urls = {"public": rest_url, "private": rest_url, "ws": {"public": ws_url}}
        self._backoff = backoff
        self._timeout_ms = timeout_ms
        self._rng = rng or random.Random()
        self._inbox = _Inbox()
        self._markets: dict[str, Any] | None = None  # loaded by the first connection, reused
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._live_now = False  # the current connection is subscribed or delivering

    @property
    def ever_connected(self) -> bool:
        """Whether any connection went live (subscribed) since :meth:`start`."""
        return self._inbox.ever_connected

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the stream is already started")
        self._thread = threading.Thread(target=self._run, name="candle-stream", daemon=True)
        self._thread.start()
        self._ready.wait(_CLOSE_TIMEOUT_S)

    def drain(self) -> StreamBatch:
        return self._inbox.drain()

    def close(self) -> None:
        """Stop reconnecting, close the connection and ccxt's HTTP session, join the thread."""
        if self._loop is not None and self._task is not None:
            # A loop that has already finished refuses the call: there is nothing left to stop.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread is not None:
            self._thread.join(_CLOSE_TIMEOUT_S)

    # -- the event loop (its own thread) ---------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._task = loop.create_task(self._reconnecting())
            self._ready.set()
            loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _reconnecting(self) -> None:
        attempt = 0
        while True:
            exchange = self._exchange()
            try:
                await self._session(exchange)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # A drop, a refused handshake, markets that would not load, a ccxt error: each
                # ends this connection only; the stream's job is to come back.
                if self._live_now:
                    attempt = 0  # that connection worked: start the back-off over
                self._inbox.connection(False, _brief(exc))
                log.warning("stream: connection lost (%s); reconnecting", _brief(exc))
            finally:
                await _close(exchange)
            delay = self._backoff.delay(attempt, self._rng)
            attempt += 1
            self._inbox.waited(delay)
            await asyncio.sleep(delay)

    def _exchange(self) -> ccxt.pro.hyperliquid:
        exchange = _GuardedHyperliquid(
            {"urls": {"api": self._urls}, "timeout": self._timeout_ms},
            on_malformed=self._inbox.malformed,
            on_live=self._live,
        )
        if self._markets is not None:
            exchange.set_markets(self._markets)
        return exchange

    async def _session(self, exchange: ccxt.pro.hyperliquid) -> None:
        """One connection: subscribe every symbol and hand pushes over until one watch fails."""
        self._live_now = False
        if self._markets is None:
            await exchange.load_markets()
            self._markets = exchange.markets
        watches = [asyncio.ensure_future(self._watch(exchange, s)) for s in self._symbols]
        try:
            done, _ = await asyncio.wait(watches, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()  # raises the failure that ended the connection
        finally:
            for task in watches:
                task.cancel()
            await asyncio.gather(*watches, return_exceptions=True)

    async def _watch(self, exchange: ccxt.pro.hyperliquid, symbol: str) -> None:
        market_symbol = self._symbols[symbol]
        while True:
            rows = await exchange.watch_ohlcv(market_symbol, TIMEFRAME)
            self._live()
            self._inbox.add(symbol, rows)

    def _live(self) -> None:
        """The current connection is subscribed (or delivering): count it once."""
        if not self._live_now:
            self._live_now = True
            self._inbox.connection(True)


async def _close(exchange: ccxt.pro.hyperliquid) -> None:
    """Close a connection's client (socket and HTTP session); a failure to close is logged, so
    it can never end the reconnect loop."""
    try:
        await exchange.close()
    except Exception as exc:
        log.warning("stream: closing a connection failed: %s", _brief(exc))


def _brief(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
