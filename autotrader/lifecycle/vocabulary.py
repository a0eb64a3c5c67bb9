"""The lifecycle's closed vocabularies, each defined once (standard library only, so the CLI can
name them). A database CHECK constraint listing one of these sets is pinned to it by
``tests/unit/test_vocabulary.py``.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """Where a clone stands: sandbox → fee pending → auditioning → passed | failed → queued →
    arena → removed | retired (see ``lifecycle.state`` for the moves between them)."""

    SANDBOX = "sandbox"
    FEE_PENDING = "fee_pending"
    AUDITIONING = "auditioning"
    PASSED = "passed"
    FAILED = "failed"
    QUEUED = "queued"
    ARENA = "arena"
    REMOVED = "removed"
    RETIRED = "retired"


class EventKind(StrEnum):
    """What a timeline row records: a stage transition, or a note that changes no stage."""

    # transitions
    FEE_REQUESTED = "fee_requested"
    FEE_EXPIRED = "fee_expired"
    AUDITION_STARTED = "audition_started"
    AUDITION_PASSED = "audition_passed"
    AUDITION_FAILED = "audition_failed"
    QUEUED = "queued"
    ADMITTED = "admitted"
    REMOVED = "removed"
    RETIRED = "retired"
    # notes
    FEE_VERIFIED = "fee_verified"
    PAYMENT_RECORDED = "payment_recorded"
    PROFILE_SUBMITTED = "profile_submitted"
    PROFILE_APPROVED = "profile_approved"
    PROFILE_REJECTED = "profile_rejected"
    ADMISSION_DEFERRED = "admission_deferred"
    STRIKE = "strike"  # the arena: a bottom finish in a race (enough of them retire the clone)


class FeeStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    EXPIRED = "expired"


class AuditionStatus(StrEnum):
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"


class ProfileStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # a newer edit replaced it before anyone reviewed it


class QueueStatus(StrEnum):
    WAITING = "waiting"
    ADMITTED = "admitted"
    REMOVED = "removed"


class SlotStatus(StrEnum):
    ACTIVE = "active"
    REMOVED = "removed"
    RETIRED = "retired"


class EconomyKind(StrEnum):
    """Kinds of real-money entries in the economy ledger (the arena's are added to the table
    by its own migration, with ``lifecycle.migrations.extend_economy_kinds``)."""

    DEPOSIT = "DEPOSIT"  # real USDC that reached the treasury, credited to who sent it
    AUDITION_FEE = "AUDITION_FEE"  # an owner's payment of a fee, and the protocol's income
    ROUNDING = "ROUNDING"  # what rounding down to the unit left over, kept as its own row
    # the arena
    TICKET = "TICKET"  # an owner's payment of a ticket, into its race's pool
    PAYOUT = "PAYOUT"  # a ticket holder's share of a settled race's distribution pool
    ROYALTY = "ROYALTY"  # a top finisher's owner's share of the creator pool
    RAKE = "RAKE"  # the protocol's share of a pool (and a pool nobody could claim)
    REFUND = "REFUND"  # a paid ticket given back: its race was cancelled, its entrant scratched


class PaymentPurpose(StrEnum):
    """What a payment request pays for."""

    AUDITION_FEE = "audition_fee"
    TICKET = "ticket"  # an arena ticket (the arena's migration allows it in the tables)


class VerifierName(StrEnum):
    MANUAL = "manual"
    HYPERLIQUID = "hyperliquid"


class Outcome(StrEnum):
    """What one verification found, recorded with its reason."""

    VERIFIED = "verified"  # paid exactly (or from the owner's credit)
    OVERPAID = "overpaid"  # paid, and what was over is the owner's credit
    UNDERPAID = "underpaid"  # credited to the owner, not enough to pay: still pending
    LATE = "late"  # arrived after the window: credited to the owner, the fee is not paid
    WRONG_SENDER = "wrong_sender"  # not from the owner's address: neither credited nor used
    REUSED = "reused"  # the reference already verified a payment: nothing booked
    MALFORMED = "malformed"  # the exchange's row could not be read: nothing booked
