"""Time sources. Everything that needs "now" takes a ``Clock``.

Storage times are UTC epoch milliseconds (int); humans see ISO-8601 UTC. Live code uses
:class:`SystemClock`; replays and tests use :class:`SimulatedClock`, so one code path runs in all
three.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

# Storage times are UTC epoch milliseconds. UTC days are whole in epoch time (no leap seconds).
SECOND_MS = 1_000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
YEAR_MS = 365 * DAY_MS
# The times this product accepts from people and models (the replay clock, exit-plan times):
# 2000-01-01T00:00:00Z inclusive to 2100-01-01T00:00:00Z exclusive.
MIN_TIME_MS = 946_684_800_000
MAX_TIME_MS = 4_102_444_800_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Clock(Protocol):
    """A source of the current time in UTC epoch milliseconds."""

    def now_ms(self) -> int: ...


class SystemClock:
    """The wall clock."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class SimulatedClock:
    """A clock that only moves when told to: set it, or advance it by a duration."""

    def __init__(self, start_ms: int = 0) -> None:
        self._now_ms = int(start_ms)

    def now_ms(self) -> int:
        return self._now_ms

    def set(self, when_ms: int) -> None:
        self._now_ms = int(when_ms)

    def advance(self, *, ms: int = 0, seconds: float = 0) -> int:
        """Move forward and return the new time; moving backwards is refused."""
        delta = int(ms) + round(seconds * 1000)
        if delta < 0:
            raise ValueError("a simulated clock does not run backwards")
        self._now_ms += delta
        return self._now_ms


def iso_utc(ms: int | None) -> str:
    """``1700000000000`` → ``'2023-11-14T22:13:20Z'`` (milliseconds kept only when non-zero).

    Never raises, so a bad time already stored cannot break a read: a value no calendar date
    holds (outside years 1–9999, or not a whole number) renders as ``<invalid time VALUE>``.
    """
    if ms is None:
        return ""
    if isinstance(ms, bool) or not isinstance(ms, int):
        return f"<invalid time {ms!r}>"
    try:
        moment = _EPOCH + timedelta(milliseconds=ms)
    except OverflowError:
        return f"<invalid time {ms}>"
    # isoformat, not strftime: it always writes four year digits (strftime's %Y may not).
    text = moment.isoformat(timespec="milliseconds" if ms % 1000 else "seconds")
    return text.removesuffix("+00:00") + "Z"


def parse_iso_utc(text: str) -> int:
    """Parse an ISO-8601 time (``Z`` or an offset; a naive time is taken as UTC) to epoch ms.

    Raises ``ValueError`` with the offending text when it cannot be read.
    """
    raw = text.strip()
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO-8601 time (e.g. 2025-01-31T12:00:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def age_seconds(clock: Clock, then_ms: int | None) -> float | None:
    """Seconds since ``then_ms`` by ``clock``; ``None`` when there is no ``then``."""
    if then_ms is None:
        return None
    return (clock.now_ms() - then_ms) / 1000
