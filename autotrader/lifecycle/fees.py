"""Audition fees: request one, verify it (by hand or from the treasury's transfers), expire the
stale ones.

A fee is real money, so it is exact and idempotent: a pending fee has an amount (USDC, from
settings), a unique reference and an expiry; verifying it settles the verifier's report through
``lifecycle.payments`` (each transfer pays at most one fee, ever; an overpayment stays the
owner's credit) and — once — grants one audition attempt and the audition tier's entitlements
through the clones' entitlement store. A fee that expired can be verified again only by an
explicit admin act (a manual verification with ``override_expiry``).

The verifier's network read happens before the write lock is taken; everything it leads to is
one transaction that re-reads the fee, so two processes verifying the same fee grant once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from autotrader.clones.management import grant_entitlements, require_clone
from autotrader.clones.owners import owner_of_clone
from autotrader.core.clock import HOUR_MS, Clock, iso_utc
from autotrader.core.db import Store
from autotrader.core.errors import ConflictError, NotFoundError, TemporaryError
from autotrader.lifecycle import payments, state
from autotrader.lifecycle.economy import PROTOCOL_FEES
from autotrader.lifecycle.models import PaymentRequest, Settlement, Verification, Verifier
from autotrader.lifecycle.repo import auditions as auditions_repo
from autotrader.lifecycle.repo import fees as repo
from autotrader.lifecycle.repo import payments as payments_repo
from autotrader.lifecycle.state import Concerns
from autotrader.lifecycle.vocabulary import (
    EconomyKind,
    EventKind,
    FeeStatus,
    PaymentPurpose,
    VerifierName,
)

if TYPE_CHECKING:
    from autotrader.core.settings import Settings
    from autotrader.lifecycle.verifiers import HyperliquidVerifier


@dataclass(frozen=True)
class FeePolicy:
    """What a fee costs, how long it waits, and what paying it grants."""

    amount: Decimal
    expiry_ms: int
    max_attempts: int
    max_model_strength: int
    max_active_assets: int

    @classmethod
    def from_settings(cls, settings: Settings) -> FeePolicy:
        return cls(
            amount=settings.audition_fee_usdc,
            expiry_ms=round(settings.audition_fee_expiry_hours * HOUR_MS),
            max_attempts=settings.audition_max_attempts,
            max_model_strength=settings.audition_max_model_strength,
            max_active_assets=settings.audition_max_active_assets,
        )


@dataclass
class FeeVerification:
    fee: dict
    settlement: Settlement


@dataclass
class ReconcileReport:
    scanned: int = 0
    verified: list[int] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)
    outcomes: int = 0
    error: str | None = None

    def summary(self) -> str:
        text = (
            f"{self.scanned} pending fees scanned, {len(self.verified)} verified, "
            f"{len(self.expired)} expired, {self.outcomes} outcomes recorded"
        )
        return text + (f"; treasury unreadable: {self.error}" if self.error else "")


def require_fee(store: Store, fee_id: int) -> dict:
    fee = repo.get_fee(store, fee_id)
    if fee is None:
        raise NotFoundError(f"audition fee {fee_id} does not exist (see `lifecycle fees list`)")
    return fee


def list_fees(store: Store, *, clone_id: int | None = None, status: str | None = None):
    if status is not None:
        FeeStatus(status)
    return repo.list_fees(store, clone_id=clone_id, status=status)


def fee_detail(store: Store, fee_id: int) -> dict:
    """The fee with every verification outcome and every reference that paid towards it."""
    fee = require_fee(store, fee_id)
    fee["outcomes"] = payments_repo.outcomes(store, PaymentPurpose.AUDITION_FEE, fee_id)
    fee["references"] = payments_repo.references_of(store, PaymentPurpose.AUDITION_FEE, fee_id)
    fee["audition_id"] = next(
        (a["id"] for a in auditions_repo.attempts(store, fee["clone_id"]) if a["fee_id"] == fee_id),
        None,
    )
    return fee


def request_fee(
    store: Store, clock: Clock, clone_id: int, policy: FeePolicy, *, actor: str
) -> dict:
    """A pending fee for the clone's next audition attempt: amount, unique reference, expiry.

    Refused when the clone's stage allows no fee (``ConflictError`` naming it: a fee pending, an
    audition running…) or when it has used every attempt."""
    now = clock.now_ms()
    with store.atomic():
        owner = owner_of_clone(store, clone_id)
        if not state.can(store, clone_id, EventKind.FEE_REQUESTED):
            raise state.refusal(clone_id, state.stage_of(store, clone_id), EventKind.FEE_REQUESTED)
        taken = len(auditions_repo.attempts(store, clone_id))
        if taken >= policy.max_attempts:
            raise ConflictError(
                f"clone {clone_id} has taken all {policy.max_attempts} audition attempts"
            )
        fee_id = repo.insert_fee(
            store,
            clone_id=clone_id,
            owner=owner.handle,
            payer_address=owner.evm_address,
            amount=policy.amount,
            reference=f"AF-{clone_id}-{secrets.token_hex(5).upper()}",
            now_ms=now,
            expires_at=now + policy.expiry_ms,
        )
        state.transition(
            store,
            clone_id,
            EventKind.FEE_REQUESTED,
            actor=actor,
            reason=f"{policy.amount} USDC for attempt {taken + 1},"
            f" due by {iso_utc(now + policy.expiry_ms)}",
            now_ms=now,
            concerns=Concerns(fee_id=fee_id),
        )
    return require_fee(store, fee_id)


def payment_request(fee: dict, *, transfer: str | None = None) -> PaymentRequest:
    return PaymentRequest(
        purpose=PaymentPurpose.AUDITION_FEE,
        request_id=fee["id"],
        holder=fee["owner"],
        payer_address=fee["payer_address"],
        amount=fee["amount"],
        opens_at=fee["created_at"],
        expires_at=fee["expires_at"],
        transfer=transfer,
    )


def verify_fee(
    store: Store,
    clock: Clock,
    fee_id: int,
    verifier: Verifier,
    policy: FeePolicy,
    *,
    actor: str,
    transfer: str | None = None,
    override_expiry: bool = False,
) -> FeeVerification:
    """Ask ``verifier`` about the fee and settle what it reports (see the module docstring).

    Refuses (``ConflictError``, nothing changed) a fee already verified, and an expired one
    unless ``override_expiry`` on a manual verification; the verifier's own errors (a named
    transfer not found, the exchange unreadable) also leave everything as it was."""
    fee = require_fee(store, fee_id)
    _refuse_unverifiable(fee, verifier, override_expiry)
    verification = verifier.verify(payment_request(fee, transfer=transfer))
    with store.atomic():
        fee = require_fee(store, fee_id)  # under the write lock: another process may have won
        _refuse_unverifiable(fee, verifier, override_expiry)
        settlement = _settle(store, clock, fee, verification, policy, actor=actor)
    return FeeVerification(require_fee(store, fee_id), settlement)


def _refuse_unverifiable(fee: dict, verifier: Verifier, override_expiry: bool) -> None:
    if fee["status"] == FeeStatus.VERIFIED:
        raise ConflictError(
            f"audition fee {fee['id']} is already verified ({fee['verifier']},"
            f" {iso_utc(fee['verified_at'])})"
        )
    if fee["status"] == FeeStatus.EXPIRED and not (
        override_expiry and verifier.name == VerifierName.MANUAL
    ):
        raise ConflictError(
            f"audition fee {fee['id']} expired {iso_utc(fee['expired_at'])}: only an admin's"
            " manual verification with --override-expiry can verify it now"
        )


def _settle(
    store: Store,
    clock: Clock,
    fee: dict,
    verification: Verification,
    policy: FeePolicy,
    *,
    actor: str,
) -> Settlement:
    """Settle inside the caller's transaction, then grant what a paid fee grants, once."""
    now = clock.now_ms()
    expired = fee["status"] == FeeStatus.EXPIRED
    concerns = Concerns(fee_id=fee["id"])
    settlement = payments.settle(
        store,
        payment_request(fee),
        verification,
        payee=PROTOCOL_FEES,
        kind=EconomyKind.AUDITION_FEE,
        actor=actor,
        now_ms=now,
        admin_override=expired,
    )
    if not settlement.paid:
        if settlement.outcomes:
            state.note(
                store,
                fee["clone_id"],
                EventKind.PAYMENT_RECORDED,
                actor=actor,
                reason="; ".join(f"{o.outcome}: {o.reason}" for o in settlement.outcomes),
                now_ms=now,
                concerns=concerns,
            )
        return settlement
    if expired:
        # An admin re-opens the fee the reconciliation expired: the clone asks again, paid.
        state.transition(
            store,
            fee["clone_id"],
            EventKind.FEE_REQUESTED,
            actor=actor,
            reason=f"fee {fee['id']} re-opened by an admin: {verification.note}",
            now_ms=now,
            concerns=concerns,
        )
    transfer = verification.receipts[0].reference if verification.receipts else None
    repo.mark_verified(
        store,
        fee["id"],
        verifier=str(verification.verifier),
        actor=actor,
        transfer_reference=transfer,
        note=verification.note,
        now_ms=now,
    )
    clone = require_clone(store, fee["clone_id"])
    grant_entitlements(
        store,
        clock,
        fee["clone_id"],
        max_model_strength=max(clone.max_model_strength, policy.max_model_strength),
        max_active_assets=max(clone.max_active_assets, policy.max_active_assets),
        reason=f"audition fee {fee['id']} verified",
    )
    state.note(
        store,
        fee["clone_id"],
        EventKind.FEE_VERIFIED,
        actor=actor,
        reason="; ".join(f"{o.outcome}: {o.reason}" for o in settlement.outcomes)
        + (f" — {verification.note}" if verification.note else ""),
        now_ms=now,
        concerns=concerns,
    )
    return settlement


def reconcile(
    store: Store,
    clock: Clock,
    policy: FeePolicy,
    *,
    verifier: HyperliquidVerifier | None,
    actor: str,
) -> ReconcileReport:
    """One pass over pending fees: verify those the treasury's transfers pay (when a treasury
    is configured), then expire those still unpaid after their window. A fee the treasury could
    not be asked about is not expired this time: a payment made in time must not be missed
    because the exchange was down (the report says why)."""
    report = ReconcileReport()
    pending = repo.pending_fees(store)
    report.scanned = len(pending)
    scannable = [f for f in pending if f["payer_address"]] if verifier else []
    unchecked: set[int] = set()
    if scannable:
        try:
            found = verifier.verify_many([payment_request(f) for f in scannable])  # type: ignore[union-attr]
        except TemporaryError as exc:
            report.error = str(exc)
            unchecked = {f["id"] for f in scannable}
            found = {}
        for fee in scannable:
            verification = found.get(fee["id"])
            if verification is None or not (verification.receipts or verification.findings):
                continue
            with store.atomic():
                current = require_fee(store, fee["id"])
                if current["status"] != FeeStatus.PENDING:
                    continue  # verified by hand meanwhile
                settlement = _settle(store, clock, current, verification, policy, actor=actor)
            report.outcomes += len(settlement.outcomes)
            if settlement.paid:
                report.verified.append(fee["id"])
    now = clock.now_ms()
    for fee in pending:
        if fee["id"] in unchecked or fee["id"] in report.verified or fee["expires_at"] >= now:
            continue
        if expire_fee(store, clock, fee["id"], actor=actor):
            report.expired.append(fee["id"])
    return report


def expire_fee(store: Store, clock: Clock, fee_id: int, *, actor: str) -> bool:
    """Expire a pending fee past its window and send the clone back where it asked from;
    False when it was no longer pending (nothing changed)."""
    now = clock.now_ms()
    with store.atomic():
        fee = require_fee(store, fee_id)
        if fee["status"] != FeeStatus.PENDING or fee["expires_at"] >= now:
            return False
        repo.mark_expired(store, fee_id, now_ms=now)
        state.transition(
            store,
            fee["clone_id"],
            EventKind.FEE_EXPIRED,
            actor=actor,
            reason=f"unpaid when its window closed {iso_utc(fee['expires_at'])}",
            now_ms=now,
            concerns=Concerns(fee_id=fee_id),
        )
    return True
