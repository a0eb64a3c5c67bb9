"""What stands between the network and the handlers: request size and rate limits, security
headers, and the admin routes' bearer token.

- Every request is refused early (4xx, a one-line JSON error) when its URL is longer than
  ``MAX_URL_BYTES``, its body larger than ``AUTOTRADER_SERVER_MAX_BODY_BYTES`` (declared or
  actually sent), or its client address has used up ``AUTOTRADER_SERVER_RATE_LIMIT`` requests
  this minute.
- Responses carry a strict Content-Security-Policy (scripts and styles from this server only),
  no framing, no sniffing, no referrer.
- Admin routes need ``Authorization: Bearer <AUTOTRADER_SERVER_TOKEN>``, compared in constant
  time; without a token in the settings they are not mounted at all.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import HTTPException, Request

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_URL_BYTES = 4_096
# Pages and the API load nothing from elsewhere. /docs (Swagger UI, vendored) starts itself
# with an inline script, so it alone allows one.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
DOCS_CSP = PAGE_CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)
_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
)


class _Window:
    """Fixed one-minute windows per client address (memory stays bounded: a window's table is
    dropped when the next minute starts)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._minute = 0
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> tuple[bool, int]:
        """Whether ``client`` may make one more request, and seconds until the window ends."""
        now = time.time()
        minute = int(now // 60)
        with self._lock:
            if minute != self._minute:
                self._minute, self._counts = minute, {}
            used = self._counts.get(client, 0) + 1
            self._counts[client] = used
        return used <= self.limit, 60 - int(now % 60)


class Guard:
    """The ASGI middleware applying the limits and headers above."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, rate_limit: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.window = _Window(rate_limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await _error(send, *refusal)
            return
        csp = DOCS_CSP if scope["path"] == "/docs" else PAGE_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [*_HEADERS, (b"content-security-policy", csp.encode())]
                message["headers"] = headers
            await send(message)

        if b"content-length" not in headers and scope["method"] not in ("GET", "HEAD"):
            replay = await _buffered(receive, self.max_body_bytes)
            if replay is None:
                limit = self.max_body_bytes
                await _error(send, 413, f"the request body is larger than {limit} bytes", {})
                return
            receive = replay
        await self.app(scope, receive, send_with_headers)

    def _refusal(
        self, scope: Scope, headers: dict[bytes, bytes]
    ) -> tuple[int, str, dict[str, str]] | None:
        """(status, message, extra headers) of a request refused before the app sees it."""
        url_bytes = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        if url_bytes > MAX_URL_BYTES:
            return 414, f"the URL is longer than {MAX_URL_BYTES} bytes", {}
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                return 400, "Content-Length is not a number", {}
            if int(declared) > self.max_body_bytes:
                return 413, f"the request body is larger than {self.max_body_bytes} bytes", {}
        client = (scope.get("client") or ("unknown", 0))[0]
        allowed, retry_after = self.window.allow(client)
        if not allowed:
            message = f"more than {self.window.limit} requests a minute; slow down"
            return 429, message, {"retry-after": str(retry_after)}
        return None


async def _buffered(receive: Receive, limit: int) -> Receive | None:
    """Read a body sent without Content-Length (chunked) up to ``limit`` bytes, and hand the
    app a ``receive`` that replays it; None when the body is larger (the caller answers 413)."""
    messages, seen = [], 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        seen += len(message.get("body", b""))
        if seen > limit:
            return None
        if not message.get("more_body", False):
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay


async def _error(send: Send, status: int, message: str, extra: dict[str, str]) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *_HEADERS,
        *((k.encode(), v.encode()) for k, v in extra.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def bearer_token_check(token: str) -> Callable[[Request], None]:
    """A FastAPI dependency that lets a request through only with ``Bearer <token>``."""
    expected = token.encode()

    def require_token(request: Request) -> None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        # compare_digest takes as long for a near miss as for a wild guess
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected):
            raise HTTPException(
                status_code=401,
                detail="admin routes need Authorization: Bearer <AUTOTRADER_SERVER_TOKEN>",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return require_token
