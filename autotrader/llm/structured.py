"""Model text → a validated pydantic object, or a one-line reason and a failure kind.

A model's answer is data, never an instruction: it is parsed as one JSON object and validated
against the pydantic model the model was constrained by, nothing else. :func:`parse_structured`
never raises for any text; every way an answer can be wrong is an outcome with a ``kind``:

``empty``          no text at all
``too_long``       more characters than we are willing to parse
``not_json``       prose, a code fence, or anything that does not start as a JSON object
``not_object``     JSON, but an array/string/number instead of an object
``truncated``      a JSON object that stops before it closes
``malformed``      broken JSON, or text after the object
``non_finite``     ``NaN``/``Infinity`` literals or a number that overflows to infinity
``duplicate_key``  the same key twice in one object (parsers disagree on which one wins)
``extra_keys``     keys the schema does not have (validation forbids extras at every level)
``missing_keys``   required keys left out
``wrong_type``     a value of the wrong JSON type or outside an enum
``out_of_range``   a value outside the model's bounds (negative or absurd sizes, lengths)
``invalid_value``  any other rule of the model (e.g. fields that do not fit the action)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)

MAX_OUTPUT_CHARS = 100_000
_MAX_LISTED_ERRORS = 6
_SNIPPET_CHARS = 40
_WRONG_TYPE = frozenset(
    {"enum", "literal_error", "is_instance_of", "model_type", "model_attributes_type", "none"}
)
_OUT_OF_RANGE = frozenset(
    {
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "multiple_of",
        "finite_number",
        "too_long",
        "too_short",
        "string_too_long",
        "string_too_short",
        "string_pattern_mismatch",
    }
)


@dataclass(frozen=True)
class StructuredOutcome(Generic[T]):
    """The result of reading one answer: ``value`` when ok, else ``kind`` and ``error``."""

    value: T | None
    kind: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.value is not None


class _Rejected(ValueError):
    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind


def parse_structured(
    text: str | None, schema: type[T], *, max_chars: int = MAX_OUTPUT_CHARS
) -> StructuredOutcome[T]:
    """Parse ``text`` as exactly one JSON object and validate it as ``schema``.

    Extra keys are forbidden at every level whatever the model's own config says. Returns an
    outcome; never raises for any input text.
    """
    try:
        body = _check_json(text, max_chars=max_chars)
        value = schema.model_validate_json(body, extra="forbid")
    except _Rejected as exc:
        return StructuredOutcome(None, exc.kind, str(exc))
    except ValidationError as exc:
        return StructuredOutcome(None, _kind_of(exc), "schema mismatch: " + _summary(exc))
    except (ValueError, TypeError, ArithmeticError, RecursionError) as exc:
        # A validator of the model raised something odd: still a rejection, not a crash.
        return StructuredOutcome(None, "invalid_value", one_line(f"invalid: {exc}"))
    return StructuredOutcome(value)


def canonical_json(value: BaseModel) -> str:
    """The validated object as compact JSON with sorted keys (what ``parsed_json`` stores)."""
    return json.dumps(value.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace to one line and cap its length."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# -- JSON checks ------------------------------------------------------------------------------


def _check_json(text: str | None, *, max_chars: int) -> str:
    """The stripped text when it is one well-formed JSON object with finite numbers and unique
    keys; raises ``_Rejected`` otherwise."""
    if text is None or not text.strip():
        raise _Rejected("empty", "empty output: the model returned no text")
    if len(text) > max_chars:
        raise _Rejected("too_long", f"output longer than {max_chars} characters")
    body = text.strip()
    if body.startswith("```"):
        raise _Rejected("not_json", "not bare JSON: the object is wrapped in a code fence")
    if not body.startswith("{"):
        try:
            json.loads(body, parse_constant=_no_constant)
        except ValueError:
            raise _Rejected("not_json", f"not JSON: prose ({_snippet(body)})") from None
        raise _Rejected("not_object", "expected a JSON object, got another JSON value")
    try:
        json.loads(
            body,
            object_pairs_hook=_unique_keys,
            parse_constant=_no_constant,
            parse_float=_finite_float,
        )
    except _Rejected:
        raise
    except json.JSONDecodeError as exc:
        if exc.msg.startswith("Extra data"):
            raise _Rejected(
                "malformed", f"text after the JSON object ({_snippet(body[exc.pos :])})"
            ) from None
        if exc.pos >= len(body) - 1 or not body.endswith("}"):
            raise _Rejected(
                "truncated", "truncated JSON: the object stops before it closes"
            ) from None
        raise _Rejected("malformed", f"malformed JSON: {exc.msg} at character {exc.pos}") from None
    except RecursionError:
        raise _Rejected("malformed", "JSON nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with thousands of digits
        raise _Rejected("out_of_range", one_line(f"unreadable number: {exc}", 120)) from None
    return body


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Rejected("duplicate_key", f"duplicate key {key!r} in a JSON object")
        seen[key] = value
    return seen


def _no_constant(name: str) -> Any:
    raise _Rejected("non_finite", f"non-finite number {name} is not allowed")


def _finite_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise _Rejected("non_finite", f"number {text[:24]} overflows to infinity")
    return number


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    cut = flat[:_SNIPPET_CHARS] + ("…" if len(flat) > _SNIPPET_CHARS else "")
    return repr(cut)


# -- validation errors ------------------------------------------------------------------------


def _kind_of(error: ValidationError) -> str:
    first = error.errors(include_url=False, include_input=False)[0]
    kind = str(first.get("type", ""))
    if kind == "extra_forbidden":
        return "extra_keys"
    if kind == "missing":
        return "missing_keys"
    if kind in _WRONG_TYPE or kind.endswith(("_type", "_parsing")):
        return "wrong_type"
    if kind in _OUT_OF_RANGE:
        return "out_of_range"
    message = str(first.get("msg", ""))
    if kind == "value_error" and any(w in message for w in ("greater than", "at most", "at least")):
        return "out_of_range"  # the wording of range checks in our models' validators
    return "invalid_value"


def _summary(error: ValidationError) -> str:
    """``path: reason; path: reason`` for at most a few errors (no input values echoed)."""
    parts = []
    items = error.errors(include_url=False, include_input=False)
    for item in items[:_MAX_LISTED_ERRORS]:
        path = ".".join(str(p) for p in item.get("loc", ()))
        kind = item.get("type")
        if kind == "extra_forbidden":
            message = "unexpected key"
        elif kind == "missing":
            message = "missing"
        else:
            message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{path}: {message}" if path else message)
    if len(items) > _MAX_LISTED_ERRORS:
        parts.append(f"and {len(items) - _MAX_LISTED_ERRORS} more")
    return one_line("; ".join(parts))
