"""Real money is conserved by construction: rounded down to the unit with the remainder its own
row, every booking balanced, balances chained, nothing updated or deleted."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autotrader.core.errors import InvalidInputError, OperationalError
from autotrader.lifecycle import economy
from autotrader.lifecycle.economy import UNIT, Leg, book, real_amount, round_down, split_down
from autotrader.lifecycle.vocabulary import EconomyKind
from tests.fakes.lifecycle import lifecycle_store

amounts = st.decimals(min_value=Decimal("0.0000001"), max_value=Decimal(10**9), places=9)


@given(amounts)
def test_rounding_down_keeps_every_fraction_of_a_cent(amount):
    units, remainder = round_down(amount)
    assert units + remainder == amount
    assert units == units.quantize(UNIT)
    assert 0 <= remainder < UNIT


@given(amounts, st.lists(st.decimals(min_value=0, max_value=1000, places=3), min_size=1,
                         max_size=20).filter(lambda w: sum(w) > 0))  # fmt: skip
def test_a_split_rounds_each_part_down_and_the_parts_sum_to_the_whole(total, weights):
    parts, remainder = split_down(total, weights)
    assert sum(parts, Decimal(0)) + remainder == total
    assert all(p == p.quantize(UNIT) and p >= 0 for p in parts)
    assert 0 <= remainder < UNIT * len(weights) + UNIT


@pytest.mark.parametrize("value", [Decimal(-1), Decimal(0), Decimal("NaN"), Decimal("Infinity"),
                                   Decimal("1e10")])  # fmt: skip
def test_refuses_negative_nan_and_huge_amounts(value):
    with pytest.raises(InvalidInputError, match="--amount"):
        real_amount(value, field="--amount")


@pytest.fixture
def store(tmp_path):
    store, _ = lifecycle_store(tmp_path / "economy.db")
    yield store
    store.close()


def test_a_booking_is_booked_once_and_chains_each_holders_balance(store):
    legs = [Leg("alice", EconomyKind.DEPOSIT, Decimal(10))]
    assert book(store, "deposit:x", legs, now_ms=1)
    assert not book(store, "deposit:x", legs, now_ms=2)
    fee = [
        Leg("alice", EconomyKind.AUDITION_FEE, Decimal(-4)),
        Leg("protocol:fees", EconomyKind.AUDITION_FEE, Decimal(4)),
    ]
    book(store, "fee:1", fee, now_ms=3)
    assert economy.balance(store, "alice") == Decimal(6)
    assert economy.balance(store, "protocol:fees") == Decimal(4)


def test_refuses_to_take_an_owner_below_zero_or_off_the_unit(store):
    with pytest.raises(ValueError, match="below zero"):
        book(store, "t", [Leg("alice", EconomyKind.AUDITION_FEE, Decimal(-1))], now_ms=1)
    with pytest.raises(ValueError, match="not a multiple"):
        book(store, "t", [Leg("alice", EconomyKind.DEPOSIT, Decimal("0.0000001"))], now_ms=1)


def test_the_economy_ledger_refuses_updates_and_deletes(store):
    book(store, "deposit:x", [Leg("alice", EconomyKind.DEPOSIT, Decimal(1))], now_ms=1)
    with pytest.raises(OperationalError, match="append-only"):
        store.execute("UPDATE economy_entries SET amount = '100'")
    with pytest.raises(OperationalError, match="append-only"):
        store.execute("DELETE FROM economy_entries")


def test_verify_names_a_booking_that_does_not_balance(store):
    book(store, "fee:9", [Leg("protocol:fees", EconomyKind.AUDITION_FEE, Decimal(4))], now_ms=1)
    assert economy.verify_economy(store) == ["fee:9: its legs sum to 4, not 0"]
