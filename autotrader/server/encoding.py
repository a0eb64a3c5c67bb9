"""How the API writes values: money as decimal strings, times as ISO-8601 UTC.

Stored times are epoch milliseconds in columns named ``*_at`` (``created_at``, ``opened_at``) or
``time``/``open_time``; the API shows every such integer as ISO text. Durations (``holding_ms``,
``latency_ms``) stay numbers. Values go through the CLI's encoder (``core.jsonout``), so the
API and ``--json`` agree on every digit and escape the same characters.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from autotrader.core.clock import iso_utc
from autotrader.core.jsonout import dumps, plain

_TIME_KEYS = frozenset(
    {"time", "open_time", "bucket", "as_of_ms", "time_exit", "cooldown_until", "funded_until"}
)


def is_time_key(key: str) -> bool:
    return key.endswith("_at") or key in _TIME_KEYS


def api_value(data: Any) -> Any:
    """``data`` as the plain JSON structure the API sends."""
    return _times(plain(data), None)


def _times(value: Any, key: str | None) -> Any:
    if isinstance(value, dict):
        return {k: _times(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_times(v, None) for v in value]
    if key is not None and type(value) is int and is_time_key(key):
        return iso_utc(value)
    return value


class ApiResponse(JSONResponse):
    """A JSON response encoded by :func:`api_value` (FastAPI's own encoder would turn a
    Decimal into a float), written by ``core.jsonout.dumps`` as ``--json`` is: control, bidi and
    invisible characters as ``\\u`` escapes."""

    def render(self, content: Any) -> bytes:
        return dumps(api_value(content), indent=None, separators=(",", ":")).encode()
