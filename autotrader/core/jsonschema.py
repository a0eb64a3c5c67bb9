"""JSON Schema for model-facing contracts, made acceptable to OpenAI structured outputs (strict).

Strict mode accepts a subset of JSON Schema. :func:`strict_json_schema` turns a pydantic model's
schema into that subset, so one pydantic class is both the validator of a model's answer and the
schema the model is constrained by:

- every object has ``additionalProperties: false`` and lists *every* property in ``required``;
  an optional pydantic field (default ``None``) is already nullable (``anyOf`` with
  ``{"type": "null"}``), so the model says ``null`` instead of leaving the key out;
- a field whose pydantic default is *not* ``None`` (``leverage = 1``) stays non-nullable: the model
  must give a value, because ``null`` would fail validation;
- ``default``, ``examples``, ``discriminator`` and other annotations are removed; ``const`` becomes
  a one-value ``enum``; ``oneOf`` becomes ``anyOf``; a one-entry ``allOf`` is merged;
- ``minLength``/``maxLength`` are not among the documented strict-mode string keywords (``pattern``
  and ``format`` are), so they are removed and stated in the description instead; pydantic still
  enforces them when the answer is validated;
- a ``$ref`` with sibling keywords (pydantic puts a field's description next to an enum's
  ``$ref``) is inlined, since strict mode wants a bare ``$ref``; ``$defs`` stay shared otherwise;
- keywords strict mode does not support and that change meaning (``patternProperties``, ``not``,
  ``if``, free-form ``additionalProperties``, ...) raise ``ValueError``: better to fail when the
  schema is built than when the API refuses it.

The kept keywords are those OpenAI documents for strict mode: ``type``, ``properties``,
``required``, ``additionalProperties``, ``items``, ``anyOf``, ``enum``, ``$ref``, ``$defs``,
``description``, ``title``, ``pattern``, ``format`` (date-time, time, date, duration, email,
hostname, ipv4, ipv6, uuid), ``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``,
``multipleOf``, ``minItems``, ``maxItems``.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

_KEPT = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "anyOf",
        "enum",
        "$ref",
        "$defs",
        "description",
        "title",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
    }
)
# Annotations only: dropping them changes what the model sees, never what is valid for us
# (pydantic validates the answer against the full model anyway).
_DROPPED = frozenset(
    {
        "default",
        "examples",
        "discriminator",
        "readOnly",
        "writeOnly",
        "deprecated",
        "uniqueItems",
        "$schema",
        "$comment",
    }
)
_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)


def strict_json_schema(model_cls: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema of ``model_cls`` in OpenAI strict structured-output form (a new dict).

    The root is an object schema; nested models stay in ``$defs``. Raises ``ValueError`` naming
    the schema path when the model uses something strict mode cannot express (a free-form dict, a
    tuple, ``not``/``if`` ...), or when the root is not an object.
    """
    schema = copy.deepcopy(model_cls.model_json_schema(mode="validation"))
    root_defs = schema.get("$defs", {})
    result = _strict(schema, root_defs, path="#")
    if result.get("type") != "object":
        raise ValueError(f"{model_cls.__name__}: the root of a strict schema must be an object")
    _prune_defs(result)
    return result


def _prune_defs(schema: dict[str, Any]) -> None:
    """Drop ``$defs`` nothing refers to any more (enums inlined next to a description)."""
    defs = schema.get("$defs")
    if not defs:
        return
    body = {k: v for k, v in schema.items() if k != "$defs"}
    reachable: set[str] = set()
    pending = list(_refs(body))
    while pending:
        name = pending.pop()
        if name in reachable or name not in defs:
            continue
        reachable.add(name)
        pending.extend(_refs(defs[name]))
    kept = {name: sub for name, sub in defs.items() if name in reachable}
    if kept:
        schema["$defs"] = kept
    else:
        schema.pop("$defs")


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = []
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            found.append(ref[len("#/$defs/") :])
        for value in node.values():
            found.extend(_refs(value))
        return found
    if isinstance(node, list):
        return [name for item in node for name in _refs(item)]
    return []


def _strict(node: Any, defs: dict[str, Any], *, path: str) -> dict[str, Any]:
    if not isinstance(node, dict):
        raise ValueError(f"{path}: expected a schema object, got {type(node).__name__}")
    node = dict(node)

    ref = node.get("$ref")
    if ref is not None and len(node) > 1:
        # Strict mode wants a bare $ref; merge the target under the sibling keywords.
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        node = {**_resolve(ref, defs, path=path), **siblings}

    if "allOf" in node:
        entries = node.pop("allOf")
        if not isinstance(entries, list) or len(entries) != 1:
            raise ValueError(f"{path}: allOf with several entries is not supported in strict mode")
        node = {**_resolve_maybe(entries[0], defs, path=path), **node}
    if "oneOf" in node:
        node["anyOf"] = node.pop("oneOf")
    if "const" in node:
        node["enum"] = [node.pop("const")]

    lengths = []
    if "minLength" in node:
        lengths.append(f"at least {node.pop('minLength')} characters")
    if "maxLength" in node:
        lengths.append(f"at most {node.pop('maxLength')} characters")
    if lengths:
        note = "Length: " + " and ".join(lengths) + "."
        description = node.get("description")
        node["description"] = f"{description} {note}" if description else note

    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED:
            continue
        if key not in _KEPT:
            raise ValueError(f"{path}: keyword {key!r} is not supported in strict mode")
        out[key] = value

    if "format" in out and out["format"] not in _FORMATS:
        # An unknown format is only a hint; the pattern or pydantic carries the rule.
        out.pop("format")

    if "$defs" in out:
        out["$defs"] = {
            name: _strict(sub, defs, path=f"{path}/$defs/{name}")
            for name, sub in out["$defs"].items()
        }
    if "properties" in out or out.get("type") == "object":
        extra = out.get("additionalProperties", False)
        if extra is not False:
            raise ValueError(f"{path}: free-form object keys are not allowed in strict mode")
        properties = out.get("properties", {})
        out["properties"] = {
            name: _strict(sub, defs, path=f"{path}/properties/{name}")
            for name, sub in properties.items()
        }
        out["required"] = list(properties)
        out["additionalProperties"] = False
    if "items" in out:
        out["items"] = _strict(out["items"], defs, path=f"{path}/items")
    if "anyOf" in out:
        out["anyOf"] = [
            _strict(sub, defs, path=f"{path}/anyOf/{i}") for i, sub in enumerate(out["anyOf"])
        ]
    return out


def _resolve(ref: Any, defs: dict[str, Any], *, path: str) -> dict[str, Any]:
    prefix = "#/$defs/"
    if not isinstance(ref, str) or not ref.startswith(prefix) or ref[len(prefix) :] not in defs:
        raise ValueError(f"{path}: cannot resolve $ref {ref!r}")
    return dict(defs[ref[len(prefix) :]])


def _resolve_maybe(node: Any, defs: dict[str, Any], *, path: str) -> dict[str, Any]:
    if isinstance(node, dict) and set(node) == {"$ref"}:
        return _resolve(node["$ref"], defs, path=path)
    if not isinstance(node, dict):
        raise ValueError(f"{path}: expected a schema object in allOf")
    return node
