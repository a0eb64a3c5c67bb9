"""Random races through the real store: any mix of entrants, tickets (paid or left pending),
amounts and an entrant leaving the arena before the launch settles — or cancels — with every
USDC accounted for, the settlement and the refunds exactly what the rows say, and a second
settlement changing nothing."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from autotrader.arena.races import race_detail
from autotrader.arena.verify import verify_races
from autotrader.core.clock import SimulatedClock
from autotrader.lifecycle import economy, promotion
from autotrader.lifecycle.economy import UNIT
from tests.conftest import examples
from tests.fakes.arena import (
    ACTOR,
    arena_store,
    buy,
    contents,
    launch,
    new_race,
    pay,
    settler,
)
from tests.fakes.decisions import copy_store, open_test_store

_template: dict[str, object] = {}


def template() -> dict[str, object]:
    """One arena store (three clones in the arena), built once per test process; its folder
    goes when the process ends."""
    if not _template:
        folder = tempfile.TemporaryDirectory(prefix="arena-template-")
        store, clock, world_settings = arena_store(Path(folder.name) / "template.db")
        store.close()
        _template.update(folder=folder, path=Path(folder.name) / "template.db",
                         now=clock.now_ms(), settings=world_settings)  # fmt: skip
    return _template


tickets = st.lists(
    st.tuples(
        st.sampled_from(["alice", "bob", "carol", "dave"]),
        st.sampled_from([42, 43, 44]),
        st.integers(1_000_000, 10_000_000_000).map(lambda units: Decimal(units) * UNIT),
        st.booleans(),  # paid, or left pending
    ),
    max_size=12,
)


@settings(max_examples=examples(40))
@given(
    entrants=st.sampled_from([[42, 43, 44], [42, 43], [44, 42]]),
    bets=tickets,
    leaver=st.sampled_from([None, 42, 43, 44]),
)
def test_every_random_race_accounts_for_every_usdc_and_settles_once(entrants, bets, leaver):
    world = template()
    with tempfile.TemporaryDirectory(prefix="arena-") as folder:
        store = open_test_store(copy_store(world["path"], Path(folder) / "a.db"))
        try:
            _race(store, SimulatedClock(world["now"]), world["settings"], entrants, bets, leaver)
        finally:
            store.close()


def _race(store, clock, world_settings, entrants, bets, leaver) -> None:
    race = new_race(store, clock, world_settings, clones=entrants)
    paid_in = Decimal(0)
    for owner, clone_id, amount, paid in bets:
        if clone_id not in entrants:
            continue
        ticket = buy(store, clock, world_settings, race["id"], clone_id, owner, str(amount))
        if paid:
            assert pay(store, clock, ticket).settlement.paid
            paid_in += amount
    if leaver is not None:
        promotion.remove(store, clock, leaver, reason="left", actor=ACTOR)
    clock.set(race["starts_at"])
    launch(store, clock)
    clock.set(race["ends_at"])
    settler(store, clock, world_settings).settle_due()
    detail = race_detail(store, race["id"])
    refunds = sum((r["amount"] for r in detail["rows"] if r["kind"] == "refund"), Decimal(0))
    if detail["status"] == "cancelled":
        assert refunds == paid_in
    else:
        assert detail["status"] == "settled"
        paid_out = sum((r["amount"] for r in detail["rows"] if r["kind"] != "refund"), Decimal(0))
        assert paid_out == detail["settlement"]["pool"] == paid_in - refunds
        assert all(r["amount"] > 0 for r in detail["rows"])
    assert economy.balance(store, f"protocol:race:{race['id']}") == 0
    assert verify_races(store) == []
    assert economy.verify_economy(store) == []
    before = contents(store)
    settler(store, clock, world_settings, worker_id="again").settle_due()
    assert contents(store) == before
