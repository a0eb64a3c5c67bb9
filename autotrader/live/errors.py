"""Why a live order did not (or may not have) become a fill. Plain exceptions, no ccxt: the
venue catches each one and records it as the intent's ``venue`` result."""

from __future__ import annotations


class ExchangeRefusal(Exception):
    """The exchange refused an order; ``message`` is its reason, as it said it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SubmitUncertain(Exception):
    """An order was sent and no answer came back: it may or may not be on the exchange."""


class LiveHalted(Exception):
    """A halt (the setting or the halt file) stops every live submission."""


class DepositCapExceeded(Exception):
    """The order would take the account past its deposit cap (nothing was sent)."""
