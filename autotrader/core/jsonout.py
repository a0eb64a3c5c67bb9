"""JSON that keeps money exact: Decimals become their canonical text, never a float.

The CLI's ``--json`` output and the HTTP API (``server``) both encode through here, so a value
reads the same in a terminal, a script and a browser. Both also write control, bidi and
invisible characters as ``\\uXXXX`` escapes (``core.safe_text.json_text``): the same JSON, safe on
a terminal. The CLI goes one step further (:func:`cli_dumps`): every non-integer number is
decimal text, floats included — market memory keeps prices, volumes and indicators as floats,
and a JSON float is read back by most tools as a binary double that no longer prints as the
value shown.
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from autotrader.core.money import to_text
from autotrader.core.safe_text import json_text


def json_default(value: Any) -> Any:
    """The ``default=`` hook of :func:`json.dumps` for our types (raises TypeError otherwise)."""
    if isinstance(value, Decimal):
        return to_text(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(data: Any, *, indent: int | None = 2, separators: tuple[str, str] | None = None) -> str:
    """``data`` as JSON text, Decimals as strings (``"0.10"`` stays ``"0.10"``), unsafe
    characters as ``\\u`` escapes."""
    text = json.dumps(
        data, default=json_default, indent=indent, separators=separators, ensure_ascii=False
    )
    return json_text(text)


def cli_dumps(data: Any) -> str:
    """``data`` as the CLI's ``--json`` text: :func:`dumps`, with every float as decimal text
    (see :func:`floats_as_text`)."""
    return dumps(floats_as_text(plain(data)))


def floats_as_text(data: Any) -> Any:
    """Plain JSON values with each float replaced by its shortest exact decimal text
    (``1.25e-05`` → ``"0.0000125"``, ``100.0`` → ``"100"``) and NaN or ±inf by ``None``,
    which JSON cannot spell. Integers (ids, counts, epoch ms) and booleans stay numbers."""
    if isinstance(data, float):
        return to_text(Decimal(repr(data))) if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: floats_as_text(value) for key, value in data.items()}
    if isinstance(data, list):
        return [floats_as_text(value) for value in data]
    return data


def plain(data: Any) -> Any:
    """``data`` as plain JSON values (dict, list, str, int, float, bool, None), converted the
    way :func:`dumps` would; for callers that post-process the structure before encoding."""
    if isinstance(data, Enum):
        return data.value
    if isinstance(data, dict):
        return {str(key): plain(value) for key, value in data.items()}
    if isinstance(data, (list, tuple, set, frozenset)):
        return [plain(value) for value in data]
    if data is None or isinstance(data, (str, int, float, bool)):
        return data
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return {f.name: plain(getattr(data, f.name)) for f in dataclasses.fields(data)}
    return plain(json_default(data))
