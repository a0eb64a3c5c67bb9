"""A loopback fake of Hyperliquid's WebSocket (``/ws``), for tests that run real ccxt.pro.

It speaks the part of the protocol ``ccxt.pro.hyperliquid.watch_ohlcv`` uses: a client sends
``{"method": "subscribe", "subscription": {"type": "candle", "coin": "BTC", "interval": "1m"}}``
and gets ``{"channel": "subscriptionResponse", "data": {...}}``, then ``{"channel": "candle",
"data": {t, T, s, i, o, c, h, l, v, n}}`` pushes (rows in :func:`make_candle_rows`' shape, the
same as the HTTP fake's ``candleSnapshot`` answers); ``{"method": "ping"}`` gets
``{"channel": "pong"}``. The test drives it: it pushes candles (or any payload) to the
subscribers of a coin, drops every connection, and refuses the next handshakes.

Usage::

    with FakeHyperliquidWs() as ws:
        # point ccxt.pro at ws.url, subscribe, then
        ws.wait_for_subscribers("BTC")
        ws.push("BTC", row)
        ws.drop_connections()
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

from aiohttp import WSMsgType, web


class FakeHyperliquidWs:
    """A ``/ws`` endpoint on 127.0.0.1 (a free port), served by aiohttp from a daemon thread.

    ``connected_at`` holds the ``time.monotonic()`` of every accepted connection and
    ``refused_at`` of every refused handshake, so a test can read the client's back-off;
    ``close_codes`` how each connection ended (1000: the client closed it properly).
    """

    def __init__(self) -> None:
        self.connected_at: list[float] = []
        self.refused_at: list[float] = []
        self.subscriptions: list[dict[str, Any]] = []
        self.close_codes: list[int | None] = []  # per ended connection: 1000 = closed cleanly
        self._sockets: dict[web.WebSocketResponse, set[str]] = {}  # socket → coins subscribed
        self._refuse = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("the fake WebSocket server did not start")

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/ws"

    # -- what a test does --------------------------------------------------------------------

    def wait_for_subscribers(self, coin: str, count: int = 1, timeout: float = 10.0) -> None:
        """Block until ``count`` open connections have subscribed to ``coin``'s candles."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if sum(coin in coins for coins in self._sockets.values()) >= count:
                    return
            time.sleep(0.01)
        raise TimeoutError(f"no subscriber for {coin} within {timeout} s")

    def push(self, coin: str, row: dict[str, Any]) -> None:
        """Push one candle row to every subscriber of ``coin``."""
        self.push_raw(coin, {"channel": "candle", "data": row})

    def push_raw(self, coin: str, payload: Any) -> None:
        """Push any payload (a malformed one, say) to every subscriber of ``coin``; text as is,
        anything else as JSON."""
        text = payload if isinstance(payload, str) else json.dumps(payload)
        self._run(self._send(coin, text))

    def drop_connections(self) -> None:
        """Close every open connection from the server side (a network drop)."""
        self._run(self._close_all())

    def refuse_next(self, n: int) -> None:
        """Answer the next ``n`` handshakes with HTTP 503 instead of a WebSocket."""
        with self._lock:
            self._refuse += n

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self._run(self._close_all())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeHyperliquidWs:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the server --------------------------------------------------------------------------

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/ws", self._handle)
        runner = web.AppRunner(app, handle_signals=False)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self._port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._started.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(runner.cleanup())
            self._loop.close()

    def _run(self, coroutine: Any) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            refuse = self._refuse > 0
            self._refuse -= refuse
            (self.refused_at if refuse else self.connected_at).append(time.monotonic())
        if refuse:
            return web.Response(status=503, text="unavailable")
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        with self._lock:
            self._sockets[socket] = set()
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    await self._answer(socket, json.loads(message.data))
        finally:
            with self._lock:
                self._sockets.pop(socket, None)
                self.close_codes.append(socket.close_code)
        return socket

    async def _answer(self, socket: web.WebSocketResponse, message: dict[str, Any]) -> None:
        method = message.get("method")
        if method == "ping":
            await socket.send_str(json.dumps({"channel": "pong"}))
        elif method == "subscribe":
            subscription = message.get("subscription") or {}
            await socket.send_str(json.dumps({"channel": "subscriptionResponse", "data": message}))
            with self._lock:
                self.subscriptions.append(subscription)
                if subscription.get("type") == "candle" and socket in self._sockets:
                    self._sockets[socket].add(str(subscription.get("coin")))

    async def _send(self, coin: str, text: str) -> None:
        with self._lock:
            sockets = [s for s, coins in self._sockets.items() if coin in coins]
        for socket in sockets:
            if not socket.closed:
                await socket.send_str(text)

    async def _close_all(self) -> None:
        with self._lock:
            sockets = list(self._sockets)
            self._sockets.clear()
        for socket in sockets:
            await socket.close()
