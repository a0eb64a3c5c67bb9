"""Lifecycle records and contracts. No I/O here.

:class:`AuditionRules` is the one place an audition's rules live (from settings, fixed into each
audition when it starts, shown by ``lifecycle rules show``). :class:`PaymentRequest`,
:class:`Receipt` and :class:`Verification` are the payment verifier's contract: a verifier
reports what reached the treasury for a request; the settlement (``lifecycle.payments``)
decides, under the write lock, what that pays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict, Field

from autotrader.core.clock import HOUR_MS
from autotrader.lifecycle.vocabulary import Outcome, PaymentPurpose, VerifierName
from autotrader.prop.models import AccountRules

if TYPE_CHECKING:
    from autotrader.core.settings import Settings

_Percent = Field(ge=-100, le=1_000_000)


class PassCriteria(BaseModel):
    """What an audition must reach, each compared with ≥ or ≤ (percentages, not fractions)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_return_pct: Decimal = _Percent
    max_drawdown_pct: Decimal = Field(ge=0, le=100)
    min_sharpe: float | None = Field(
        ge=-1000, le=1000, allow_inf_nan=False, description="None: Sharpe is not judged."
    )
    min_trades: int = Field(ge=0, le=100_000)


class AuditionRules(BaseModel):
    """An audition's bounded account and how it is judged. Amounts are Decimal (USDC)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    starting_balance: Decimal = Field(gt=0, le=Decimal("1e12"))
    max_leverage: int = Field(ge=1, le=100)
    max_drawdown: Decimal = Field(gt=0, le=1, description="Fraction that freezes the account.")
    allowed_symbols: tuple[str, ...] = ()
    duration_ms: int = Field(gt=0)
    criteria: PassCriteria

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditionRules:
        symbols = tuple(
            s.strip().upper() for s in settings.audition_symbols.split(",") if s.strip()
        )
        return cls(
            starting_balance=settings.audition_balance,
            max_leverage=settings.audition_max_leverage,
            max_drawdown=settings.audition_max_drawdown,
            allowed_symbols=symbols,
            duration_ms=round(settings.audition_duration_hours * HOUR_MS),
            criteria=PassCriteria(
                min_return_pct=settings.audition_pass_return_pct,
                max_drawdown_pct=settings.audition_pass_max_drawdown_pct,
                min_sharpe=settings.audition_pass_sharpe,
                min_trades=settings.audition_min_trades,
            ),
        )

    def account_rules(self) -> AccountRules:
        """The prop account limits the gates apply during the audition."""
        return AccountRules(
            max_leverage=self.max_leverage,
            max_drawdown=self.max_drawdown,
            allowed_symbols=self.allowed_symbols,
        )


@dataclass(frozen=True)
class Criterion:
    """One pass criterion as judged: its value, the threshold, and whether it held."""

    name: str
    value: float | Decimal | int | None
    comparator: str  # ">=" or "<="
    threshold: float | Decimal | int
    passed: bool


# -- payments ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRequest:
    """What is owed, by whom, from where, until when — a fee now, a ticket in the arena."""

    purpose: PaymentPurpose
    request_id: int
    holder: str  # the owner credited with what arrives
    payer_address: str | None  # EIP-55; None: only a manual verification can pay it
    amount: Decimal
    opens_at: int  # epoch ms: transfers before it pay something else
    expires_at: int  # epoch ms: transfers after it are late
    transfer: str | None = None  # a transfer the owner named (its hash), when they did


@dataclass(frozen=True)
class Receipt:
    """Money a verifier saw reach the treasury: a transfer, or an admin's attestation."""

    reference: str  # the transfer hash (lowercase) or the manual reference
    amount: Decimal  # USDC, exactly as reported
    time_ms: int
    sender: str | None  # EIP-55; None for a manual attestation


@dataclass(frozen=True)
class Finding:
    """A transfer a verifier saw but cannot credit to the request, and why."""

    outcome: Outcome  # WRONG_SENDER or MALFORMED
    reason: str
    reference: str | None = None
    sender: str | None = None
    amount: Decimal | None = None
    time_ms: int | None = None


@dataclass(frozen=True)
class Verification:
    """A verifier's report for one request: what it may credit, and what it refused."""

    verifier: VerifierName
    receipts: tuple[Receipt, ...] = ()
    findings: tuple[Finding, ...] = ()
    scanned: bool = False  # searched the treasury's transfers, rather than told of one
    note: str | None = None  # the admin's reason, for a manual attestation


class Verifier(Protocol):
    """Reports the money that reached the treasury for a payment request."""

    name: VerifierName

    def verify(self, request: PaymentRequest) -> Verification: ...


@dataclass
class RecordedOutcome:
    """One outcome as the settlement recorded it."""

    outcome: Outcome
    reason: str
    reference: str | None = None
    amount: Decimal | None = None


@dataclass
class Settlement:
    """What settling a verification did: each recorded outcome, and whether it paid."""

    paid: bool
    outcomes: list[RecordedOutcome] = field(default_factory=list)
    balance: Decimal = Decimal(0)  # the holder's economy balance afterwards (their credit)
