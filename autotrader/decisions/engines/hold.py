"""The ``hold`` engine: the safe no-op. It never trades, whatever it is given.

:func:`hold_result` is also how other engines say "do nothing, and here is why".
"""

from __future__ import annotations

from pydantic import ValidationError

from autotrader.clones.plan import EngineName
from autotrader.decisions.engines.base import DecisionRequest, EngineResult
from autotrader.prop.models import Action, TradeIntent, validation_summary

_HYPOTHESIS_CHARS = 120  # TradeIntent.hypothesis max_length


def clip(text: str, limit: int = _HYPOTHESIS_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis when longer."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def hold_result(
    symbol: str, note: str, *, error: str | None = None, policy_id: str | None = None
) -> EngineResult:
    """One HOLD intent for ``symbol`` whose hypothesis is ``note`` (clipped to 120 chars), with
    ``note`` and ``error`` on the result.

    Never raises: a symbol the intent contract refuses yields no intent and a recorded error.
    """
    try:
        intent = TradeIntent(
            action=Action.HOLD, symbol=symbol, policy_id=policy_id, hypothesis=clip(note) or None
        )
    except ValidationError as exc:
        reason = f"cannot hold {symbol!r}: {validation_summary(exc)}"
        return EngineResult(notes=note, error=f"{error}; {reason}" if error else reason)
    return EngineResult(intents=[intent], notes=note, error=error)


class HoldEngine:
    """Always one HOLD for the requested symbol; never reads the market, never fails."""

    name = EngineName.HOLD
    market_bars = 0

    def decide(self, request: DecisionRequest) -> EngineResult:
        return hold_result(request.symbol, "hold engine: observing only, never trades")
