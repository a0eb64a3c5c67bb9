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


class DriftKind(StrEnum):
    """A difference between the exchange and the store, found by reconciliation."""

    UNKNOWN_POSITION = "UNKNOWN_POSITION"  # the exchange holds what the store does not know
    SIZE_MISMATCH = "SIZE_MISMATCH"  # both hold it, in different sizes
    MISSING_POSITION = "MISSING_POSITION"  # the store holds it, the exchange no longer does
    UNKNOWN_ORDER = "UNKNOWN_ORDER"  # an order rests on the exchange that we never sent

    @property
    def freezes(self) -> bool:
        """Whether this drift freezes the venue's accounts: never trade on top of unknown
        state. A position the exchange closed (a trigger, a liquidation) is recorded only."""
        return self is not DriftKind.MISSING_POSITION


class ProtectionKind(StrEnum):
    """An exit-plan level kept on the exchange as a reduce-only trigger order."""

    STOP = "STOP"
    TARGET = "TARGET"


class ProtectionStatus(StrEnum):
    ACTIVE = "ACTIVE"  # resting on the exchange
    CANCELLED = "CANCELLED"  # moved, or the position closed
    FILLED = "FILLED"  # the exchange triggered it: the position was closed there
    REFUSED = "REFUSED"  # the exchange refused to place it (the position is unprotected there)
