"""Live execution's value types (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from autotrader.live.vocabulary import DriftKind, OrderOutcome, OrderPurpose


@dataclass(frozen=True)
class OrderRequest:
    """One order as we mean to send it: IOC at ``limit_price`` (the worst price we accept)."""

    account_id: int
    symbol: str
    side: str  # buy | sell
    qty: Decimal
    limit_price: Decimal
    reduce_only: bool
    purpose: OrderPurpose
    cloid: str
    idempotency_key: str | None

    @property
    def worst_notional(self) -> Decimal:
        return self.qty * self.limit_price


@dataclass(frozen=True)
class ExchangeFill:
    """One fill as the exchange reported it."""

    qty: Decimal
    price: Decimal
    fee: Decimal


@dataclass(frozen=True)
class Execution:
    """What the exchange did with one order: its id and fills, or its refusal message."""

    exchange_oid: str | None
    fills: tuple[ExchangeFill, ...] = ()
    refusal: str | None = None

    @property
    def filled_qty(self) -> Decimal:
        return sum((f.qty for f in self.fills), Decimal(0))

    @property
    def avg_price(self) -> Decimal | None:
        qty = self.filled_qty
        if not qty:
            return None
        return sum((f.qty * f.price for f in self.fills), Decimal(0)) / qty

    @property
    def fee(self) -> Decimal:
        return sum((f.fee for f in self.fills), Decimal(0))


@dataclass(frozen=True)
class OrderRecord:
    """A ``live_orders`` row."""

    cloid: str
    account_id: int
    venue: str
    symbol: str
    purpose: OrderPurpose
    side: str
    qty: Decimal
    limit_price: Decimal
    reduce_only: bool
    outcome: OrderOutcome
    exchange_oid: str | None
    filled_qty: Decimal
    avg_price: Decimal | None
    fee: Decimal
    message: str | None
    idempotency_key: str | None
    created_at: int


@dataclass(frozen=True)
class ExchangePosition:
    symbol: str
    size: Decimal  # signed: + long, − short
    entry_price: Decimal
    notional: Decimal


@dataclass(frozen=True)
class AccountSnapshot:
    """The wallet as the exchange sees it."""

    account_value: Decimal
    total_notional: Decimal
    positions: tuple[ExchangePosition, ...]


@dataclass(frozen=True)
class Drift:
    """One difference reconciliation found between a venue's wallet and the store."""

    venue: str
    kind: DriftKind
    symbol: str | None
    exchange_value: str | None
    store_value: str | None
    detail: str
