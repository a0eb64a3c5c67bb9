"""JSON over HTTP for the public market APIs (Polymarket, DefiLlama), on httpx.

This is the only module of the market sources that sees httpx exceptions: every failure leaves
here as one of ours, with a one-line message that names the source and the path (never query
values, headers or the base URL, so nothing secret can leak into logs):

- connect/read timeouts, transport errors, HTTP 429 and 5xx are retried with exponential backoff
  (or the server's ``Retry-After`` seconds, capped); when the retries run out →
  :class:`~autotrader.core.errors.TemporaryError`;
- HTTP 404 and 400 → :class:`~autotrader.core.errors.InvalidInputError` ("not found"): the thing
  asked for does not exist or the request is malformed, so retrying cannot help;
- any other status outside 2xx, a body that is not JSON, too many redirects → ``TemporaryError``;
- a base URL httpx cannot use → ``InvalidInputError``.

Sleeping goes through an injected ``sleep`` so tests run instantly and can assert the delays.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import httpx

from autotrader.core.errors import InvalidInputError, TemporaryError

DEFAULT_USER_AGENT = "autotrader/0.1 (+paper trading; market data)"
DEFAULT_TIMEOUT_S = 10.0

# Params are sent as strings; httpx would render True as "true" too, but we keep them explicit.
ParamValue = str | int | float | bool | None


def _render(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class JsonHttpClient:
    """GET JSON from one base URL with retries; one instance per host, reused across calls.

    ``name`` labels every error message ("Polymarket: ..."). ``max_retries`` counts retries after
    the first attempt, so a persistently failing call makes ``max_retries + 1`` attempts and
    sleeps ``max_retries`` times. Backoff is ``backoff_s * 2**retry`` seconds, at most
    ``max_backoff_s``; a numeric ``Retry-After`` header replaces it, capped at
    ``max_retry_after_s`` (an HTTP-date ``Retry-After`` is ignored: reading it needs a wall clock).
    ``transport`` lets tests plug in ``httpx.MockTransport``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        name: str = "HTTP",
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        max_retry_after_s: float = 60.0,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.name = name
        self.max_retries = max_retries
        self._sleep = sleep
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._max_retry_after_s = max_retry_after_s
        try:
            self._client = httpx.Client(
                base_url=base_url.rstrip("/"),
                timeout=timeout_s,
                transport=transport,
                headers={"User-Agent": user_agent, "Accept": "application/json"},
                follow_redirects=True,
            )
        except (httpx.InvalidURL, httpx.UnsupportedProtocol):
            raise InvalidInputError(f"{name}: the base URL is not a usable http(s) URL") from None

    # -- lifetime ------------------------------------------------------------------------------

    def close(self) -> None:
        """Release pooled connections."""
        self._client.close()

    def __enter__(self) -> JsonHttpClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- requests ------------------------------------------------------------------------------

    def get_json(
        self,
        path: str,
        params: Mapping[str, ParamValue] | None = None,
        *,
        what: str | None = None,
    ) -> Any:
        """GET ``path`` (relative to the base URL) and return the decoded JSON body.

        ``what`` names the requested thing for a 404/400 message, e.g. ``"market 'x'"`` gives
        "Polymarket: market 'x' not found". ``None`` params are left out.

        Raises ``InvalidInputError`` on 404/400 (not retried) and ``TemporaryError`` when the
        retries are exhausted, on other non-2xx statuses, and on a body that is not JSON.
        """
        query = {k: _render(v) for k, v in (params or {}).items() if v is not None}
        label = what or path
        attempts = self.max_retries + 1
        problem = "no attempt made"
        for attempt in range(attempts):
            delay: float | None = None
            try:
                response = self._client.get(path, params=query)
            except httpx.TimeoutException:
                problem = "timed out"
            except (httpx.UnsupportedProtocol, httpx.InvalidURL):
                # A bad configured URL will not heal on retry.
                raise InvalidInputError(f"{self.name}: GET {path}: unusable URL") from None
            except httpx.TransportError as exc:
                problem = f"connection failed ({type(exc).__name__})"
            except httpx.HTTPError as exc:
                # TooManyRedirects, DecodingError: the server answered, but nonsense.
                raise TemporaryError(f"{self.name}: GET {path}: {type(exc).__name__}") from None
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return self._decode(response, path)
                if status in (404, 400):
                    reason = "not found" if status == 404 else "rejected as invalid (HTTP 400)"
                    raise InvalidInputError(f"{self.name}: {label} {reason}")
                if status != 429 and status < 500:
                    raise TemporaryError(f"{self.name}: GET {path} answered HTTP {status}")
                problem = "rate limited (HTTP 429)" if status == 429 else f"HTTP {status}"
                delay = self._retry_after(response)
            if attempt + 1 < attempts:
                self._sleep(delay if delay is not None else self._backoff(attempt))
        tries = f"{attempts} attempt" + ("s" if attempts != 1 else "")
        raise TemporaryError(f"{self.name}: GET {path} failed after {tries}: {problem}")

    # -- helpers -------------------------------------------------------------------------------

    def _backoff(self, retry: int) -> float:
        return float(min(self._backoff_s * (2**retry), self._max_backoff_s))

    def _retry_after(self, response: httpx.Response) -> float | None:
        raw = response.headers.get("Retry-After")
        if raw is None:
            return None
        try:
            seconds = float(raw.strip())
        except ValueError:
            return None
        if not math.isfinite(seconds) or seconds < 0:
            return None
        return min(seconds, self._max_retry_after_s)

    def _decode(self, response: httpx.Response, path: str) -> Any:
        try:
            return response.json()
        except ValueError:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
            kind = response.headers.get("Content-Type", "unknown").split(";")[0].strip()
            raise TemporaryError(
                f"{self.name}: GET {path} returned a body that is not JSON ({kind or 'unknown'})"
            ) from None
