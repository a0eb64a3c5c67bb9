"""Payment verifiers: who says money reached the treasury for a payment request.

Both implement ``verify(request) -> Verification`` (``lifecycle.models.Verifier``) and never
write: settling what they report is ``lifecycle.payments.settle``'s job, under the write lock.

- :class:`ManualVerifier` — an admin attests a payment by its reference (a bank wire, a hash
  checked by hand) with a reason; recorded like any other.
- :class:`HyperliquidVerifier` — reads the treasury address's ``userNonFundingLedgerUpdates``
  through the Hyperliquid client and keeps the USDC transfers *to the treasury*: from the
  owner's address, they are receipts (the settlement judges amount and time); a named transfer
  from another address is a wrong sender; a transfer row that cannot be read is malformed (never
  a crash, never credited). Deposits, withdrawals and other updates are not payments.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from autotrader.core.clock import Clock
from autotrader.core.errors import InvalidInputError, NotFoundError
from autotrader.core.evm import checksum_address, is_address
from autotrader.lifecycle.economy import MAX_AMOUNT
from autotrader.lifecycle.models import Finding, PaymentRequest, Receipt, Verification
from autotrader.lifecycle.vocabulary import Outcome, VerifierName

log = logging.getLogger("autotrader.lifecycle.verifiers")

_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")
_AMOUNT = re.compile(r"^[0-9]{1,16}(\.[0-9]{1,18})?$")
_MIN_TIME_MS, _MAX_TIME_MS = 946_684_800_000, 4_102_444_800_000  # 2000 … 2100
# Ledger updates that move USDC from one address to another, and the field holding the amount.
_TRANSFER_AMOUNT = {
    "internalTransfer": "usdc",
    "subAccountTransfer": "usdc",
    "send": "amount",
    "spotTransfer": "amount",
}
PAGE_LIMIT = 2000  # Hyperliquid answers a time-ranged info query with at most this many rows
MAX_REFERENCE = 128


def normalize_reference(text: str, *, field: str = "--reference") -> str:
    """A payment reference as it is claimed: a transfer hash in lowercase, anything else as
    typed (trimmed). Refuses empty, over-long or control-character references."""
    value = text.strip() if isinstance(text, str) else ""
    if not value or len(value) > MAX_REFERENCE or not value.isprintable():
        raise InvalidInputError(
            f"{field}: give the transfer's hash or reference (1–{MAX_REFERENCE} printable"
            " characters)"
        )
    return value.lower() if _HASH.match(value) else value


class ManualVerifier:
    """An admin's attestation that ``amount`` (default: what is owed) arrived as ``reference``."""

    name = VerifierName.MANUAL

    def __init__(
        self, clock: Clock, *, reference: str, reason: str, amount: Decimal | None = None
    ) -> None:
        if not reason or not reason.strip():
            raise InvalidInputError("--reason is required: a manual verification is an admin act")
        self.clock = clock
        self.reference = normalize_reference(reference)
        self.reason = reason.strip()
        self.amount = amount

    def verify(self, request: PaymentRequest) -> Verification:
        amount = request.amount if self.amount is None else self.amount
        receipt = Receipt(self.reference, amount, self.clock.now_ms(), sender=None)
        return Verification(self.name, receipts=(receipt,), note=self.reason)


class LedgerUpdates(Protocol):
    """The Hyperliquid client's read of an address's ledger updates (raw rows)."""

    def ledger_updates(self, user: str, *, since_ms: int, until_ms: int) -> list[Any]: ...


@dataclass(frozen=True)
class Transfer:
    """A USDC transfer into the treasury, read from one ledger update."""

    hash: str  # lowercase
    time_ms: int
    sender: str  # EIP-55
    amount: Decimal


class HyperliquidVerifier:
    """Matches the treasury's incoming Hyperliquid transfers against payment requests."""

    name = VerifierName.HYPERLIQUID

    def __init__(self, client: LedgerUpdates, clock: Clock, *, treasury: str) -> None:
        self.client = client
        self.clock = clock
        self.treasury = checksum_address(treasury, field="AUTOTRADER_TREASURY_ADDRESS")

    def verify(self, request: PaymentRequest) -> Verification:
        return self.verify_many([request])[request.request_id]

    def verify_many(self, requests: Sequence[PaymentRequest]) -> dict[int, Verification]:
        """One read of the treasury's updates since the oldest request opened, matched against
        each request; keyed by request id. Raises ``InvalidInputError`` for a request without a
        payer address, ``NotFoundError`` for a named transfer the treasury never received,
        ``TemporaryError`` when the exchange cannot be read."""
        if not requests:
            return {}
        for request in requests:
            if request.payer_address is None:
                raise InvalidInputError(
                    f"{request.purpose} {request.request_id} names no payer address (its owner"
                    " had none when it was requested): verify it by hand with --reference"
                )
        until = self.clock.now_ms()
        transfers, unreadable = self.transfers(min(r.opens_at for r in requests), until)
        return {r.request_id: self._match(r, transfers, unreadable) for r in requests}

    def transfers(self, since_ms: int, until_ms: int) -> tuple[list[Transfer], list[Finding]]:
        """USDC transfers into the treasury in the range, oldest first, and the transfer rows
        that could not be read (each as a MALFORMED finding)."""
        rows = self._rows(since_ms, until_ms)
        transfers: dict[str, Transfer] = {}
        unreadable: list[Finding] = []
        for index, row in enumerate(rows):
            read = self._read(row, index)
            if isinstance(read, Transfer):
                transfers.setdefault(read.hash, read)
            elif read is not None:
                unreadable.append(read)
        ordered = sorted(transfers.values(), key=lambda t: (t.time_ms, t.hash))
        return ordered, unreadable

    def _rows(self, since_ms: int, until_ms: int) -> list[Any]:
        """Every update in the range: a full page is split in halves until none is, whichever
        order the exchange pages in (a row on a split's edge may come twice: deduplicated by
        hash)."""
        rows = self.client.ledger_updates(self.treasury, since_ms=since_ms, until_ms=until_ms)
        if len(rows) < PAGE_LIMIT or until_ms <= since_ms:
            return rows
        middle = (since_ms + until_ms) // 2
        return self._rows(since_ms, middle) + self._rows(middle + 1, until_ms)

    def _read(self, row: Any, index: int) -> Transfer | Finding | None:
        """A transfer into the treasury, a MALFORMED finding, or None: not a payment to it."""
        if not isinstance(row, dict) or not isinstance(row.get("delta"), dict):
            return Finding(Outcome.MALFORMED, f"update {index}: not a ledger update object")
        delta = row["delta"]
        field = _TRANSFER_AMOUNT.get(delta.get("type"))  # type: ignore[arg-type]
        if field is None or not is_address(delta.get("destination")):
            return None  # a deposit, a withdrawal, a vault move…: not a payment to anyone here
        # Exchanges answer in lowercase; compared without case, so a row whose mixed case
        # breaks its checksum is still read (and judged by its other fields), never a crash.
        if delta["destination"].lower() != self.treasury.lower():
            return None  # the treasury paying out, or someone else's transfer
        reference = row.get("hash")
        reference = reference.lower() if isinstance(reference, str) else None
        sender = delta.get("user")
        sender = checksum_address(sender.lower()) if is_address(sender) else None
        problems = []
        if reference is None or not _HASH.match(reference):
            problems.append("no transaction hash")
        if sender is None:
            problems.append("no sender address")
        time_ms = row.get("time")
        if isinstance(time_ms, bool) or not isinstance(time_ms, int):
            problems.append("no time")
        elif not _MIN_TIME_MS <= time_ms < _MAX_TIME_MS:
            problems.append(f"time {time_ms} is out of range")
        token = delta.get("token", "USDC")
        if not isinstance(token, str) or token.split(":")[0] != "USDC":
            problems.append(f"token {token!r} is not USDC")
        amount = _amount(delta.get(field))
        if amount is None:
            problems.append(f"{field} {delta.get(field)!r} is not a positive USDC amount")
        if problems:
            log.warning("treasury update %s unreadable: %s", index, "; ".join(problems))
            return Finding(
                Outcome.MALFORMED,
                f"transfer {reference or f'at update {index}'} into the treasury cannot be read: "
                + "; ".join(problems),
                reference=reference if reference and _HASH.match(reference) else None,
                sender=sender,
            )
        return Transfer(reference, time_ms, sender, amount)  # type: ignore[arg-type]

    def _match(
        self, request: PaymentRequest, transfers: list[Transfer], unreadable: Iterable[Finding]
    ) -> Verification:
        payer = request.payer_address
        relevant = [
            f
            for f in unreadable
            if (request.transfer and f.reference == request.transfer)
            or (request.transfer is None and f.sender == payer)
        ]
        if request.transfer is not None:
            named = next((t for t in transfers if t.hash == request.transfer), None)
            if named is None:
                if relevant:
                    return Verification(self.name, findings=tuple(relevant))
                raise NotFoundError(
                    f"transfer {request.transfer} is not among the treasury's incoming transfers"
                    f" since {request.purpose} {request.request_id} was requested"
                )
            if named.sender != payer:
                finding = Finding(
                    Outcome.WRONG_SENDER,
                    f"{named.hash} came from {named.sender}, not the owner's {payer}: not credited",
                    named.hash,
                    named.sender,
                    named.amount,
                    named.time_ms,
                )
                return Verification(self.name, findings=(finding,))
            return Verification(self.name, receipts=(_receipt(named),))
        mine = tuple(
            _receipt(t) for t in transfers if t.sender == payer and t.time_ms >= request.opens_at
        )
        return Verification(self.name, receipts=mine, findings=tuple(relevant), scanned=True)


def _receipt(transfer: Transfer) -> Receipt:
    return Receipt(transfer.hash, transfer.amount, transfer.time_ms, transfer.sender)


def _amount(value: Any) -> Decimal | None:
    """A positive, finite USDC amount from the exchange's decimal string, else None."""
    if not isinstance(value, str) or not _AMOUNT.match(value):
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    return amount if 0 < amount <= MAX_AMOUNT else None
