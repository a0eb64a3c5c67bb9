"""The prop engine's closed vocabularies, each defined once (standard library only, so the CLI
can name them without importing pydantic). ``prop.models`` re-exports them.

A database CHECK constraint that lists one of these sets is pinned to it by a test
(``tests/unit/test_vocabulary.py``); changing a set means a migration, see CONTRIBUTING.md.
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """What to do with one symbol."""

    OPEN = "OPEN"
    CLOSE = "CLOSE"
    HOLD = "HOLD"
    UPDATE_EXIT_PLAN = "UPDATE_EXIT_PLAN"


class Side(StrEnum):
    """Direction of a position."""

    LONG = "LONG"
    SHORT = "SHORT"

    @property
    def sign(self) -> int:
        """+1 for LONG, -1 for SHORT (the ``side`` of the PnL and liquidation formulas)."""
        return 1 if self is Side.LONG else -1

    @property
    def opposite(self) -> Side:
        return Side.SHORT if self is Side.LONG else Side.LONG


class AccountKind(StrEnum):
    SANDBOX = "sandbox"
    AUDITION = "audition"
    RACE = "race"


class Venue(StrEnum):
    """Where an account's orders are filled: on paper here, or on an exchange (live)."""

    PAPER = "paper"
    HYPERLIQUID_TESTNET = "hyperliquid-testnet"
    HYPERLIQUID = "hyperliquid"  # real money

    @property
    def is_live(self) -> bool:
        return self is not Venue.PAPER

    @property
    def is_real(self) -> bool:
        return self is Venue.HYPERLIQUID


class AccountStatus(StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"
    LIQUIDATED = "liquidated"
    FINALIZED = "finalized"


class MarginMode(StrEnum):
    ISOLATED = "isolated"
    CROSS = "cross"


class PositionStatus(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


class CloseTrigger(StrEnum):
    MANUAL = "MANUAL"
    STOP = "STOP"
    TARGET = "TARGET"
    INVALIDATION = "INVALIDATION"  # a bar closed beyond the exit plan's invalidation price
    TIME = "TIME"
    LIQUIDATION = "LIQUIDATION"
    ADMIN = "ADMIN"


class IntentOrigin(StrEnum):
    """Who submitted an intent: a person, a decision run, the desk's agents, or the system
    itself (an exit-plan trigger of mark-to-market, an admin close)."""

    MANUAL = "manual"
    DECISION = "decision"
    DESK = "desk"
    TRIGGER = "trigger"
    ADMIN = "admin"


class LedgerKind(StrEnum):
    DEPOSIT = "DEPOSIT"
    FEE = "FEE"
    REALIZED_PNL = "REALIZED_PNL"
    FUNDING = "FUNDING"
    LIQUIDATION = "LIQUIDATION"
    ADJUSTMENT = "ADJUSTMENT"


ENDED_STATUSES = frozenset({AccountStatus.FINALIZED, AccountStatus.LIQUIDATED})
"""An account in one of these has an end time and never trades again."""
MARKED_STATUSES = (AccountStatus.ACTIVE, AccountStatus.FROZEN)
"""Accounts whose open positions mark-to-market still marks (a frozen account's stops fire)."""
