"""Tickets: an owner backs an entrant of an accumulating race with real USDC.

Buying records a pending ticket — its amount, a unique reference, a window that closes after
``ARENA_TICKET_EXPIRY_HOURS`` or at the race's start, whichever is first. It is paid the way an
audition fee is: a payment verifier (an admin's manual attestation, or the treasury's
Hyperliquid transfers) reports what arrived and ``lifecycle.payments.settle`` books it — each
transfer pays at most one payment, ever; money that arrives late or short stays the owner's
credit, never lost — with the race's pool as the payee (``arena.booking``). A ticket whose
payment arrived within its window is paid even when the verification comes after the start;
once the race settles, its pool is closed.

The reconciliation (the races job) verifies pending tickets from the treasury's transfers and
expires those still unpaid after their window; a ticket the treasury could not be asked about is
not expired that time. Bad input — an amount that is zero, negative, not a number, off the unit
or outside the limits, an unknown owner, a clone that is not an entrant, a race past its
accumulation, a payment reference used before — is refused with one line and changes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from autotrader.arena import booking
from autotrader.arena.models import ArenaPolicy
from autotrader.arena.races import require_race
from autotrader.arena.repo import races as races_repo
from autotrader.arena.repo import tickets as repo
from autotrader.arena.vocabulary import EntrantStatus, RaceStatus, TicketStatus
from autotrader.clones.owners import require_owner, validate_handle
from autotrader.core.clock import Clock, iso_utc
from autotrader.core.db import Store
from autotrader.core.errors import ConflictError, InvalidInputError, NotFoundError, TemporaryError
from autotrader.lifecycle import economy, payments
from autotrader.lifecycle.models import PaymentRequest, Settlement, Verification, Verifier
from autotrader.lifecycle.repo import payments as payments_repo
from autotrader.lifecycle.vocabulary import EconomyKind, PaymentPurpose

if TYPE_CHECKING:
    from autotrader.lifecycle.verifiers import HyperliquidVerifier

_PAYABLE_RACES = (RaceStatus.ACCUMULATING, RaceStatus.LIVE)


@dataclass
class TicketVerification:
    ticket: dict
    settlement: Settlement


@dataclass
class ReconcileReport:
    scanned: int = 0
    paid: list[int] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)
    outcomes: int = 0
    error: str | None = None

    def summary(self) -> str:
        text = (
            f"{self.scanned} pending tickets scanned, {len(self.paid)} paid, "
            f"{len(self.expired)} expired"
        )
        return text + (f"; treasury unreadable: {self.error}" if self.error else "")


def require_ticket(store: Store, ticket_id: int) -> dict:
    ticket = repo.get_ticket(store, ticket_id)
    if ticket is None:
        raise NotFoundError(f"ticket {ticket_id} does not exist (see `arena tickets list`)")
    return ticket


def list_tickets(
    store: Store,
    *,
    race_id: int | None = None,
    owner: str | None = None,
    status: str | None = None,
) -> list[dict]:
    if status is not None:
        TicketStatus(status)
    return repo.list_tickets(store, race_id=race_id, owner=owner, status=status)


def ticket_detail(store: Store, ticket_id: int) -> dict:
    """The ticket with every verification outcome and every reference that paid towards it."""
    ticket = require_ticket(store, ticket_id)
    ticket["outcomes"] = payments_repo.outcomes(store, PaymentPurpose.TICKET, ticket_id)
    ticket["references"] = payments_repo.references_of(store, PaymentPurpose.TICKET, ticket_id)
    return ticket


def ticket_amount(amount: Decimal, policy: ArenaPolicy) -> Decimal:
    """``amount`` when it is a real USDC amount on the unit within the ticket limits;
    ``InvalidInputError`` naming ``--amount`` otherwise."""
    economy.real_amount(amount, field="--amount")
    if amount != amount.quantize(economy.UNIT):
        raise InvalidInputError(f"--amount: {amount} has more than six decimals (USDC)")
    if not policy.ticket_min <= amount <= policy.ticket_max:
        raise InvalidInputError(
            f"--amount: a ticket costs {policy.ticket_min} to {policy.ticket_max} USDC,"
            f" not {amount}"
        )
    return amount


def buy(
    store: Store,
    clock: Clock,
    *,
    race_id: int,
    clone_id: int,
    owner: str,
    amount: Decimal,
    policy: ArenaPolicy,
) -> dict:
    """A pending ticket of ``owner`` on entrant ``clone_id`` of an accumulating race (see the
    module docstring for what is refused)."""
    amount = ticket_amount(amount, policy)
    validate_handle(owner)
    now = clock.now_ms()
    with store.atomic():
        race = require_race(store, race_id)
        if race["status"] != RaceStatus.ACCUMULATING or now >= race["starts_at"]:
            raise ConflictError(
                f"race {race_id} is {race['status']}: tickets are sold only while it"
                f" accumulates, until its start {iso_utc(race['starts_at'])}"
            )
        entrants = races_repo.entrants(store, race_id)
        entered = [e["clone_id"] for e in entrants if e["status"] == EntrantStatus.ENTERED]
        if clone_id not in entered:
            raise InvalidInputError(
                f"--clone-id: clone {clone_id} is not an entrant of race {race_id}"
                f" (entrants: {', '.join(map(str, entered))})"
            )
        holder = require_owner(store, owner)
        ticket_id = repo.insert_ticket(
            store,
            race_id=race_id,
            clone_id=clone_id,
            owner=holder.handle,
            payer_address=holder.evm_address,
            amount=amount,
            reference=f"AT-{race_id}-{secrets.token_hex(5).upper()}",
            now_ms=now,
            expires_at=min(now + policy.ticket_expiry_ms, race["starts_at"]),
        )
    return require_ticket(store, ticket_id)


def payment_request(ticket: dict, *, transfer: str | None = None) -> PaymentRequest:
    return PaymentRequest(
        purpose=PaymentPurpose.TICKET,
        request_id=ticket["id"],
        holder=ticket["owner"],
        payer_address=ticket["payer_address"],
        amount=ticket["amount"],
        opens_at=ticket["created_at"],
        expires_at=ticket["expires_at"],
        transfer=transfer,
    )


def verify_ticket(
    store: Store,
    clock: Clock,
    ticket_id: int,
    verifier: Verifier,
    *,
    actor: str,
    transfer: str | None = None,
) -> TicketVerification:
    """Ask ``verifier`` about the ticket and settle what it reports.

    Refuses, with nothing changed: a ticket that is not pending, one whose race's pool is
    closed, and a payment reference (the manual one, or the named transfer) that already paid
    something. What the verifier finds is recorded; the ticket is paid when the money arrived
    within its window."""
    ticket = require_ticket(store, ticket_id)
    _refuse_unpayable(store, ticket)
    _refuse_reused(store, transfer)
    verification = verifier.verify(payment_request(ticket, transfer=transfer))
    with store.atomic():
        ticket = require_ticket(store, ticket_id)  # under the write lock: another may have won
        _refuse_unpayable(store, ticket)
        if not verification.scanned:  # a reference named by hand, or a named transfer
            for receipt in verification.receipts:
                _refuse_reused(store, receipt.reference)
        settlement = _settle(store, clock, ticket, verification, actor=actor)
    return TicketVerification(require_ticket(store, ticket_id), settlement)


def _refuse_unpayable(store: Store, ticket: dict) -> None:
    if ticket["status"] != TicketStatus.PENDING:
        raise ConflictError(f"ticket {ticket['id']} is {ticket['status']}, not pending")
    race = require_race(store, ticket["race_id"])
    if race["status"] not in _PAYABLE_RACES:
        raise ConflictError(
            f"race {race['id']} is {race['status']}: its pool is closed to ticket {ticket['id']}"
        )


def _refuse_reused(store: Store, reference: str | None) -> None:
    if reference is None:
        return
    earlier = payments_repo.reference(store, reference)
    if earlier is not None:
        raise ConflictError(
            f"{reference} already paid towards {earlier['purpose']} {earlier['request_id']}:"
            " a transfer verifies one payment, ever"
        )


def _settle(
    store: Store, clock: Clock, ticket: dict, verification: Verification, *, actor: str
) -> Settlement:
    """Settle inside the caller's transaction; mark the ticket paid when it is."""
    now = clock.now_ms()
    settlement = payments.settle(
        store,
        payment_request(ticket),
        verification,
        payee=booking.pool_holder(ticket["race_id"]),
        kind=EconomyKind.TICKET,
        actor=actor,
        now_ms=now,
    )
    if settlement.paid:
        transfer = verification.receipts[0].reference if verification.receipts else None
        repo.mark_paid(
            store,
            ticket["id"],
            verifier=str(verification.verifier),
            actor=actor,
            transfer_reference=transfer,
            note=verification.note,
            now_ms=now,
        )
    return settlement


def reconcile(
    store: Store, clock: Clock, *, verifier: HyperliquidVerifier | None, actor: str
) -> ReconcileReport:
    """One pass over pending tickets: pay those the treasury's transfers pay (when a treasury
    is configured), then expire those still unpaid after their window — except the ones the
    treasury could not be asked about this time (the report says why)."""
    report = ReconcileReport()
    pending = repo.pending(store)
    report.scanned = len(pending)
    scannable = [t for t in pending if t["payer_address"]] if verifier else []
    unchecked: set[int] = set()
    if scannable:
        try:
            found = verifier.verify_many([payment_request(t) for t in scannable])  # type: ignore[union-attr]
        except TemporaryError as exc:
            report.error = str(exc)
            unchecked = {t["id"] for t in scannable}
            found = {}
        for ticket in scannable:
            verification = found.get(ticket["id"])
            if verification is None or not (verification.receipts or verification.findings):
                continue
            with store.atomic():
                current = require_ticket(store, ticket["id"])
                race = require_race(store, current["race_id"])
                if current["status"] != TicketStatus.PENDING or race["status"] not in (
                    _PAYABLE_RACES
                ):
                    continue  # verified by hand, or its race settled, meanwhile
                settlement = _settle(store, clock, current, verification, actor=actor)
            report.outcomes += len(settlement.outcomes)
            if settlement.paid:
                report.paid.append(ticket["id"])
    now = clock.now_ms()
    stale = [
        t["id"]
        for t in pending
        if t["id"] not in unchecked and t["id"] not in report.paid and t["expires_at"] < now
    ]
    if stale:
        with store.atomic():
            repo.expire(store, stale, reason="unpaid when its window closed", now_ms=now)
        report.expired = stale
    return report
