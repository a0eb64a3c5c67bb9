"""The settlement math of one race: who gets what from its pool. Pure: no I/O, no clock.

The pool is the sum of the paid tickets. It is split, in whole units of 0.000001 USDC:

1. **rake** — ``rake_share`` of the pool, rounded down, to the protocol;
2. **creator pool** — ``creator_share`` of the pool, rounded down, shared as **royalties** by
   the owners of the top finishers: the k-th finisher's owner gets ``royalty_weights[k]`` over
   the sum of the weights of the positions the race has (a two-entrant race shares the creator
   pool between its two finishers);
3. **distribution pool** — the rest, shared by the ticket holders of the paying positions
   (``payout_weights``): a position's share is its weight over the weights of the paying
   positions *that have tickets* — a paying position nobody backed passes its share on to the
   others, pro rata to their weights — and a holder gets its stake over all stakes on that
   entrant of that share. When no paying position has a ticket, the distribution pool is
   **unclaimed** and goes to the protocol.

Every royalty and payout is the exact rational amount rounded down to the unit (a holder with
stakes on several paying entrants is paid once, on the sum: within one unit of its exact
share). What rounding leaves over is one **dust** row. So, exactly and for every race::

    rake + unclaimed + Σ royalties + Σ payouts + dust == pool

Integer arithmetic in units throughout (weights are exact fractions): no Decimal context, no
float, and the same answer on every machine.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

from autotrader.arena.models import RaceTerms
from autotrader.arena.vocabulary import PayoutKind
from autotrader.lifecycle.economy import PROTOCOL_ROUNDING, UNIT

PROTOCOL_RAKE = "protocol:rake"  # the rake, and a distribution pool nobody could claim


class Stake(NamedTuple):
    """A paid ticket as the settlement sees it: who holds it, on which entrant, how much (a
    tuple: a race may have a hundred thousand)."""

    holder: str
    clone_id: int
    amount: Decimal


@dataclass(frozen=True)
class Row:
    """One line of a settlement: ``amount`` (USDC, on the unit) of ``kind`` to ``holder``.

    A royalty names its finisher (``clone_id``, ``finish``); a payout names the holder's stake
    on paying entrants, and the entrant and its finish when there is only one."""

    kind: PayoutKind
    holder: str
    amount: Decimal
    clone_id: int | None = None
    finish: int | None = None
    stake: Decimal | None = None


@dataclass(frozen=True)
class PoolSplit:
    pool: Decimal
    rake: Decimal
    creator_pool: Decimal
    distribution_pool: Decimal
    rows: tuple[Row, ...]

    def total(self, kind: PayoutKind) -> Decimal:
        return sum((r.amount for r in self.rows if r.kind == kind), Decimal(0))

    @property
    def dust(self) -> Decimal:
        return self.total(PayoutKind.DUST)


def split_pool(
    stakes: Iterable[Stake],
    finish: Sequence[int],
    owners: Mapping[int, str],
    terms: RaceTerms,
) -> PoolSplit:
    """Split the pool of ``stakes`` for a race finished in the order ``finish`` (clone ids,
    winner first) whose finishers belong to ``owners`` (clone id → owner handle).

    Raises ``ValueError`` for a stake off the unit, not positive, or on a clone that did not
    finish, and for a finish order naming a clone twice: the caller's rows are wrong."""
    if len(set(finish)) != len(finish) or not finish:
        raise ValueError(f"a finish order names each finisher once: {list(finish)}")
    finished = set(finish)
    units: list[tuple[str, int, int]] = []  # (holder, clone id, units staked)
    for stake in stakes:
        if stake.clone_id not in finished:
            raise ValueError(f"a stake on clone {stake.clone_id}, which did not finish")
        units.append((stake.holder, stake.clone_id, _units(stake.amount)))
    pool = sum(u for _, _, u in units)
    rake = _floor(pool * Fraction(terms.rake_share))
    creator_pool = _floor(pool * Fraction(terms.creator_share))
    distribution = pool - rake - creator_pool
    rows = [_row(PayoutKind.RAKE, PROTOCOL_RAKE, rake)] if rake else []
    rows += _royalties(creator_pool, finish, owners, terms.royalty_weights)
    rows += _payouts(distribution, units, finish, terms.payout_weights)
    dust = pool - sum(_units(r.amount) for r in rows)
    if dust:
        rows.append(_row(PayoutKind.DUST, PROTOCOL_ROUNDING, dust))
    return PoolSplit(
        pool=_usdc(pool),
        rake=_usdc(rake),
        creator_pool=_usdc(creator_pool),
        distribution_pool=_usdc(distribution),
        rows=tuple(rows),
    )


def _royalties(
    creator_pool: int, finish: Sequence[int], owners: Mapping[int, str], weights
) -> list[Row]:
    ranked = list(zip(finish, weights, strict=False))  # the positions this race has
    whole = sum(Fraction(w) for _, w in ranked)
    rows = []
    for position, (clone_id, weight) in enumerate(ranked, start=1):
        amount = _floor(creator_pool * Fraction(weight) / whole)
        if amount:
            rows.append(
                _row(
                    PayoutKind.ROYALTY, owners[clone_id], amount, clone_id=clone_id, finish=position
                )
            )
    return rows


def _payouts(
    distribution: int, stakes: list[tuple[str, int, int]], finish: Sequence[int], weights
) -> list[Row]:
    paying = {clone_id: position for position, clone_id in enumerate(finish[: len(weights)], 1)}
    backed: dict[int, int] = defaultdict(int)  # position → units staked on its entrant
    held: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))  # holder → position
    for holder, clone_id, units in stakes:
        position = paying.get(clone_id)
        if position is not None:
            backed[position] += units
            held[holder][position] += units
    if not backed:
        return [_row(PayoutKind.UNCLAIMED, PROTOCOL_RAKE, distribution)] if distribution else []
    # Position p's share is n_p / n of the distribution pool (the weights of the backed
    # positions over a common denominator); a holder's exact payout is
    # distribution · Σ_p (n_p / n) · (s_hp / T_p), put over the one denominator n · L.
    fractions = {p: Fraction(weights[p - 1]) for p in backed}
    common = math.lcm(*(f.denominator for f in fractions.values()))
    numerators = {p: f.numerator * (common // f.denominator) for p, f in fractions.items()}
    lcm_backed = math.lcm(*backed.values())
    scale = {p: numerators[p] * (lcm_backed // backed[p]) for p in backed}
    denominator = sum(numerators.values()) * lcm_backed
    by_clone = {position: clone_id for clone_id, position in paying.items()}
    rows = []
    for holder in sorted(held):
        positions = held[holder]
        amount = distribution * sum(scale[p] * units for p, units in positions.items())
        amount //= denominator
        if not amount:
            continue
        only = next(iter(positions)) if len(positions) == 1 else None
        rows.append(
            _row(
                PayoutKind.PAYOUT,
                holder,
                amount,
                stake=_usdc(sum(positions.values())),
                clone_id=by_clone[only] if only else None,
                finish=only,
            )
        )
    return rows


def _row(kind: PayoutKind, holder: str, units: int, **extra) -> Row:
    return Row(kind, holder, _usdc(units), **extra)


def _units(amount: Decimal) -> int:
    """``amount`` in whole units; ``ValueError`` when it is not positive and on the unit."""
    if amount.is_finite() and amount > 0:
        scaled = amount.scaleb(6)  # exact: only the exponent moves
        whole = int(scaled)
        if whole == scaled:
            return whole
    raise ValueError(f"a stake of {amount} is not a positive multiple of {UNIT} USDC")


def _floor(value: Fraction) -> int:
    return value.numerator // value.denominator


def _usdc(units: int) -> Decimal:
    return Decimal(units).scaleb(-6)
