"""Benchmark: the arena's settlement and its conservation check at scale.

1. Settling one race of 100,000 paid tickets (10,000 with ``--quick``) on ten entrants, held
   by 10,000 owners: the races job's settlement — final mark, flatten and finalize the ten race
   accounts, the leaderboard's numbers, the parimutuel split and its economy booking (one leg
   per paid holder), the rows, strikes — in its one transaction. The race is launched through
   the real service (accounts opened for arena clones); its tickets are written paid with the
   arena's repo functions in bulk and its pool funded by one booking (a hundred thousand
   verified payments would take minutes). Baseline, in the same run: reading the race's paid
   tickets and computing the split alone (the settlement without its writes). Target: <= 2 s.
2. ``ledger verify``'s recheck of the races — every settlement's conservation, every booking
   against its rows, every pool's balance — over 1,000 settled races of 100 tickets each (100
   races with ``--quick``), settled through the arena's split and booking functions. Baseline:
   streaming the rows it reads with plain queries. Target: <= 2 s.

Run with ``python -m bench arena [--quick]``.
"""

from __future__ import annotations

import tempfile
import time
from decimal import Decimal
from pathlib import Path

from autotrader.bootstrap import open_store
from autotrader.core.clock import HOUR_MS, SimulatedClock
from autotrader.core.settings import load_settings
from bench._harness import BenchResult

T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC
TARGET_SETTLE_S = 2.0
TARGET_VERIFY_S = 2.0
ACTOR = "bench"


def _arena(store, clock, clone_ids) -> None:
    """Clones that stand in the arena (their stage, as the lifecycle's admission leaves it)."""
    from autotrader.clones import repo as clones_repo
    from autotrader.lifecycle.repo import timeline

    with store.atomic():
        for clone_id in clone_ids:
            clones_repo.insert_clone(store, clone_id=clone_id, owner="local", name=f"r-{clone_id}",
                                     model="gpt-5-mini", display_name=None, description=None,
                                     now_ms=T0)  # fmt: skip
            timeline.set_stage(store, clone_id, "arena", expected="sandbox", now_ms=T0)


def _race(store, settings, clone_ids) -> int:
    from autotrader.arena.models import RaceRules, RaceTerms
    from autotrader.arena.repo import races

    race_id = races.insert_race(
        store, status="accumulating", starts_at=T0, ends_at=T0 + HOUR_MS,
        rules=RaceRules.named(settings, "standard").model_dump_json(),
        terms=RaceTerms.from_settings(settings).model_dump_json(), created_by=ACTOR,
        created_at=T0, updated_at=T0,
    )  # fmt: skip
    for clone_id in clone_ids:
        races.insert_entrant(store, race_id=race_id, clone_id=clone_id)
    return race_id


def _paid_tickets(store, race_id: int, clone_ids, count: int, holders: int) -> Decimal:
    """``count`` paid tickets on the race, and one booking putting their sum in its pool."""
    from autotrader.arena.booking import pool_holder
    from autotrader.arena.repo import tickets
    from autotrader.lifecycle import economy
    from autotrader.lifecycle.vocabulary import EconomyKind

    total = Decimal(0)
    for n in range(count):
        amount = Decimal(1 + n % 97) + Decimal(n % 13) / 100
        ticket = tickets.insert_ticket(
            store, race_id=race_id, clone_id=clone_ids[n % len(clone_ids)],
            owner=f"holder-{n % holders}", payer_address=None, amount=amount,
            reference=f"AT-{race_id}-{n}", now_ms=T0 - HOUR_MS, expires_at=T0,
        )  # fmt: skip
        tickets.mark_paid(store, ticket, verifier="manual", actor=ACTOR, transfer_reference=None,
                          note=None, now_ms=T0 - HOUR_MS)  # fmt: skip
        total += amount
    economy.book(store, f"bench:pool:{race_id}", [
        economy.Leg("protocol:bench", EconomyKind.TICKET, -total),
        economy.Leg(pool_holder(race_id), EconomyKind.TICKET, total),
    ], now_ms=T0 - HOUR_MS)  # fmt: skip
    return total


# -- 1. settling one big race --------------------------------------------------------------------


def _settle_results(folder: Path, quick: bool) -> list[BenchResult]:
    from autotrader.arena.models import ArenaPolicy, RaceTerms
    from autotrader.arena.parimutuel import Stake, split_pool
    from autotrader.arena.races import launch_due
    from autotrader.arena.repo import tickets
    from autotrader.arena.settlement import RaceSettler
    from autotrader.market.registry import ensure_assets
    from autotrader.prop.factory import precision

    # 9,999 holders over ten entrants: each holder backs several, most of them a paying one.
    count, holders = (10_000, 999) if quick else (100_000, 9_999)
    settings = load_settings(env_file=None)
    clock = SimulatedClock(T0 - 2 * HOUR_MS)
    store = open_store(settings, path=folder / "settle.db")
    ensure_assets(store, clock)
    clone_ids = list(range(1000, 1010))
    _arena(store, clock, clone_ids)
    started = time.perf_counter()
    with store.atomic():
        race_id = _race(store, settings, clone_ids)
        pool = _paid_tickets(store, race_id, clone_ids, count, holders)
    print(f"   wrote {count:,} paid tickets in {time.perf_counter() - started:.1f} s", flush=True)
    clock.set(T0)
    launch_due(store, clock, actor=ACTOR)
    clock.set(T0 + HOUR_MS)

    started = time.perf_counter()
    stakes = [Stake(o, c, Decimal(a)) for _, o, c, a in tickets.paid_stakes(store, race_id)]
    terms = RaceTerms.from_settings(settings)
    split_pool(stakes, clone_ids, {c: "local" for c in clone_ids}, terms)
    floor = time.perf_counter() - started

    policy = ArenaPolicy.from_settings(settings)
    settler = RaceSettler(store, clock, precision(store, clock), policy, worker_id=ACTOR,
                          stale_after_ms=60_000)  # fmt: skip
    started = time.perf_counter()
    (settled,) = settler.settle_due().settled
    elapsed = time.perf_counter() - started
    assert settled.split.pool == pool, (settled.split.pool, pool)
    payees = sum(r.kind == "payout" for r in settled.split.rows)
    store.close()
    return [
        BenchResult(
            f"settle a race of {count:,} tickets ({payees:,} holders paid)",
            elapsed,
            "s",
            baseline=floor,
            ratio_label="vs read + split alone",
            target=f"<= {TARGET_SETTLE_S:g} s",
            passed=elapsed <= TARGET_SETTLE_S if not quick else None,
        )
    ]


# -- 2. the conservation check over many settled races -----------------------------------------


def _settled_races(store, settings, races: int) -> None:
    """``races`` settled races of 100 tickets on two entrants each, through the arena's own
    split and booking (the accounts' trading is not what is checked)."""
    from autotrader.arena import booking
    from autotrader.arena.models import RaceTerms
    from autotrader.arena.parimutuel import Stake, split_pool
    from autotrader.arena.repo import races as races_repo
    from autotrader.arena.repo import settlements, tickets
    from autotrader.arena.settlement import split_columns

    terms = RaceTerms.from_settings(settings)
    clone_ids = [1000, 1001]
    owners = {c: "local" for c in clone_ids}
    with store.atomic():
        for _ in range(races):
            race_id = _race(store, settings, clone_ids)
            _paid_tickets(store, race_id, clone_ids, 100, 50)
            stakes = [Stake(o, c, Decimal(a)) for _, o, c, a in tickets.paid_stakes(store, race_id)]
            split = split_pool(stakes, clone_ids, owners, terms)
            txn = booking.book_settlement(store, race_id, split, now_ms=T0 + HOUR_MS)
            settlements.insert_settlement(store, race_id=race_id, tickets=len(stakes),
                                          split=split_columns(split), finish=clone_ids, txn=txn,
                                          now_ms=T0 + HOUR_MS)  # fmt: skip
            races_repo.set_status(store, race_id, "settled", expected="accumulating",
                                  now_ms=T0 + HOUR_MS, settled_at=T0 + HOUR_MS)  # fmt: skip


def _verify_results(folder: Path, quick: bool) -> list[BenchResult]:
    from autotrader.arena.verify import verify_races

    races = 100 if quick else 1_000
    settings = load_settings(env_file=None)
    store = open_store(settings, path=folder / "verify.db")
    _arena(store, SimulatedClock(T0), [1000, 1001])
    started = time.perf_counter()
    _settled_races(store, settings, races)
    print(f"   settled {races:,} races in {time.perf_counter() - started:.1f} s", flush=True)

    started = time.perf_counter()
    for table in ("arena_tickets", "arena_payouts", "economy_entries"):
        for _ in store.tuples(f"SELECT * FROM {table}"):
            pass
    floor = time.perf_counter() - started
    started = time.perf_counter()
    problems = verify_races(store)
    elapsed = time.perf_counter() - started
    assert problems == [], problems[:3]
    store.close()
    return [
        BenchResult(
            f"recheck {races:,} settled races ({races * 100:,} tickets)",
            elapsed,
            "s",
            baseline=floor,
            ratio_label="vs reading the rows",
            target=f"<= {TARGET_VERIFY_S:g} s",
            passed=elapsed <= TARGET_VERIFY_S if not quick else None,
        )
    ]


def run(quick: bool) -> list[BenchResult]:
    with tempfile.TemporaryDirectory(prefix="bench-arena-") as folder:
        return [*_settle_results(Path(folder), quick), *_verify_results(Path(folder), quick)]
