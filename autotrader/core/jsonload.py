"""JSON from outside the program (a file a user names, a document they paste), read with limits.

Python's decoder recurses once per nesting level: ``[[[[...]]]]`` 100,000 deep raises a
``RecursionError`` inside it, and a document a few hundred levels deep decodes but then
overflows whatever walks it next (a validator, ``json.dumps``). :func:`load_json` refuses both
with one ``InvalidInputError`` line, as it refuses malformed text, bad UTF-8 and text over a
size limit. Real documents here nest a handful of levels (a pipeline about eight). NaN and
Infinity decode as Python does: callers reject them where they land, with a location.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from autotrader.core.errors import InvalidInputError, NotFoundError

MAX_DEPTH = 64


def load_json(text: str | bytes, *, what: str, decimals: bool = False) -> Any:
    """Decode ``text`` (UTF-8 when bytes) into Python values (numbers with a fraction or an
    exponent as ``Decimal`` when ``decimals``: money stays exact).

    Raises ``InvalidInputError`` naming ``what`` (e.g. ``"pipeline.json"``) when the text is
    not UTF-8, not JSON (the line and column are given), or nests deeper than
    :data:`MAX_DEPTH` arrays and objects.
    """
    try:
        value = json.loads(text, parse_float=Decimal if decimals else None)
    except UnicodeDecodeError:
        raise InvalidInputError(f"{what}: not a UTF-8 text file") from None
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"{what}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise InvalidInputError(_too_deep(what)) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise InvalidInputError(f"{what}: invalid JSON: {exc}") from None
    if _deeper_than(value, MAX_DEPTH):
        raise InvalidInputError(_too_deep(what))
    return value


def read_json_file(path: Path, *, max_bytes: int | None = None) -> Any:
    """:func:`load_json` over a file. A missing path, a folder, or a file over ``max_bytes`` is
    one clear line too."""
    if not path.exists():
        raise NotFoundError(f"{path}: no such file")
    if not path.is_file():
        raise InvalidInputError(f"{path}: not a file")
    if max_bytes is not None and path.stat().st_size > max_bytes:
        raise InvalidInputError(f"{path}: larger than {max_bytes:,} bytes")
    return load_json(path.read_bytes(), what=str(path))


def _too_deep(what: str) -> str:
    return f"{what}: JSON nested deeper than {MAX_DEPTH} levels"


def _deeper_than(value: Any, limit: int) -> bool:
    """True when ``value`` nests more than ``limit`` arrays/objects (iterative: never recurses)."""
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
