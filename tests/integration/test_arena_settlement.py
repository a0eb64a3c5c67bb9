"""Settlement: a finished race's accounts are flattened and finalized, ranked by the ledger's
own numbers, and its pool paid out in one transaction — exactly, once — with strikes that
retire a clone through the lifecycle's state machine into the Hall of Fame."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autotrader.arena import hall_of_fame
from autotrader.arena.races import race_detail, require_race
from autotrader.arena.settlement import require_settleable
from autotrader.arena.verify import verify_races
from autotrader.core.clock import HOUR_MS, MINUTE_MS
from autotrader.core.errors import ConflictError
from autotrader.ledger.leaderboard import account_rows
from autotrader.lifecycle import economy, moderation, promotion, state
from autotrader.lifecycle.profiles import set_profile
from autotrader.lifecycle.vocabulary import Stage
from autotrader.prop import repo as prop_repo
from tests.fakes.arena import (
    ACTOR,
    arena_settings,
    arena_store,
    contents,
    launch,
    market_arena,
    new_race,
    paid_ticket,
    run_race,
    settler,
)
from tests.fakes.decisions import make_runner, market_template, pipeline_graph, save_pipeline

D = Decimal


@pytest.fixture
def world(tmp_path):
    store, clock, settings = arena_store(tmp_path / "settle.db")
    yield store, clock, settings
    store.close()


def test_a_race_on_the_replay_clock_is_traded_flattened_ranked_and_paid_exactly(
    tmp_path, tmp_path_factory
):
    from autotrader.prop.factory import precision
    from autotrader.prop.mtm import MarkToMarket

    store, clock, settings = market_arena(market_template(tmp_path_factory), tmp_path / "m.db")
    race = new_race(store, clock, settings, starts_in_ms=5 * MINUTE_MS, duration_ms=20 * HOUR_MS)
    for owner, clone_id, amount in (("bob", 42, "10"), ("carol", 43, "30"), ("dave", 44, "20"),
                                    ("dave", 42, "1.000001")):  # fmt: skip
        paid_ticket(store, clock, settings, race["id"], clone_id, owner, amount)
    clock.set(race["starts_at"])
    launch(store, clock)
    runner, mtm = make_runner(store, clock), MarkToMarket(store, clock, precision(store, clock))
    while clock.now_ms() < race["ends_at"]:
        clock.advance(ms=HOUR_MS)
        runner.tick(only_scheduled=True)
        mtm.run()
    entrants = race_detail(store, race["id"])["entrants"]
    accounts = [e["account_id"] for e in entrants]
    fills = store.scalar(
        f"SELECT COUNT(*) FROM prop_fills WHERE account_id IN ({','.join('?' * 3)})", accounts
    )
    assert fills > 0, "the decision loop traded the race accounts"

    (settled,) = settler(store, clock, settings).settle_due().settled
    detail = race_detail(store, race["id"])
    assert detail["status"] == "settled"
    rows = account_rows(store, accounts, now_ms=clock.now_ms())
    by_equity = sorted(detail["entrants"], key=lambda e: (-rows[e["account_id"]].equity, e["id"]))
    assert [e["clone_id"] for e in detail["entrants"]] == [e["clone_id"] for e in by_equity]
    for position, entrant in enumerate(detail["entrants"], start=1):
        row = rows[entrant["account_id"]]
        assert (entrant["finish"], entrant["equity"], entrant["return_pct"]) == (
            position,
            row.equity,
            row.return_pct,
        )
        account = prop_repo.get_account(store, entrant["account_id"])
        assert account["status"] == "finalized"
        assert prop_repo.open_positions(store, entrant["account_id"]) == []
    assert settled.finish == [e["clone_id"] for e in detail["entrants"]]
    pool = detail["settlement"]["pool"]
    assert pool == D("61.000001")
    assert sum(r["amount"] for r in detail["rows"]) == pool
    assert economy.balance(store, "protocol:race:1") == 0
    assert verify_races(store) == []
    assert economy.verify_economy(store) == []
    store.close()


def test_a_tied_race_pays_by_hand_computed_amounts(world):
    # No market data: every account ends flat at its balance, so the entry order decides:
    # 42 (alice's) wins, 43 (bob's) second, 44 (carol's) third. Pool 70: rake 3.5, creator
    # pool 7 (3.5 / 2.1 / 1.4), distribution 59.5: 0.6 : 0.25 : 0.15 of it to the three
    # positions, 35.7 / 14.875 / 8.925.
    store, clock, settings = world
    race = new_race(store, clock, settings)
    for owner, clone_id, amount in (("bob", 42, "10"), ("dave", 42, "30"), ("bob", 43, "20"),
                                    ("dave", 44, "10")):  # fmt: skip
        paid_ticket(store, clock, settings, race["id"], clone_id, owner, amount)
    run_race(store, clock, settings, race)
    detail = race_detail(store, race["id"])
    assert [(e["clone_id"], e["finish"]) for e in detail["entrants"]] == [(42, 1), (43, 2), (44, 3)]
    assert [(r["kind"], r["holder"], r["amount"]) for r in detail["rows"]] == [
        ("rake", "protocol:rake", D("3.5")),
        ("royalty", "alice", D("3.5")),
        ("royalty", "bob", D("2.1")),
        ("royalty", "carol", D("1.4")),
        ("payout", "bob", D("8.925") + D("14.875")),  # 10/40 of 1st's 35.7, all of 2nd's
        ("payout", "dave", D("26.775") + D("8.925")),  # 30/40 of 1st's, all of 3rd's
    ]
    split = detail["settlement"]
    assert (split["pool"], split["rake"], split["creator_pool"], split["distribution_pool"],
            split["dust"]) == (D(70), D("3.5"), D(7), D("59.5"), D(0))  # fmt: skip
    balances = {h: economy.balance(store, h) for h in ("alice", "bob", "carol", "dave")}
    assert balances == {"alice": D("3.5"), "bob": D("25.9"), "carol": D("1.4"), "dave": D("35.7")}


def test_settling_again_changes_nothing(world):
    store, clock, settings = world
    race = new_race(store, clock, settings)
    paid_ticket(store, clock, settings, race["id"], 43, "bob", "12.345678")
    run_race(store, clock, settings, race)
    before = contents(store)
    assert settler(store, clock, settings, worker_id="w2").settle_due().claimed == 0
    with pytest.raises(ConflictError, match="race 1 is settled: there is nothing to settle"):
        require_settleable(store, race["id"], clock.now_ms())
    assert contents(store) == before


def test_refuses_to_settle_a_live_race_and_changes_nothing(world):
    store, clock, settings = world
    race = new_race(store, clock, settings)
    clock.set(race["starts_at"])
    launch(store, clock)
    before = contents(store)
    with pytest.raises(ConflictError, match=r"race 1 is live until .*: it cannot be settled early"):
        require_settleable(store, race["id"], clock.now_ms())
    assert settler(store, clock, settings).settle_due(race_id=race["id"]).claimed == 0
    assert contents(store) == before


def test_a_settling_claim_left_by_a_dead_worker_is_taken_over_once_stale(world):
    from autotrader.arena.repo import races as races_repo

    store, clock, settings = world
    race = new_race(store, clock, settings)
    paid_ticket(store, clock, settings, race["id"], 42, "bob", "5")
    clock.set(race["starts_at"])
    launch(store, clock)
    clock.set(race["ends_at"])
    (claimed,) = races_repo.claim_finished(store, now_ms=clock.now_ms(), worker_id="dead@h:1",
                                           stale_before_ms=0, limit=1)  # fmt: skip
    assert claimed["status"] == "settling"
    alive = settler(store, clock, settings, worker_id="alive@h:2")
    assert alive.settle_due().claimed == 0  # a fresh claim: left alone
    clock.advance(ms=int(settings.worker_stale_after * 1000) + 1)
    assert [s.race_id for s in alive.settle_due().settled] == [race["id"]]
    assert verify_races(store) == []


def test_a_race_without_tickets_settles_with_an_empty_pool(world):
    store, clock, settings = world
    race = new_race(store, clock, settings)
    (settled,) = run_race(store, clock, settings, race).settled
    assert (settled.split.pool, settled.split.rows) == (0, ())
    assert require_race(store, race["id"])["status"] == "settled"
    assert verify_races(store) == []


def test_enough_bottom_finishes_retire_a_clone_and_its_timeline_says_why(tmp_path):
    settings = arena_settings(arena_strikes_to_retire=2)
    store, clock, _ = arena_store(tmp_path / "strikes.db", settings=settings)
    first = run_race(store, clock, settings, new_race(store, clock, settings)).settled[0]
    assert (first.struck, first.retired) == ([44], [])
    second = run_race(store, clock, settings, new_race(store, clock, settings)).settled[0]
    assert (second.struck, second.retired) == ([44], [44])
    assert state.stage_of(store, 44) == Stage.RETIRED
    assert [s["status"] for s in promotion.arena(store, status="retired")] == ["retired"]
    events = [(e["event"], e["reason"]) for e in state.timeline(store, 44)][-3:]
    assert events == [
        ("strike", "finished 3 of 3 in race 1: strike 1 of 2"),
        ("strike", "finished 3 of 3 in race 2: strike 2 of 2"),
        ("retired", "2 strikes (bottom finishes in races 1, 2)"),
    ]
    assert [e["clone_id"] for e in race_detail(store, new_race(store, clock, settings)["id"])[
        "entrants"
    ]] == [42, 43]  # fmt: skip
    (record,) = hall_of_fame.hall_of_fame(store)
    assert (record["clone_id"], record["races"], record["wins"], record["best_finish"],
            record["strikes"]) == (44, 2, 0, 3, 2)  # fmt: skip
    assert record["reason"] == "2 strikes (bottom finishes in races 1, 2)"
    store.close()


def test_the_hall_of_fame_keeps_a_record_as_it_stood_at_retirement(world):
    store, clock, settings = world
    race = new_race(store, clock, settings)
    paid_ticket(store, clock, settings, race["id"], 42, "bob", "100")
    run_race(store, clock, settings, race)
    hall_of_fame.retire_clone(store, clock, 42, reason="champion retires", actor=ACTOR)
    (kept,) = hall_of_fame.hall_of_fame(store)
    assert (kept["races"], kept["wins"], kept["best_finish"]) == (1, 1, 1)
    assert kept["royalties"] == D(5)  # half the creator pool of 10
    assert kept["profile"]["name"] == "Racer 42"
    assert kept["profile"]["pipeline_version"] is None
    version = set_profile(store, clock, 42, name="Renamed", bio="new", avatar_url=None,
                          denied=(), actor=ACTOR)  # fmt: skip
    moderation.approve(store, clock, version["id"], reason="ok", actor=ACTOR)
    save_pipeline(store, clock, pipeline_graph(), clone_id=42)
    assert hall_of_fame.hall_of_fame(store) == [kept]


def test_a_clone_an_admin_retired_is_inducted_by_the_races_job(world):
    store, clock, _settings = world
    promotion.retire(store, clock, 43, reason="season over", actor=ACTOR)
    assert hall_of_fame.induct_missing(store, clock) == [43]
    assert hall_of_fame.induct_missing(store, clock) == []
    (record,) = hall_of_fame.hall_of_fame(store)
    assert (record["clone_id"], record["races"], record["reason"]) == (43, 0, "season over")
