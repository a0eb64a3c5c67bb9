"""Decimal helpers for money and quantities.

Balances, prices used for fills, fees and PnL are ``Decimal`` in the domain and canonical TEXT in
SQLite. Floats come from analytics (candles, indicators) and cross into money paths only through
:func:`from_float`, which is explicit and rejects NaN and infinities; :func:`to_decimal` refuses
floats so one cannot slip in unnoticed.
"""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation

from autotrader.core.errors import InvalidInputError

ZERO = Decimal(0)
ONE = Decimal(1)


def to_decimal(value: str | int | Decimal, *, field: str = "value") -> Decimal:
    """Parse ``value`` into a finite Decimal.

    Accepts decimal strings (surrounding spaces and ``_`` separators allowed), ints and Decimals.
    Raises ``InvalidInputError`` for text that is not a finite number and ``TypeError`` for floats
    and bools: a float in a money path is a programming error, use :func:`from_float`.
    """
    if isinstance(value, (bool, float)):
        raise TypeError(
            f"{field}: refusing {type(value).__name__} in a money path; use from_float()"
        )
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise InvalidInputError(f"{field}: {value!r} is not a decimal number") from None
    else:
        raise TypeError(f"{field}: cannot read {type(value).__name__} as a decimal")
    if not result.is_finite():
        raise InvalidInputError(f"{field}: {value!r} is not a finite number")
    return result


def from_float(value: float, *, field: str = "value") -> Decimal:
    """Convert an analytics float (a candle close, say) into a Decimal, exactly as it prints.

    Uses the shortest repr (``0.1`` becomes ``Decimal('0.1')``, not its binary expansion).
    Raises ``InvalidInputError`` for NaN and infinities.
    """
    if isinstance(value, bool) or not isinstance(value, (float, int)):
        raise TypeError(f"{field}: expected a float, got {type(value).__name__}")
    if not math.isfinite(value):
        raise InvalidInputError(f"{field}: {value!r} is not a finite number")
    return Decimal(repr(float(value)))


def quantize_step(value: Decimal, step: Decimal, *, rounding: str = ROUND_DOWN) -> Decimal:
    """Round ``value`` to a multiple of ``step`` (towards zero by default, as exchanges do).

    ``step`` must be positive. The result keeps the step's exponent, so ``0.12346`` quantized to
    ``0.001`` is ``Decimal('0.123')``.
    """
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    units = (value / step).to_integral_value(rounding=rounding)
    return (units * step).quantize(step)


def quantize_places(value: Decimal, places: int, *, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """Round ``value`` to ``places`` decimal places (banker's rounding by default)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=rounding)


def to_text(value: Decimal) -> str:
    """The canonical storage text of a Decimal: plain notation, no exponent, no trailing zeros.

    ``Decimal('1E+3')`` becomes ``'1000'`` and ``Decimal('10.500')`` becomes ``'10.5'``, so equal
    amounts are stored as equal strings.
    """
    if not value.is_finite():
        raise InvalidInputError(f"{value!r} is not a finite number")
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


def format_money(value: Decimal, *, places: int = 2, sign: bool = False) -> str:
    """Human format with thousands separators: ``Decimal('-1234.5')`` → ``-1,234.50``."""
    rounded = quantize_places(value, places)
    return f"{rounded:+,.{places}f}" if sign else f"{rounded:,.{places}f}"
