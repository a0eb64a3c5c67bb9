"""What a sane stored time is, and how ``ledger verify`` shows one: the engine dates every row
with the clock, in UTC epoch milliseconds, and no row of this product belongs before 2000 or
after 2100 (the intent contract refuses such times too)."""

from __future__ import annotations

from autotrader.core.clock import iso_utc

FIRST_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
END_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z


def sane(ms: int) -> bool:
    """Whether ``ms`` lies in 2000…2100."""
    return FIRST_MS <= ms < END_MS


def when(ms: int | None) -> str:
    """A stored time for a message: ISO-8601 UTC, or the raw number when it is no sane date."""
    if ms is None:
        return "never"
    return iso_utc(ms) if sane(ms) else f"{ms} ms"


def misdated(table: str, row_id: int, ms: int) -> str:
    """The ``time_range`` message for a row dated outside 2000…2100."""
    return f"{table} {row_id}: dated {ms} ms, outside 2000…2100"
