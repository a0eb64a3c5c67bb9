"""A lifecycle world for tests: a fresh store, a simulated clock, clone 42 owned by alice (who
pays from a known address), the settings the lifecycle reads, and shortcuts through the real
services (request and verify a fee, start an audition, end its window)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from autotrader.bootstrap import open_store
from autotrader.clones.management import create_clone
from autotrader.core.clock import HOUR_MS, SimulatedClock
from autotrader.core.settings import Settings, load_settings

OWNER = "alice"
ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # alice pays from it
STRANGER = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
TREASURY = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
CLONE_ID = 42
ACTOR = "test"


def tx(n: int) -> str:
    """The ``n``-th test transaction hash."""
    return "0x" + f"{n:064x}"


def lifecycle_settings(**overrides) -> Settings:
    """Settings with a one-day audition judged on return, drawdown and trades (no Sharpe:
    an account that did not trade has none)."""
    defaults = {
        "treasury_address": TREASURY,
        "audition_duration_hours": 24.0,
        "audition_min_trades": 0,
        "audition_pass_return_pct": Decimal(-1),
        "audition_pass_max_drawdown_pct": Decimal(10),
        "audition_pass_sharpe": None,
        "arena_slots": 2,
    }
    return load_settings(env_file=None).model_copy(update={**defaults, **overrides})


def lifecycle_store(path: Path, *, clones: tuple[int, ...] = (CLONE_ID,)):
    """A migrated store at ``path`` with the clones owned by alice, and a clock at ``T0``."""
    clock = SimulatedClock(T0)
    store = open_store(load_settings(env_file=None), path=path)
    for n, clone_id in enumerate(clones):
        create_clone(
            store,
            clock,
            name=f"clone-{clone_id}",
            clone_id=clone_id,
            owner=OWNER,
            owner_address=ADDRESS if n == 0 else None,
        )
    return store, clock


def paid_fee(store, clock, settings, clone_id: int = CLONE_ID, *, reference: str = "wire-1"):
    """Request the clone's fee and verify it by hand; the fee row."""
    from autotrader.lifecycle.fees import FeePolicy, request_fee, verify_fee
    from autotrader.lifecycle.verifiers import ManualVerifier

    policy = FeePolicy.from_settings(settings)
    fee = request_fee(store, clock, clone_id, policy, actor=ACTOR)
    verifier = ManualVerifier(clock, reference=f"{reference}-{fee['id']}", reason="paid by wire")
    return verify_fee(store, clock, fee["id"], verifier, policy, actor=ACTOR).fee


def start_audition(store, clock, settings, clone_id: int = CLONE_ID, *, retry: bool = False):
    """Pay a fee by hand and start the clone's audition; the audition row."""
    from autotrader.lifecycle.auditions import RetryPolicy, submit
    from autotrader.lifecycle.models import AuditionRules

    paid_fee(store, clock, settings, clone_id)
    return submit(
        store,
        clock,
        clone_id,
        AuditionRules.from_settings(settings),
        RetryPolicy.from_settings(settings),
        actor=ACTOR,
        retry=retry,
    )


def end_window(clock: SimulatedClock, settings) -> None:
    clock.advance(ms=round(settings.audition_duration_hours * HOUR_MS) + 1)


def evaluator(store, clock, settings, *, worker_id: str = "w1"):
    from autotrader.lifecycle.factory import audition_evaluator

    return audition_evaluator(settings, store, clock, worker_id=worker_id)
