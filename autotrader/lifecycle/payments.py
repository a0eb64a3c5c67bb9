"""Settling a payment request from a verifier's report: the one path real money takes in.

A verifier (``lifecycle.verifiers``) only reports what reached the treasury; settling decides,
inside the caller's transaction (which holds the write lock), what it pays:

1. every finding the verifier refused (a wrong sender, a malformed row) is recorded;
2. each receipt's reference is claimed — a transfer hash verifies at most one payment, ever —
   and what it brought is booked as a deposit to the owner (rounded down to the unit, the
   remainder its own row): money that arrived is never lost, even late or short;
3. the request is paid from the owner's balance when what arrived in time, with their earlier
   credit, covers it: an AUDITION_FEE (or, in the arena, a ticket) booking moves the amount to
   the payee; what is over stays the owner's credit.

Every step records an outcome with its reason. Fees use it now; the arena's ticket purchases
reuse it with their own purpose, payee and kind.
"""

from __future__ import annotations

from decimal import Decimal

from autotrader.core.db import Store
from autotrader.core.money import ZERO, to_text
from autotrader.lifecycle import economy
from autotrader.lifecycle.models import (
    Finding,
    PaymentRequest,
    Receipt,
    RecordedOutcome,
    Settlement,
    Verification,
)
from autotrader.lifecycle.repo import payments as repo
from autotrader.lifecycle.vocabulary import EconomyKind, Outcome


def settle(
    store: Store,
    request: PaymentRequest,
    verification: Verification,
    *,
    payee: str,
    kind: EconomyKind,
    actor: str,
    now_ms: int,
    admin_override: bool = False,
) -> Settlement:
    """Record, credit and (when covered) pay; see the module docstring. ``admin_override``
    counts the receipts as in time whatever the window says (an admin's explicit act)."""
    recorder = _Recorder(store, request, verification, actor, now_ms)
    for finding in verification.findings:
        recorder.finding(finding)
    prior = economy.balance(store, request.holder)
    in_time = ZERO
    explicit = not verification.scanned  # a named transfer that was used is a reuse
    for receipt in sorted(verification.receipts, key=lambda r: (r.time_ms, r.reference)):
        credited = recorder.credit(receipt, explicit=explicit)
        if credited is None:
            continue
        if admin_override or receipt.time_ms <= request.expires_at:
            in_time += credited
        else:
            recorder.record(
                Outcome.LATE,
                f"arrived {_when(receipt.time_ms)}, after the window closed"
                f" {_when(request.expires_at)}:"
                f" {_usdc(credited)} USDC credited to {request.holder}, the payment stays unpaid",
                receipt,
            )
    window_open = admin_override or now_ms <= request.expires_at
    available = prior + in_time
    paid = available >= request.amount and (in_time > 0 or window_open)
    if paid:
        economy.book(
            store,
            f"{request.purpose}:{request.request_id}",
            [
                economy.Leg(request.holder, kind, -request.amount, _what(request)),
                economy.Leg(payee, kind, request.amount, _what(request)),
            ],
            now_ms=now_ms,
        )
        left = economy.balance(store, request.holder)
        if in_time == 0:
            recorder.record(
                Outcome.VERIFIED, f"paid from {request.holder}'s credit ({_usdc(prior)} USDC)"
            )
        elif left > prior:
            recorder.record(
                Outcome.OVERPAID,
                f"received {_usdc(in_time)} USDC for {_usdc(request.amount)}:"
                f" {_usdc(left - prior)} over, kept as {request.holder}'s credit"
                f" (now {_usdc(left)})",
            )
        else:
            recorder.record(
                Outcome.VERIFIED,
                f"received {_usdc(in_time)} USDC, paid {_usdc(request.amount)}",
            )
    elif in_time > 0:
        credit = f" (with earlier credit, {_usdc(available)})" if prior else ""
        recorder.record(
            Outcome.UNDERPAID,
            f"received {_usdc(in_time)} USDC{credit} of {_usdc(request.amount)}:"
            f" {_usdc(request.amount - available)} more is due by {_when(request.expires_at)};"
            f" credited to {request.holder} meanwhile",
        )
    return Settlement(
        paid=paid,
        outcomes=recorder.recorded,
        balance=economy.balance(store, request.holder),
    )


class _Recorder:
    def __init__(
        self,
        store: Store,
        request: PaymentRequest,
        verification: Verification,
        actor: str,
        now_ms: int,
    ) -> None:
        self.store = store
        self.request = request
        self.verification = verification
        self.actor = actor
        self.now_ms = now_ms
        self.recorded: list[RecordedOutcome] = []

    def record(
        self, outcome: Outcome, reason: str, receipt: Receipt | None = None, **extra: object
    ) -> None:
        amount = receipt.amount if receipt else extra.get("amount")
        repo.insert_outcome(
            self.store,
            purpose=str(self.request.purpose),
            request_id=self.request.request_id,
            verifier=str(self.verification.verifier),
            outcome=str(outcome),
            reference=receipt.reference if receipt else extra.get("reference"),
            sender=receipt.sender if receipt else extra.get("sender"),
            amount=to_text(amount) if isinstance(amount, Decimal) else None,
            transfer_time=receipt.time_ms if receipt else extra.get("time_ms"),
            reason=reason,
            actor=self.actor,
            created_at=self.now_ms,
        )
        self.recorded.append(
            RecordedOutcome(
                outcome,
                reason,
                receipt.reference if receipt else extra.get("reference"),  # type: ignore[arg-type]
                amount if isinstance(amount, Decimal) else None,
            )
        )

    def finding(self, finding: Finding) -> None:
        """Record a refused transfer once: a scan that meets the same unreadable row again on
        every reconciliation tick adds nothing new."""
        if repo.outcome_recorded(
            self.store,
            self.request.purpose,
            self.request.request_id,
            finding.outcome,
            finding.reason,
        ):
            return
        self.record(
            finding.outcome,
            finding.reason,
            reference=finding.reference,
            sender=finding.sender,
            amount=finding.amount,
            time_ms=finding.time_ms,
        )

    def credit(self, receipt: Receipt, *, explicit: bool) -> Decimal | None:
        """Claim the receipt's reference and book what it brought; the amount credited, or None
        when the reference was claimed before (recorded as reused when it was named)."""
        request = self.request
        claimed = repo.claim_reference(
            self.store,
            reference=receipt.reference,
            source=str(self.verification.verifier),
            purpose=request.purpose,
            request_id=request.request_id,
            holder=request.holder,
            sender=receipt.sender,
            amount=receipt.amount,
            transfer_time=receipt.time_ms,
            now_ms=self.now_ms,
        )
        if not claimed:
            if explicit:
                earlier = repo.reference(self.store, receipt.reference) or {}
                self.record(
                    Outcome.REUSED,
                    f"{receipt.reference} already paid towards {earlier.get('purpose')}"
                    f" {earlier.get('request_id')}: a transfer verifies one payment, ever",
                    receipt,
                )
            return None  # a scan meets its own earlier receipts again: already counted
        legs = economy.deposit_legs(
            request.holder,
            receipt.amount,
            reference=receipt.reference,
            reason=f"{self.verification.verifier} receipt for {_what(request)}",
        )
        economy.book(self.store, economy.deposit_txn(receipt.reference), legs, now_ms=self.now_ms)
        return legs[0].amount


def _what(request: PaymentRequest) -> str:
    return f"{request.purpose.value.replace('_', ' ')} {request.request_id}"


def _usdc(amount: Decimal) -> str:
    return to_text(amount)


def _when(ms: int) -> str:
    from autotrader.core.clock import iso_utc

    return iso_utc(ms)
