"""An arena world for tests: clones admitted to the arena through the real lifecycle path (a fee
verified by hand, an audition judged at its window's end, an approved profile, the arena-entry
pass), ticket holders with addresses, and shortcuts through the real arena services (create a
race, buy and pay a ticket, run the races job's steps).

Two stores: :func:`arena_store` (no market data: race accounts cannot trade, every finish is a
tie broken by the entry order) and :func:`market_arena` (a copy of the decisions template with
the bundled candles, so race accounts trade through the prop desk on the replay clock).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from autotrader.bootstrap import open_store
from autotrader.clones.management import create_clone
from autotrader.clones.owners import ensure_owner
from autotrader.core.clock import HOUR_MS, MINUTE_MS, SimulatedClock
from autotrader.core.settings import load_settings
from tests.fakes.lifecycle import ACTOR, T0, end_window, evaluator, lifecycle_settings, paid_fee

# owner → the address it pays from (each unique: an address belongs to one owner)
OWNERS = {
    "alice": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "bob": "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "carol": "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "dave": "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
}
# the arena's clones and their creators (royalties go to them)
CREATORS = {42: "alice", 43: "bob", 44: "carol"}
TREASURY = "0x52908400098527886E0F7030069857D2E4169EE7"
# the rules engine with a parameter set of its own per clone (42 keeps the demo's), so racers
# trade differently on the same market
RACER_PARAMS = {
    43: {"policies": ["trend_macd"], "notional_usd": "2000", "leverage": 3, "granularity": "1h"},
    44: {"policies": ["bollinger_breakout", "rsi_mean_reversion"], "notional_usd": "800",
         "leverage": 1, "stop_pct": 0.01, "target_pct": 0.02, "granularity": "1h"},
}  # fmt: skip


def arena_settings(**overrides):
    """Lifecycle settings with a one-hour audition and room for every clone in the arena."""
    defaults = {"treasury_address": TREASURY, "audition_duration_hours": 1.0, "arena_slots": 10}
    return lifecycle_settings(**{**defaults, **overrides})


def add_owners(store, clock) -> None:
    for handle, address in OWNERS.items():
        ensure_owner(store, clock, handle, evm_address=address)


def admit(store, clock: SimulatedClock, settings, clone_ids) -> None:
    """Walk each clone into the arena: fee, audition, verdict, public profile, admission."""
    from autotrader.lifecycle import moderation, promotion
    from autotrader.lifecycle.auditions import RetryPolicy, submit
    from autotrader.lifecycle.models import AuditionRules
    from autotrader.lifecycle.profiles import set_profile

    for clone_id in clone_ids:
        paid_fee(store, clock, settings, clone_id, reference=f"fee-{clone_id}")
        submit(store, clock, clone_id, AuditionRules.from_settings(settings),
               RetryPolicy.from_settings(settings), actor=ACTOR)  # fmt: skip
    end_window(clock, settings)
    decisions = evaluator(store, clock, settings).evaluate_due().decisions
    assert all(d.passed for d in decisions), decisions
    for clone_id in clone_ids:
        version = set_profile(store, clock, clone_id, name=f"Racer {clone_id}", bio="A racer.",
                              avatar_url=None, denied=(), actor=ACTOR)  # fmt: skip
        moderation.approve(store, clock, version["id"], reason="fine", actor=ACTOR)
    report = promotion.admit_from_queue(
        store, clock, slots=settings.arena_slots, actor=ACTOR, entitlements=lambda _: None
    )
    assert sorted(report.admitted) == sorted(clone_ids), report


def arena_store(path: Path, *, clones=tuple(CREATORS), settings=None):
    """A store without market data, the clones in the arena, the clock an hour after ``T0``."""
    settings = settings or arena_settings()
    clock = SimulatedClock(T0)
    store = open_store(load_settings(env_file=None), path=path)
    add_owners(store, clock)
    for clone_id in clones:
        create_clone(store, clock, name=f"racer-{clone_id}", clone_id=clone_id,
                     owner=CREATORS.get(clone_id, "alice"))  # fmt: skip
    admit(store, clock, settings, clones)
    return store, clock, settings


def market_arena(template: Path, path: Path, *, clones=tuple(CREATORS), settings=None):
    """A copy of the decisions template (bundled candles, clone 42 with the rules pipeline),
    the other clones with the same pipeline and parameters of their own (``RACER_PARAMS``),
    all in the arena; the clock two days before the data ends (an audition hour later)."""
    from tests.fakes.decisions import (
        copy_store,
        open_test_store,
        pipeline_graph,
        replay_end,
        save_pipeline,
    )

    settings = settings or arena_settings()
    copy_store(template, path)
    store = open_test_store(path)
    clock = SimulatedClock(replay_end() - 48 * HOUR_MS)
    add_owners(store, clock)
    for clone_id in clones:
        if clone_id != 42:
            create_clone(store, clock, name=f"racer-{clone_id}", clone_id=clone_id,
                         owner=CREATORS.get(clone_id, "alice"))  # fmt: skip
            graph = pipeline_graph(engine_params=RACER_PARAMS.get(clone_id))
            save_pipeline(store, clock, graph, clone_id=clone_id)
    admit(store, clock, settings, clones)
    return store, clock, settings


def new_race(store, clock, settings, *, starts_in_ms=MINUTE_MS, duration_ms=HOUR_MS,
             clones=None, rules="standard"):  # fmt: skip
    """An accumulating race (every arena clone, or ``clones``); the race row."""
    from autotrader.arena.models import RaceRules, RaceTerms
    from autotrader.arena.races import create_race

    return create_race(
        store,
        clock,
        starts_at=clock.now_ms() + starts_in_ms,
        duration_ms=duration_ms,
        rules=RaceRules.named(settings, rules),
        terms=RaceTerms.from_settings(settings),
        clone_ids=clones,
        actor=ACTOR,
    )


def policy(settings):
    from autotrader.arena.models import ArenaPolicy

    return ArenaPolicy.from_settings(settings)


def buy(store, clock, settings, race_id: int, clone_id: int, owner: str, amount: str) -> dict:
    from autotrader.arena.tickets import buy as buy_ticket

    return buy_ticket(store, clock, race_id=race_id, clone_id=clone_id, owner=owner,
                      amount=Decimal(amount), policy=policy(settings))  # fmt: skip


def pay(store, clock, ticket: dict, *, reference: str | None = None):
    """Verify the ticket by hand (an admin's attestation of its amount)."""
    from autotrader.arena.tickets import verify_ticket
    from autotrader.lifecycle.verifiers import ManualVerifier

    verifier = ManualVerifier(clock, reference=reference or f"wire-t{ticket['id']}",
                              reason="paid by wire")  # fmt: skip
    return verify_ticket(store, clock, ticket["id"], verifier, actor=ACTOR)


def paid_ticket(store, clock, settings, race_id, clone_id, owner, amount) -> dict:
    ticket = buy(store, clock, settings, race_id, clone_id, owner, amount)
    result = pay(store, clock, ticket)
    assert result.settlement.paid, result.settlement
    return result.ticket


def settler(store, clock, settings, *, worker_id: str = "w1"):
    from autotrader.arena.settlement import RaceSettler
    from autotrader.prop.factory import precision

    return RaceSettler(store, clock, precision(store, clock), policy(settings),
                       worker_id=worker_id,
                       stale_after_ms=int(settings.worker_stale_after * 1000))  # fmt: skip


def launch(store, clock):
    from autotrader.arena.races import launch_due

    return launch_due(store, clock, actor=ACTOR)


def run_race(store, clock, settings, race: dict):
    """Launch the race at its start, let its window pass, settle it; the settle report."""
    clock.set(max(clock.now_ms(), race["starts_at"]))
    launch(store, clock)
    clock.set(race["ends_at"])
    return settler(store, clock, settings).settle_due()


MONEY_TABLES = (
    "arena_races", "arena_entrants", "arena_tickets", "arena_settlements", "arena_payouts",
    "arena_strikes", "arena_hall_of_fame", "economy_entries", "payment_references",
    "payment_outcomes", "prop_accounts", "lifecycle_events",
)  # fmt: skip


def contents(store) -> dict[str, list[dict]]:
    """Every row of the tables the arena writes, to show that a refused command changed none."""
    return {table: store.query(f"SELECT * FROM {table} ORDER BY rowid") for table in MONEY_TABLES}
