"""The seam between the gates and an exchange: how a live account's accepted fill is executed.

Paper accounts fill here, at the price the gates planned. A live account (``Venue.is_live``)
hands its accepted :class:`PlannedFill` to an :class:`ExecutionVenue` (``autotrader.live``
implements it), which sends the order and answers with what the exchange actually filled. That
answer is recorded as one more result after the gates' (gate ``venue``), so a refusal is a
rejected intent with the exchange's message, and the same booking, ledger and audit serve both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from autotrader.prop.gate_types import GateResult, PlannedFill

VENUE_GATE = "venue"


@dataclass(frozen=True)
class VenueOutcome:
    """The exchange's answer to one order: its verdict and, when anything filled, the fill to
    book (quantity, average price and fee as the exchange reported them)."""

    result: GateResult
    fill: PlannedFill | None


class ExecutionVenue(Protocol):
    def execute(
        self, account: dict, fill: PlannedFill, *, idempotency_key: str | None, now_ms: int
    ) -> VenueOutcome:
        """Send ``fill`` as an order for ``account`` and return what the exchange did."""
        ...

    def protect(self, account: dict, position_id: int, *, now_ms: int) -> None:
        """Make the exchange's stop and target orders match the position's exit plan and size
        (called after every fill and exit-plan change of a live position)."""
        ...
