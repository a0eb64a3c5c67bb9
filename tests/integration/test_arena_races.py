"""Races: created among arena clones with their rules and terms fixed, launched at their start
with one fresh race account per entrant, cancelled (every paid ticket refunded) when too few
entrants are left, scratched entrants refunded, settled races archived after the retention."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autotrader.arena.models import RaceRules, RaceTerms
from autotrader.arena.races import archive_settled, create_race, race_detail, require_race
from autotrader.arena.verify import verify_races
from autotrader.core.clock import DAY_MS, HOUR_MS, MINUTE_MS
from autotrader.core.errors import InvalidInputError
from autotrader.lifecycle import economy, promotion
from autotrader.prop import repo as prop_repo
from tests.fakes.arena import (
    ACTOR,
    arena_store,
    contents,
    launch,
    new_race,
    paid_ticket,
    policy,
    run_race,
)


@pytest.fixture
def world(tmp_path):
    store, clock, settings = arena_store(tmp_path / "races.db")
    yield store, clock, settings
    store.close()


def test_a_race_fixes_its_entrants_rules_and_terms_when_it_is_created(world):
    store, clock, settings = world
    race = new_race(store, clock, settings, clones=[44, 42], rules="conservative")
    assert race["status"] == "accumulating"
    assert race["rules"] == RaceRules.named(settings, "conservative")
    assert (race["rules"].max_leverage, race["rules"].max_drawdown) == (2, Decimal("0.10"))
    assert race["terms"] == RaceTerms.from_settings(settings)
    assert [e["clone_id"] for e in race_detail(store, race["id"])["entrants"]] == [44, 42]


def test_all_slots_enters_every_clone_in_the_arena_in_slot_order(world):
    store, clock, settings = world
    race = new_race(store, clock, settings)
    assert [e["clone_id"] for e in race_detail(store, race["id"])["entrants"]] == [42, 43, 44]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"starts_at": -MINUTE_MS}, "in the past"),
        ({"duration_ms": 1000}, "from 1m to 365d"),
        ({"clone_ids": [42, 42, 43]}, "42 named twice"),
        ({"clone_ids": [42, 7]}, "7 not in the arena"),
        ({"clone_ids": [42]}, "at least 2 entrants"),
    ],
)
def test_refuses_a_race_that_cannot_run_and_writes_nothing(world, change, message):
    store, clock, settings = world
    before = contents(store)
    args = {"starts_at": MINUTE_MS, "duration_ms": HOUR_MS, "clone_ids": None} | change
    with pytest.raises(InvalidInputError, match=message):
        create_race(store, clock, starts_at=clock.now_ms() + args["starts_at"],
                    duration_ms=args["duration_ms"], rules=RaceRules.named(settings, "standard"),
                    terms=RaceTerms.from_settings(settings), clone_ids=args["clone_ids"],
                    actor=ACTOR)  # fmt: skip
    assert contents(store) == before


def test_the_launch_gives_each_entrant_a_fresh_race_account_with_identical_rules(world):
    store, clock, settings = world
    race = new_race(store, clock, settings)
    assert launch(store, clock).launched == []  # not yet
    clock.set(race["starts_at"])
    assert launch(store, clock).launched == [race["id"]]
    assert launch(store, clock).launched == []  # once
    entrants = race_detail(store, race["id"])["entrants"]
    accounts = [prop_repo.get_account(store, e["account_id"]) for e in entrants]
    assert [(a["clone_id"], a["kind"], a["status"]) for a in accounts] == [
        (42, "race", "active"), (43, "race", "active"), (44, "race", "active")
    ]  # fmt: skip
    assert {a["starting_balance"] for a in accounts} == {settings.arena_race_balance}
    assert len({a["rules"] for a in accounts}) == 1
    assert accounts[0]["rules"] == race["rules"].account_rules()
    assert require_race(store, race["id"])["status"] == "live"


def test_a_race_left_with_too_few_entrants_is_cancelled_and_every_paid_ticket_refunded(world):
    store, clock, settings = world
    race = new_race(store, clock, settings, clones=[42, 43])
    paid = [paid_ticket(store, clock, settings, race["id"], 42, "bob", "10"),
            paid_ticket(store, clock, settings, race["id"], 43, "dave", "4.5")]  # fmt: skip
    promotion.remove(store, clock, 43, reason="rule breach", actor=ACTOR)
    clock.set(race["starts_at"])
    report = launch(store, clock)
    assert report.cancelled == {race["id"]: "1 of the 2 entrants it needs were in the arena at"
                                            " its start"}  # fmt: skip
    detail = race_detail(store, race["id"])
    assert detail["status"] == "cancelled"
    refunds = [(r["holder"], r["amount"], r["ticket_id"]) for r in detail["rows"]]
    assert refunds == [("dave", Decimal("4.5"), paid[1]["id"]), ("bob", Decimal(10), paid[0]["id"])]
    assert economy.balance(store, "bob") == Decimal(10)  # back as credit
    assert economy.balance(store, "protocol:race:1") == 0
    assert {t["status"] for t in store.query("SELECT status FROM arena_tickets")} == {"refunded"}
    assert store.query("SELECT * FROM prop_accounts WHERE kind = 'race'") == []
    assert verify_races(store) == []
    assert economy.verify_economy(store) == []


def test_an_entrant_that_left_the_arena_is_scratched_and_its_tickets_refunded(world):
    store, clock, settings = world
    race = new_race(store, clock, settings)
    on_44 = paid_ticket(store, clock, settings, race["id"], 44, "bob", "7")
    paid_ticket(store, clock, settings, race["id"], 42, "bob", "3")
    promotion.retire(store, clock, 44, reason="season over", actor=ACTOR)
    clock.set(race["starts_at"])
    report = launch(store, clock)
    assert (report.launched, report.scratched) == ([race["id"]], [(race["id"], 44)])
    entrants = {e["clone_id"]: e for e in race_detail(store, race["id"])["entrants"]}
    assert (entrants[44]["status"], entrants[44]["account_id"]) == ("scratched", None)
    assert "left the arena (retired)" in entrants[44]["reason"]
    assert store.query_one("SELECT status FROM arena_tickets WHERE id = ?", (on_44["id"],)) == {
        "status": "refunded"
    }
    assert economy.balance(store, "protocol:race:1") == Decimal(3)  # the rest is still in play
    assert verify_races(store) == []


def test_a_settled_race_is_archived_after_the_retention(world):
    store, clock, settings = world
    race = new_race(store, clock, settings)
    run_race(store, clock, settings, race)
    assert archive_settled(store, clock, policy(settings)) == []
    clock.advance(ms=round(settings.arena_retention_days * DAY_MS) + 1)
    assert archive_settled(store, clock, policy(settings)) == [race["id"]]
    assert require_race(store, race["id"])["status"] == "archived"
    assert archive_settled(store, clock, policy(settings)) == []
    assert verify_races(store) == []
