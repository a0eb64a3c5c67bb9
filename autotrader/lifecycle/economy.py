"""The economy ledger: real money (USDC) the product holds for owners and for itself.

Synthetic trading money lives in prop's ledger; what is real — audition fees now; tickets,
payouts, royalties, rake and refunds in the arena — is booked here, and only here. Money is
conserved by construction:

- every booking (a *txn*) is a list of legs appended together; a booking that moves money
  between holders sums to zero, a deposit sums to exactly what arrived;
- amounts are rounded down to the unit, 0.000001 USDC, and what rounding leaves over is its own
  ``ROUNDING`` row on ``protocol:rounding`` — never dropped, never silently kept by anyone;
- each entry carries its holder's balance after it, an owner's balance never goes below zero,
  and the database refuses to update or delete an entry;
- a booking's id is its idempotency key: booking the same txn twice changes nothing.

:func:`verify_economy` rechecks all of it. The arena books through :func:`book` and
:func:`split_down`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError
from autotrader.core.money import ZERO
from autotrader.lifecycle.repo import economy as repo
from autotrader.lifecycle.repo import payments as payments_repo
from autotrader.lifecycle.vocabulary import EconomyKind

UNIT = Decimal("0.000001")  # the smallest USDC amount booked (USDC has six decimals)
MAX_AMOUNT = Decimal(1_000_000_000)  # no single real-money amount here comes near it
PROTOCOL_PREFIX = "protocol:"
PROTOCOL_FEES = "protocol:fees"  # audition fees the product earned
PROTOCOL_ROUNDING = "protocol:rounding"  # what rounding down to the unit left over


@dataclass(frozen=True)
class Leg:
    """One entry of a booking: ``amount`` (signed USDC) to ``holder``."""

    holder: str
    kind: EconomyKind
    amount: Decimal
    reason: str | None = None
    reference: str | None = None


def round_down(amount: Decimal) -> tuple[Decimal, Decimal]:
    """``(amount rounded down to the unit, what is left over)``; the two sum to ``amount``."""
    units = amount.quantize(UNIT, rounding=ROUND_DOWN)
    return units, amount - units


def real_amount(value: Decimal, *, field: str) -> Decimal:
    """``value`` when it is a finite, positive USDC amount no larger than ``MAX_AMOUNT``;
    ``InvalidInputError`` naming ``field`` otherwise (negative, NaN, infinite or huge)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidInputError(f"{field}: {value!r} is not a finite amount")
    if value <= 0:
        raise InvalidInputError(f"{field}: {value} must be more than 0")
    if value > MAX_AMOUNT:
        raise InvalidInputError(f"{field}: {value} is more than {MAX_AMOUNT:,} USDC")
    return value


def split_down(total: Decimal, weights: Sequence[Decimal]) -> tuple[list[Decimal], Decimal]:
    """Split ``total`` in proportion to ``weights``, each part rounded down to the unit; returns
    ``(parts, remainder)`` with ``sum(parts) + remainder == total`` exactly (the remainder is
    booked as a ``ROUNDING`` leg). Weights must be non-negative and not all zero."""
    if any(w < 0 for w in weights) or sum(weights, ZERO) <= 0:
        raise ValueError("weights must be non-negative and not all zero")
    whole = sum(weights, ZERO)
    parts = [round_down(total * w / whole)[0] for w in weights]
    return parts, total - sum(parts, ZERO)


def is_protocol(holder: str) -> bool:
    return holder.startswith(PROTOCOL_PREFIX)


def balance(store: Store, holder: str) -> Decimal:
    """The holder's economy balance (an owner's: their credit with the product)."""
    return repo.balance(store, holder)


def book(store: Store, txn: str, legs: Sequence[Leg], *, now_ms: int) -> bool:
    """Append a booking's legs (inside the caller's transaction, which holds the write lock);
    False when ``txn`` was booked before (nothing changes). Raises ``ValueError`` for a leg
    off the unit (only ``ROUNDING`` legs may be), or one that would take an owner below zero:
    callers check what they book, so either is a bug, never user input."""
    if not legs:
        raise ValueError("a booking needs at least one leg")
    if repo.txn_exists(store, txn):
        return False
    # Every holder's balance in one read and every leg in one statement: a race's settlement
    # books a leg per paid ticket holder (thousands), a fee two.
    running = repo.balances_of(store, {leg.holder for leg in legs})
    entries = []
    for index, leg in enumerate(legs):
        if leg.kind != EconomyKind.ROUNDING and leg.amount != leg.amount.quantize(UNIT):
            raise ValueError(f"{txn}: {leg.amount} is not a multiple of {UNIT} USDC")
        running[leg.holder] = running.get(leg.holder, ZERO) + leg.amount
        if running[leg.holder] < 0 and not is_protocol(leg.holder):
            raise ValueError(f"{txn}: {leg.holder}'s balance would go below zero")
        entry = repo.Entry(txn, index, leg.holder, leg.kind, leg.amount, running[leg.holder],
                           leg.reference, leg.reason)  # fmt: skip
        entries.append(entry)
    repo.append_many(store, entries, now_ms=now_ms)
    return True


def deposit_legs(holder: str, amount: Decimal, *, reference: str, reason: str) -> list[Leg]:
    """Real money that arrived for ``holder``: the amount rounded down to the unit is theirs;
    the remainder, if any, is its own ``ROUNDING`` row."""
    credited, remainder = round_down(amount)
    legs = [Leg(holder, EconomyKind.DEPOSIT, credited, reason, reference)]
    if remainder:
        legs.append(
            Leg(
                PROTOCOL_ROUNDING,
                EconomyKind.ROUNDING,
                remainder,
                f"below {UNIT} USDC of {reference}",
                reference,
            )
        )
    return legs


def deposit_txn(reference: str) -> str:
    """The booking of what one transfer (or manual reference) brought in."""
    return f"deposit:{reference}"


def verify_economy(store: Store) -> list[str]:
    """Every violation of the economy's invariants, one line each (empty when all holds):
    balances chain per holder, moves between holders sum to zero, a deposit sums to what its
    reference brought, amounts sit on the unit (rounding rows aside), owners never go below
    zero."""
    problems: list[str] = []
    running: dict[str, Decimal] = defaultdict(Decimal)
    sums: dict[str, Decimal] = defaultdict(Decimal)
    references = payments_repo.all_references(store)
    deposit_refs: dict[str, str | None] = {}
    for entry_id, txn, holder, kind, amount_text, after_text, reference in repo.all_entries(store):
        amount, after = Decimal(amount_text), Decimal(after_text)
        running[holder] += amount
        sums[txn] += amount
        if after != running[holder]:
            problems.append(
                f"entry {entry_id}: {holder}'s balance after is {after}, its entries sum to"
                f" {running[holder]}"
            )
        if kind != EconomyKind.ROUNDING and amount != amount.quantize(UNIT):
            problems.append(f"entry {entry_id}: {amount} is not a multiple of {UNIT}")
        if after < 0 and not is_protocol(holder):
            problems.append(f"entry {entry_id}: {holder}'s balance is below zero ({after})")
        if txn.startswith("deposit:"):
            deposit_refs[txn] = reference
    for txn, total in sums.items():
        if txn in deposit_refs:
            brought = references.get(txn.removeprefix("deposit:"))
            if brought is None:
                problems.append(f"{txn}: no payment reference brought this deposit")
            elif total != Decimal(brought):
                problems.append(f"{txn}: books {total}, its transfer brought {brought}")
        elif total != 0:
            problems.append(f"{txn}: its legs sum to {total}, not 0")
    return problems


def ledger_view(
    store: Store, *, holder: str | None = None, limit: int = 50
) -> tuple[list[dict], dict[str, Decimal], list[str]]:
    """Entries newest first (of ``holder``), every balance, and the violations of
    :func:`verify_economy` — what ``lifecycle economy show`` prints."""
    return (
        repo.entries(store, holder=holder, limit=limit),
        repo.balances(store),
        verify_economy(store),
    )
