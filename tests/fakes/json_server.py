"""A loopback HTTP server answering ``GET`` with canned JSON by path (and query), for tests that
run the real httpx clients of Polymarket and DefiLlama through the CLI.

Routes are ``path`` → payload, optionally narrowed by query parameters; the most specific route
whose parameters all match the request wins. Everything else is a 404, as the real APIs answer
an unknown path. One server can stand in for several hosts (Gamma, CLOB, DefiLlama, stablecoins)
because their paths do not overlap.

Usage::

    with FakeJsonServer() as server:
        server.route("/markets", [market])
        server.route("/events", [event], query={"slug": "x"})
        monkeypatch.setenv("AUTOTRADER_POLYMARKET_GAMMA_URL", server.url)
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes._loopback import Loopback, QuietHandler


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        self.reply(*self.server.fake._answer(parts.path, dict(parse_qsl(parts.query))))


class FakeJsonServer:
    """A JSON ``GET`` server on 127.0.0.1 (a free port), served from a daemon thread.

    ``url`` is the base URL; ``requests`` holds ``(path, query)`` of every request in arrival
    order (failed ones included).
    """

    def __init__(self, routes: dict[str, Any] | None = None) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._routes: list[tuple[str, dict[str, str], int, Any]] = []
        self._failures: list[tuple[int, str | None]] = []
        self._delays: list[float] = []
        self._lock = threading.Lock()
        for path, payload in (routes or {}).items():
            self.route(path, payload)
        self._loopback = Loopback(_Handler, self)

    @property
    def url(self) -> str:
        return self._loopback.url

    # -- seeding and failure injection ------------------------------------------------------

    def route(
        self, path: str, payload: Any, *, query: dict[str, str] | None = None, status: int = 200
    ) -> None:
        """Answer ``GET path`` (with at least these ``query`` values) with ``payload``.

        ``payload`` is JSON-encoded unless it is ``bytes`` (sent as text, e.g. an HTML error).
        A later route for the same path and query replaces the earlier one.
        """
        wanted = dict(query or {})
        with self._lock:
            self._routes = [r for r in self._routes if (r[0], r[1]) != (path, wanted)]
            self._routes.append((path, wanted, status, payload))

    def fail_next(self, n: int, status: int = 500, *, path: str | None = None) -> None:
        """Answer the next ``n`` requests (to ``path`` only, if given) with ``status``."""
        with self._lock:
            self._failures.extend([(status, path)] * n)

    def delay_next(self, n: int, seconds: float) -> None:
        """Sleep ``seconds`` before answering each of the next ``n`` requests."""
        with self._lock:
            self._delays.extend([seconds] * n)

    def paths(self) -> list[str]:
        """The paths requested, in order."""
        return [path for path, _ in self.requests]

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        self._loopback.close()

    def __enter__(self) -> FakeJsonServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- answering ---------------------------------------------------------------------------

    def _answer(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        with self._lock:
            self.requests.append((path, query))
            delay = self._delays.pop(0) if self._delays else 0.0
            failure = self._take_failure(path)
            matches = [r for r in self._routes if r[0] == path and r[1].items() <= query.items()]
        if delay:
            time.sleep(delay)
        if failure is not None:
            return failure, b"injected failure"
        if not matches:
            return 404, {"error": f"no route for {path}"}
        _path, _query, status, payload = max(matches, key=lambda r: len(r[1]))
        return status, payload

    def _take_failure(self, path: str) -> int | None:
        for i, (status, only_path) in enumerate(self._failures):
            if only_path is None or only_path == path:
                del self._failures[i]
                return status
        return None
