"""The settlement math: hand-computed reference races, and properties over random ones — the
rows always sum to the pool exactly, nothing is negative, every holder and finisher is within
one unit of its exact share, and the same race always splits the same way."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autotrader.arena.models import RaceTerms
from autotrader.arena.parimutuel import PROTOCOL_RAKE, Stake, split_pool
from autotrader.arena.vocabulary import PayoutKind
from autotrader.lifecycle.economy import PROTOCOL_ROUNDING, UNIT
from tests.conftest import examples

D = Decimal
OWNERS = {1: "owner-1", 2: "owner-2", 3: "owner-3", 4: "owner-4", 5: "owner-5"}


def terms(rake="0.05", creator="0.10", payout=("0.6", "0.25", "0.15"),
          royalty=("0.5", "0.3", "0.2")):  # fmt: skip
    return RaceTerms(rake_share=D(rake), creator_share=D(creator),
                     payout_weights=tuple(map(D, payout)), royalty_weights=tuple(map(D, royalty)),
                     min_entrants=2)  # fmt: skip


def table(split) -> list[tuple]:
    return [(str(r.kind), r.holder, r.amount, r.clone_id, r.finish) for r in split.rows]


def test_a_two_entrant_race_splits_by_hand():
    # pool 60: rake 5 % = 3; creator pool 10 % = 6, shared 0.5 : 0.3 by the two finishers;
    # distribution 51, shared 0.6 : 0.25 by the two paying positions (36 and 15).
    split = split_pool(
        [Stake("alice", 1, D(10)), Stake("bob", 1, D(30)), Stake("carol", 2, D(20))],
        [1, 2], OWNERS, terms(),
    )  # fmt: skip
    assert (split.pool, split.rake, split.creator_pool, split.distribution_pool) == (
        D(60),
        D(3),
        D(6),
        D(51),
    )
    assert table(split) == [
        ("rake", PROTOCOL_RAKE, D(3), None, None),
        ("royalty", "owner-1", D("3.75"), 1, 1),
        ("royalty", "owner-2", D("2.25"), 2, 2),
        ("payout", "alice", D(9), 1, 1),  # 10/40 of 36
        ("payout", "bob", D(27), 1, 1),
        ("payout", "carol", D(15), 2, 2),
    ]
    assert split.dust == 0


def test_a_paying_position_nobody_backed_passes_its_share_to_the_others_pro_rata():
    # pool 3: rake 0.15, creator 0.3, distribution 2.55. Nobody backed 2nd: 1st and 3rd share
    # it 0.6 : 0.15, i.e. 2.04 and 0.51.
    split = split_pool(
        [Stake("alice", 1, D(1)), Stake("bob", 1, D(1)), Stake("carol", 3, D(1))],
        [1, 2, 3], OWNERS, terms(),
    )  # fmt: skip
    payouts = [(r.holder, r.amount) for r in split.rows if r.kind == PayoutKind.PAYOUT]
    assert payouts == [("alice", D("1.02")), ("bob", D("1.02")), ("carol", D("0.51"))]
    royalties = [r.amount for r in split.rows if r.kind == PayoutKind.ROYALTY]
    assert royalties == [D("0.15"), D("0.09"), D("0.06")]


def test_a_pool_with_no_ticket_on_a_paying_position_goes_to_the_protocol():
    split = split_pool([Stake("alice", 4, D(10))], [1, 2, 3, 4], OWNERS, terms())
    assert table(split)[-1] == ("unclaimed", PROTOCOL_RAKE, D("8.5"), None, None)
    assert split.total(PayoutKind.PAYOUT) == 0


def test_rounding_down_leaves_its_remainder_as_one_dust_row():
    # One paying position; three holders of a third each of 1 USDC share 0.85: each
    # 0.28333305.. or 0.2833339.., rounded down to 0.283333; one unit is left over.
    split = split_pool(
        [Stake("a", 1, D("0.333333")), Stake("b", 1, D("0.333333")), Stake("c", 1, D("0.333334"))],
        [1, 2], OWNERS, terms(payout=("1",), royalty=("1",)),
    )  # fmt: skip
    assert [r.amount for r in split.rows if r.kind == PayoutKind.PAYOUT] == [D("0.283333")] * 3
    assert table(split)[-1] == ("dust", PROTOCOL_ROUNDING, D("0.000001"), None, None)
    assert sum(r.amount for r in split.rows) == split.pool == D(1)


def test_a_holder_backing_two_paying_entrants_is_paid_once_on_the_sum():
    split = split_pool(
        [Stake("alice", 1, D(10)), Stake("alice", 2, D(10)), Stake("bob", 2, D(10))],
        [1, 2], OWNERS, terms(rake="0", creator="0"),
    )  # fmt: skip
    # 30 to share 0.6 : 0.25: 1st gets 21.176470.., all alice's; 2nd 8.823529.., half hers.
    assert [(r.holder, r.amount, r.finish, r.stake) for r in split.rows] == [
        ("alice", D("25.588235"), None, D(20)),  # 21.176470.. + 8.823529.. / 2
        ("bob", D("4.411764"), 2, D(10)),
        (PROTOCOL_ROUNDING, D("0.000001"), None, None),
    ]


def test_an_empty_pool_has_no_rows():
    split = split_pool([], [1, 2], OWNERS, terms())
    assert (split.pool, split.rows) == (D(0), ())


@pytest.mark.parametrize(
    ("stakes", "finish", "message"),
    [
        ([Stake("a", 9, D(1))], [1, 2], "did not finish"),
        ([Stake("a", 1, D("0.0000001"))], [1, 2], "multiple of"),
        ([Stake("a", 1, D(-1))], [1, 2], "multiple of"),
        ([Stake("a", 1, D(1))], [1, 1], "each finisher once"),
    ],
)
def test_refuses_rows_that_cannot_come_from_a_race(stakes, finish, message):
    with pytest.raises(ValueError, match=message):
        split_pool(stakes, finish, OWNERS, terms())


# -- properties ------------------------------------------------------------------------------

amounts = st.integers(1, 10_000_000_000).map(lambda units: Decimal(units) * UNIT)
weights = st.lists(st.integers(1, 1000).map(lambda n: Decimal(n) / 100), min_size=1, max_size=5)


@st.composite
def races(draw):
    entrants = draw(st.integers(2, 5))
    finish = draw(st.permutations(list(range(1, entrants + 1))))
    stakes = draw(
        st.lists(
            st.builds(Stake, st.sampled_from(["ann", "ben", "cat", "dan", "eve"]),
                      st.integers(1, entrants), amounts),
            max_size=30,
        )
    )  # fmt: skip
    rake, creator = (Decimal(draw(st.integers(0, 30))) / 100 for _ in range(2))
    race_terms = RaceTerms(rake_share=rake, creator_share=creator,
                           payout_weights=tuple(draw(weights)),
                           royalty_weights=tuple(draw(weights)), min_entrants=2)  # fmt: skip
    return stakes, finish, race_terms


def _exact_payouts(stakes, finish, race_terms, distribution: Fraction) -> dict[str, Fraction]:
    paying = {c: p for p, c in enumerate(finish[: len(race_terms.payout_weights)], 1)}
    backed: dict[int, Fraction] = defaultdict(Fraction)
    for s in stakes:
        if s.clone_id in paying:
            backed[paying[s.clone_id]] += Fraction(s.amount)
    whole = sum(Fraction(race_terms.payout_weights[p - 1]) for p in backed)
    exact: dict[str, Fraction] = defaultdict(Fraction)
    for s in stakes:
        p = paying.get(s.clone_id)
        if p is not None:
            share = distribution * Fraction(race_terms.payout_weights[p - 1]) / whole
            exact[s.holder] += share * Fraction(s.amount) / backed[p]
    return exact


@settings(max_examples=examples(300))
@given(races())
def test_every_random_race_is_conserved_exactly_and_pays_no_one_a_negative_amount(race):
    stakes, finish, race_terms = race
    split = split_pool(stakes, finish, OWNERS, race_terms)
    assert split.pool == sum((s.amount for s in stakes), D(0))
    assert sum((r.amount for r in split.rows), D(0)) == split.pool
    assert split.rake + split.creator_pool + split.distribution_pool == split.pool
    assert all(r.amount > 0 and r.amount == r.amount.quantize(UNIT) for r in split.rows)
    assert split.total(PayoutKind.ROYALTY) <= split.creator_pool
    distributed = split.total(PayoutKind.PAYOUT) + split.total(PayoutKind.UNCLAIMED)
    assert distributed <= split.distribution_pool


@settings(max_examples=examples(300))
@given(races())
def test_every_holder_is_paid_its_exact_share_rounded_down_by_less_than_one_unit(race):
    stakes, finish, race_terms = race
    split = split_pool(stakes, finish, OWNERS, race_terms)
    exact = _exact_payouts(stakes, finish, race_terms, Fraction(split.distribution_pool))
    paid = {r.holder: Fraction(r.amount) for r in split.rows if r.kind == PayoutKind.PAYOUT}
    for holder, share in exact.items():
        assert 0 <= share - paid.get(holder, Fraction(0)) < Fraction(UNIT), holder
    assert set(paid) <= set(exact)
    if not exact:  # nobody backed a paying position: the distribution pool is the protocol's
        assert split.total(PayoutKind.UNCLAIMED) == split.distribution_pool


@settings(max_examples=examples(300))
@given(races())
def test_every_top_finisher_owner_gets_its_royalty_within_one_unit(race):
    stakes, finish, race_terms = race
    split = split_pool(stakes, finish, OWNERS, race_terms)
    ranked = list(zip(finish, race_terms.royalty_weights, strict=False))
    whole = sum(Fraction(w) for _, w in ranked)
    paid = {r.clone_id: Fraction(r.amount) for r in split.rows if r.kind == PayoutKind.ROYALTY}
    for position, (clone_id, weight) in enumerate(ranked, start=1):
        exact = Fraction(split.creator_pool) * Fraction(weight) / whole
        assert 0 <= exact - paid.get(clone_id, Fraction(0)) < Fraction(UNIT)
        row = next((r for r in split.rows if r.clone_id == clone_id and r.kind == "royalty"), None)
        assert row is None or (row.holder, row.finish) == (OWNERS[clone_id], position)


@settings(max_examples=examples(100))
@given(races(), st.randoms())
def test_the_same_race_splits_the_same_way_whatever_the_order_of_its_tickets(race, rnd):
    stakes, finish, race_terms = race
    shuffled = list(stakes)
    rnd.shuffle(shuffled)
    assert split_pool(stakes, finish, OWNERS, race_terms) == split_pool(
        shuffled, finish, OWNERS, race_terms
    )
