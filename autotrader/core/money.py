"""Decimal helpers for money and quantities.

Balances, prices used for fills, fees and PnL are ``Decimal`` in the domain and canonical TEXT in
SQLite. Floats come from analytics (candles, indicators) and cross into money paths only through
:func:`from_float`, which is explicit and rejects NaN and infinities; :func:`to_decimal` refuses
floats so one cannot slip in unnoticed.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from autotrader.core.errors import InvalidInputError, quoted

ZERO = Decimal(0)
ONE = Decimal(1)
MAX_INTEGER_DIGITS = 15
MAX_FRACTION_DIGITS = 18
# ASCII only ([0-9], not \d, which admits every script's digits); no NaN/Infinity words.
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def to_decimal(value: str | int | Decimal, *, field: str | None = "value") -> Decimal:
    """Parse ``value`` into a finite Decimal with at most 15 digits before the point and 18
    after it: every amount, price, fee and rate in this product fits, and math on it stays exact.

    Text is ASCII: an optional sign, digits with an optional point, an optional exponent
    (surrounding spaces and ``_`` separators allowed). Other scripts' digits, which ``Decimal()``
    would read (``"٥"`` is five), NaN, infinities and magnitudes such as ``1e999999`` or
    ``1e-400`` raise ``InvalidInputError``. Floats and bools raise ``TypeError``: a float in a
    money path is a programming error, use :func:`from_float`. Messages start with
    ``field: `` (no prefix when ``field`` is ``None``).
    """
    where = f"{field}: " if field else ""
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
        if not _DECIMAL_TEXT.fullmatch(text):
            raise InvalidInputError(f"{where}{quoted(value)} is not a decimal number")
        result = Decimal(text)
    else:
        raise TypeError(f"{field}: cannot read {type(value).__name__} as a decimal")
    if not result.is_finite():
        raise InvalidInputError(f"{where}{quoted(value)} is not a finite number")
    if result and result.adjusted() >= MAX_INTEGER_DIGITS:
        raise InvalidInputError(
            f"{where}{quoted(value)} is too large (at most {MAX_INTEGER_DIGITS} digits before "
            "the point)"
        )
    if _fraction_digits(result) > MAX_FRACTION_DIGITS:
        raise InvalidInputError(
            f"{where}{quoted(value)} has more than {MAX_FRACTION_DIGITS} decimal places"
        )
    return result


def _fraction_digits(value: Decimal) -> int:
    """Significant digits after the point (``Decimal("1.50")`` has one), counted exactly: no
    rounding to the context's precision on the way."""
    if not value:
        return 0
    _, digits, exponent = value.as_tuple()
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(int(exponent) + trailing_zeros))


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
