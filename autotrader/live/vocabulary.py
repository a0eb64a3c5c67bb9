"""The live package's closed vocabularies (standard library only, so the CLI can name them)."""

from __future__ import annotations

from enum import StrEnum


class OrderPurpose(StrEnum):
    """Why an order was sent: an intent's fill (ENTRY opens, EXIT closes), or a halt's flatten."""

    ENTRY = "ENTRY"
    EXIT = "EXIT"
    FLATTEN = "FLATTEN"


class OrderOutcome(StrEnum):
    """What the exchange did with an order, as far as we know it."""

    FILLED = "FILLED"
    PARTIAL = "PARTIAL"  # part filled, the rest cancelled (IOC)
    UNFILLED = "UNFILLED"  # accepted, nothing filled (IOC found no liquidity at the limit)
    REFUSED = "REFUSED"  # the exchange refused it, with its message
    BLOCKED = "BLOCKED"  # never sent: the deposit cap or a halt stopped it here
