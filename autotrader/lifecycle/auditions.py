"""Auditions: a verified fee buys one bounded prop account, traded like any account, judged at
the end of its window against the pass criteria (``lifecycle.evaluation``).

Submitting opens the audition account (``clones.accounts.open_clone_account``, kind
``audition``) with the rules fixed at that moment; a retry needs a failure behind it, a new
verified fee, the cooldown passed and an attempt left. Every attempt stays in the history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from autotrader.clones.accounts import open_clone_account
from autotrader.clones.owners import owner_of_clone
from autotrader.core.clock import HOUR_MS, Clock, iso_utc
from autotrader.core.db import Store
from autotrader.core.errors import ConflictError, NotFoundError
from autotrader.lifecycle import state
from autotrader.lifecycle.models import AuditionRules
from autotrader.lifecycle.repo import auditions as repo
from autotrader.lifecycle.repo import fees as fees_repo
from autotrader.lifecycle.state import Concerns
from autotrader.lifecycle.vocabulary import AuditionStatus, EventKind, FeeStatus
from autotrader.prop import repo as prop_repo
from autotrader.prop.vocabulary import AccountKind, AccountStatus

if TYPE_CHECKING:
    from autotrader.core.settings import Settings

STOPPED = (AccountStatus.FROZEN, AccountStatus.LIQUIDATED)  # an account that cannot trade on


@dataclass(frozen=True)
class RetryPolicy:
    cooldown_ms: int
    max_attempts: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            cooldown_ms=round(settings.audition_cooldown_hours * HOUR_MS),
            max_attempts=settings.audition_max_attempts,
        )


def require_audition(store: Store, audition_id: int) -> dict:
    row = repo.get_audition(store, audition_id)
    if row is None:
        raise NotFoundError(
            f"audition {audition_id} does not exist (see `lifecycle auditions list`)"
        )
    return decode(row)


def decode(row: dict) -> dict:
    """An audition row with its rules and result parsed."""
    row["rules"] = AuditionRules.model_validate_json(row["rules"])
    row["result"] = json.loads(row["result"]) if row["result"] else None
    return row


def list_auditions(store: Store, *, clone_id: int | None = None, status: str | None = None):
    if status is not None:
        AuditionStatus(status)
    return [decode(r) for r in repo.list_auditions(store, clone_id=clone_id, status=status)]


def audition_of_account(store: Store, account_id: int) -> dict | None:
    row = repo.audition_of_account(store, account_id)
    return decode(row) if row else None


def submit(
    store: Store,
    clock: Clock,
    clone_id: int,
    rules: AuditionRules,
    policy: RetryPolicy,
    *,
    actor: str,
    fee_id: int | None = None,
    retry: bool = False,
) -> dict:
    """Start the clone's audition on a verified, unused fee (``fee_id``, or its oldest one).

    Refused, with nothing changed, when: the clone is not waiting on a fee (a double submit: the
    error names its stage); the fee is another clone's, unpaid or used; a first submit follows
    an earlier attempt (use ``retry``); a retry has no failure behind it, is inside the cooldown
    or past the attempts allowed."""
    now = clock.now_ms()
    with store.atomic():
        owner_of_clone(store, clone_id)  # NotFoundError for an unknown clone
        if not state.can(store, clone_id, EventKind.AUDITION_STARTED):
            raise state.refusal(
                clone_id, state.stage_of(store, clone_id), EventKind.AUDITION_STARTED
            )
        earlier = repo.attempts(store, clone_id)
        _check_attempt(clone_id, earlier, policy, now, retry=retry)
        fee = _paid_fee(store, clone_id, fee_id)
        account_id = open_clone_account(
            store,
            clock,
            clone_id=clone_id,
            kind=AccountKind.AUDITION,
            starting_balance=rules.starting_balance,
            rules=rules.account_rules(),
        )
        audition_id = repo.insert_audition(
            store,
            clone_id=clone_id,
            attempt=len(earlier) + 1,
            fee_id=fee["id"],
            account_id=account_id,
            status=AuditionStatus.RUNNING.value,
            rules=rules.model_dump_json(),
            started_at=now,
            ends_at=now + rules.duration_ms,
        )
        state.transition(
            store,
            clone_id,
            EventKind.AUDITION_STARTED,
            actor=actor,
            reason=f"attempt {len(earlier) + 1} on fee {fee['id']},"
            f" until {iso_utc(now + rules.duration_ms)}",
            now_ms=now,
            concerns=Concerns(fee["id"], audition_id, account_id),
        )
    return require_audition(store, audition_id)


def _check_attempt(
    clone_id: int, earlier: list[dict], policy: RetryPolicy, now: int, *, retry: bool
) -> None:
    if not retry:
        if earlier:
            raise ConflictError(
                f"clone {clone_id} auditioned before (attempt {len(earlier)}"
                f" {earlier[-1]['status']}): use `lifecycle auditions retry`"
            )
        return
    if not earlier or earlier[-1]["status"] != AuditionStatus.FAILED:
        raise ConflictError(f"clone {clone_id} has no failed audition to retry")
    if len(earlier) >= policy.max_attempts:
        raise ConflictError(f"clone {clone_id} has taken all {policy.max_attempts} attempts")
    ready = earlier[-1]["decided_at"] + policy.cooldown_ms
    if now < ready:
        raise ConflictError(
            f"clone {clone_id} may retry from {iso_utc(ready)} (cooldown after attempt"
            f" {len(earlier)})"
        )


def _paid_fee(store: Store, clone_id: int, fee_id: int | None) -> dict:
    if fee_id is None:
        fee = fees_repo.unused_verified_fee(store, clone_id)
        if fee is None:
            raise ConflictError(
                f"clone {clone_id} has no verified, unused audition fee"
                " (`lifecycle fees request`, then `lifecycle fees verify`)"
            )
        return fee
    fee = fees_repo.get_fee(store, fee_id)
    if fee is None:
        raise NotFoundError(f"audition fee {fee_id} does not exist")
    if fee["clone_id"] != clone_id:
        raise ConflictError(
            f"audition fee {fee_id} belongs to clone {fee['clone_id']}, not {clone_id}"
        )
    if fee["status"] != FeeStatus.VERIFIED:
        raise ConflictError(f"audition fee {fee_id} is {fee['status']}, not verified")
    if fees_repo.fee_is_used(store, fee_id):
        raise ConflictError(f"audition fee {fee_id} already paid for an audition")
    return fee


def require_due(store: Store, audition_id: int, now_ms: int) -> dict:
    """The audition, when it may be evaluated now; ``ConflictError`` when it is decided or its
    window is still open (and its account still trading) — evaluating early is refused."""
    audition = require_audition(store, audition_id)
    if audition["status"] != AuditionStatus.RUNNING:
        raise ConflictError(f"audition {audition_id} is already decided: {audition['status']}")
    account = prop_repo.get_account(store, audition["account_id"])
    stopped = account is not None and account["status"] in STOPPED
    if audition["ends_at"] > now_ms and not stopped:
        raise ConflictError(
            f"audition {audition_id} runs until {iso_utc(audition['ends_at'])}: it cannot be"
            " evaluated early"
        )
    return audition


def live_state(store: Store, audition: dict, now_ms: int):
    """A running audition's account as it stands (equity, drawdown, positions); None once
    decided (the result holds the final numbers)."""
    from autotrader.prop.accounts import account_state

    if audition["status"] != AuditionStatus.RUNNING:
        return None
    return account_state(store, audition["account_id"], now_ms)
