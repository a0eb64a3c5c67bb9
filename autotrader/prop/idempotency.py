"""Idempotency keys: one namespace per account and origin, none shared with the system's own.

A key a caller gives (``prop order --idempotency-key``, a decision run's ``run:{id}:{seq}``, a
desk step's ``desk-step:{id}``) is
stored scoped by the account it trades and the origin it came from (``manual:1:my-key``,
``decision:3:run:12:0``), so the same text on another account or from another origin is another
key. Keys the system makes itself never start with a caller origin: exit-plan and admin closes
(``trigger:{position}:{trigger}``, ``admin:{position}:ADMIN``), fills of unkeyed intents
(``intent:{id}``), funding hours and liquidations (ledger entries, whose keys no caller sets). So
no key a person types can equal one a stop, a decision run or a funding payment relies on.

Within its namespace a key means one request: the same intent again replays the first outcome;
another intent under the same key is a :class:`ConflictError`, never the earlier fill.
"""

from __future__ import annotations

import json

from autotrader.core.errors import ConflictError
from autotrader.prop.models import TradeIntent
from autotrader.prop.vocabulary import IntentOrigin

CALLER_ORIGINS = frozenset({IntentOrigin.MANUAL, IntentOrigin.DECISION, IntentOrigin.DESK})
"""The origins whose intents go through ``PropDesk.submit`` with a key of the caller's choosing."""


def caller_key(origin: IntentOrigin, account_id: int, key: str) -> str:
    """The stored form of a caller's ``key`` for an intent of ``origin`` on ``account_id``."""
    if origin not in CALLER_ORIGINS:
        raise ValueError(f"{origin} intents are the system's own and carry system keys")
    return f"{origin}:{account_id}:{key}"


def system_close_key(origin: IntentOrigin, position_id: int, trigger: str) -> str:
    """The key of a close the system decided (an exit-plan trigger, an admin flattening)."""
    if origin in CALLER_ORIGINS:
        raise ValueError(f"{origin} intents carry caller keys")
    return f"{origin}:{position_id}:{trigger}"


def unkeyed_fill_key(intent_id: int) -> str:
    """The key of a fill whose intent came without one (each intent fills at most once)."""
    return f"intent:{intent_id}"


def require_same_intent(earlier: dict, intent: TradeIntent, key: str) -> None:
    """Refuse to replay the intent row ``earlier`` (stored under the caller's ``key``) for a
    request that asks for something else: a retry must be the same order to get its outcome."""
    before = json.loads(earlier["payload"])
    now = intent.model_dump(mode="json")
    if before == now:
        return
    changed = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
    asked = " ".join(str(before[k]) for k in ("action", "symbol", "side") if before.get(k))
    raise ConflictError(
        f"idempotency key {key!r} was already used on account {earlier['account_id']} for "
        f"intent {earlier['id']} ({asked}); this request differs in {', '.join(changed)}: "
        "give a new order a new key"
    )
