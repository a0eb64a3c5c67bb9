"""Row ids as people and references name them (``--account 7``, ``fill:12``).

Every id is a SQLite INTEGER, a signed 64-bit number, and the product only ever issues positive
ones: anything outside 1 … 2^63−1 names no row, and a larger number cannot even be handed to the
driver (it raises ``OverflowError``). :func:`parse_id` is the one reading of an id from text.
"""

from __future__ import annotations

import re

from autotrader.core.errors import InvalidInputError, quoted

MAX_ID = 2**63 - 1
# ASCII digits only: int() also reads other scripts' digits ("٥" is 5) and "1_0".
_DIGITS = re.compile(r"[0-9]{1,19}")


def id_problem(text: str) -> str | None:
    """Why ``text`` is not an id, or ``None`` when it is one."""
    value = text.strip()
    if _DIGITS.fullmatch(value) and 1 <= int(value) <= MAX_ID:
        return None
    return f"{quoted(value)} is not an id (a whole number from 1 to {MAX_ID})"


def parse_id(text: str, *, field: str) -> int:
    """``text`` as an id; ``InvalidInputError`` naming ``field`` when it is not one."""
    problem = id_problem(text)
    if problem is not None:
        raise InvalidInputError(f"{field}: {problem}")
    return int(text)
