"""The arena's closed vocabularies, each defined once (standard library only, so the CLI can
name them). A database CHECK constraint listing one of these sets is pinned to it by
``tests/unit/test_vocabulary.py``.
"""

from __future__ import annotations

from enum import StrEnum


class RaceStatus(StrEnum):
    """accumulating (tickets on sale) → live (race accounts trade) → settling → settled →
    archived; or cancelled at launch (too few entrants: every paid ticket refunded)."""

    ACCUMULATING = "accumulating"
    LIVE = "live"
    SETTLING = "settling"
    SETTLED = "settled"
    ARCHIVED = "archived"
    CANCELLED = "cancelled"


class EntrantStatus(StrEnum):
    ENTERED = "entered"  # fixed when the race is created
    RACING = "racing"  # launched: it trades its race account
    SCRATCHED = "scratched"  # left the arena before the launch: its tickets are refunded
    FINISHED = "finished"  # ranked at settlement


class TicketStatus(StrEnum):
    PENDING = "pending"  # waiting for its payment
    PAID = "paid"  # in the race's pool
    EXPIRED = "expired"  # unpaid when its window closed
    REFUNDED = "refunded"  # its race was cancelled, or its entrant scratched


class PayoutKind(StrEnum):
    """What one settlement row pays (or, for refunds, gives back)."""

    RAKE = "rake"  # the protocol's share of the pool
    ROYALTY = "royalty"  # a top finisher's owner's share of the creator pool
    PAYOUT = "payout"  # a ticket holder's share of the distribution pool
    UNCLAIMED = "unclaimed"  # the distribution pool when no paying position had a ticket
    DUST = "dust"  # what rounding every row down to the unit left over
    REFUND = "refund"  # a paid ticket given back (cancelled race, scratched entrant)


class RuleSet(StrEnum):
    """The named rules a race's accounts trade under (``arena races create --rules``)."""

    STANDARD = "standard"  # the ARENA_RACE_* settings
    CONSERVATIVE = "conservative"  # at most 2x leverage, frozen at a 10 % drawdown
    AGGRESSIVE = "aggressive"  # up to 20x leverage, frozen at a 50 % drawdown
