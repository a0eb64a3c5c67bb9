"""Reading and changing the seven policies.

A stored policy is always valid: ``set_policy`` merges the given fields onto the current value,
validates the whole with the key's pydantic model and refuses (changing nothing) with every
invalid field in one line. JSON numbers are read as Decimal, so money and risk fractions stay
exact.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError
from autotrader.core.jsonload import load_json
from autotrader.desk.models import POLICY_MODELS, Policies
from autotrader.desk.repo import config as repo
from autotrader.desk.vocabulary import PolicyKey

_MAX_JSON_CHARS = 20_000


def load_policies(store: Store) -> Policies:
    """Every policy as stored, a key never written taking its default."""
    stored = repo.policies(store)
    values = {
        key.value: POLICY_MODELS[key].model_validate(stored[key.value])
        for key in PolicyKey
        if key.value in stored
    }
    return Policies(**values)


def policy_values(store: Store) -> dict[str, dict[str, Any]]:
    """Every policy as JSON-ready values, in the order of the keys."""
    policies = load_policies(store)
    return {key.value: getattr(policies, key.value).model_dump(mode="json") for key in PolicyKey}


def parse_key(key: str) -> PolicyKey:
    try:
        return PolicyKey(key)
    except ValueError:
        raise InvalidInputError(
            f"unknown policy {key!r} (keys: {', '.join(k.value for k in PolicyKey)})"
        ) from None


def set_policy(store: Store, clock: Clock, key: str, text: str) -> dict[str, Any]:
    """Merge the JSON object ``text`` onto policy ``key`` and store it; the new value.

    Raises ``InvalidInputError`` — naming every invalid field — for bad JSON, an unknown key or
    field, or a value out of range; nothing is stored then.
    """
    policy = parse_key(key)
    changes = _parse_object(text, policy)
    model = POLICY_MODELS[policy]
    with store.atomic():
        current = getattr(load_policies(store), policy.value).model_dump()
        try:
            merged = model.model_validate({**current, **changes})
        except ValidationError as exc:
            raise InvalidInputError(f"invalid {policy.value}: {_every_problem(exc)}") from None
        value = merged.model_dump(mode="json")
        repo.set_policy(store, policy.value, value, now_ms=clock.now_ms())
    return value


def _parse_object(text: str, policy: PolicyKey) -> dict[str, Any]:
    if len(text) > _MAX_JSON_CHARS:
        raise InvalidInputError(f"invalid {policy.value}: longer than {_MAX_JSON_CHARS} characters")
    data = load_json(text, what=f"invalid {policy.value}", decimals=True)
    if not isinstance(data, dict):
        raise InvalidInputError(f"invalid {policy.value}: give a JSON object of fields to change")
    return data


def _every_problem(error: ValidationError) -> str:
    """Each invalid field as ``field: reason``, all of them, in one line."""
    parts = []
    for item in error.errors(include_url=False, include_input=False):
        path = ".".join(str(p) for p in item.get("loc", ()))
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{path}: {message}" if path else message)
    return "; ".join(parts)
