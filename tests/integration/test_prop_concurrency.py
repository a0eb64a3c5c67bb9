"""Four processes submit the same intents with the same idempotency keys to one store file:
every key fills exactly once, and the result equals one process submitting them alone.

Each process walks the list in order, so whichever process first reaches a key books it after
every earlier key was booked: the outcome is the sequential one, whatever the interleaving.
"""

from __future__ import annotations

import multiprocessing
import random
import time
from decimal import Decimal as D
from pathlib import Path

import pytest

from autotrader.bootstrap import open_store
from autotrader.core.clock import SimulatedClock
from autotrader.core.settings import load_settings
from autotrader.market import repo as market_repo
from autotrader.prop import repo as prop_repo
from autotrader.prop.accounts import open_account
from autotrader.prop.execution import PropDesk
from autotrader.prop.gates import StepPrecision
from autotrader.prop.models import AccountRules, parse_intent
from tests.fakes.market import ensure_registry, seed_prices

T0 = 1_700_000_040_000
ACCOUNTS = 3
ROUNDS = 3


def _intents() -> list[tuple[int, str, dict]]:
    """(account, key, payload): per account, rounds of open/add/partial close/close."""
    plan = []
    for n in range(ROUNDS):
        for account in range(1, ACCOUNTS + 1):
            side = "LONG" if (n + account) % 2 else "SHORT"
            for i, payload in enumerate(
                [
                    {"action": "OPEN", "symbol": "ADA", "side": side, "qty": str(10 + n)},
                    {"action": "OPEN", "symbol": "SOL", "side": side, "notional_usd": "250"},
                    {"action": "OPEN", "symbol": "ADA", "side": side, "qty": "5"},
                    {"action": "CLOSE", "symbol": "ADA", "qty": "7"},
                    {"action": "CLOSE", "symbol": "SOL"},
                    {"action": "CLOSE", "symbol": "ADA"},
                ]
            ):
                plan.append((account, f"acct{account}:round{n}:step{i}", payload))
    return plan


def _prepare(path: Path) -> None:
    store = open_store(load_settings(), path=path)
    clock = SimulatedClock(T0)
    ensure_registry(store, clock)
    seed_prices(store, clock, "ADA", [2.0], T0 - 60_000)
    seed_prices(store, clock, "SOL", [100.0], T0 - 60_000)
    rules = AccountRules(max_daily_trades=1000, slippage_bps=D(5))
    for _ in range(ACCOUNTS):
        open_account(
            store, clock, clone_id=1, kind="sandbox", starting_balance=D(10_000), rules=rules
        )
    store.close()


def _submit_all(path: str, barrier, seed: int = 0) -> list[tuple[str, bool, bool]]:
    store = open_store(load_settings(), path=Path(path))
    clock = SimulatedClock(T0)
    # The registry's steps, not ccxt: four ccxt imports would cost more than the race itself.
    desk = PropDesk(store, clock, StepPrecision(market_repo.list_assets(store)))
    pause = random.Random(seed)
    barrier.wait()
    outcomes = []
    for account, key, payload in _intents():
        sub = desk.submit(account, parse_intent(payload), idempotency_key=key)
        outcomes.append((key, sub.accepted, sub.replayed))
        time.sleep(pause.random() * 0.003)  # else the first process to start does everything
    store.close()
    return outcomes


def _summary(path: Path) -> dict:
    store = open_store(load_settings(), path=path)
    try:
        return {
            "fills_by_key": dict(
                list(
                    store.tuples(
                        "SELECT idempotency_key, COUNT(*) FROM prop_fills GROUP BY idempotency_key"
                    )
                )
            ),
            "intents": store.scalar("SELECT COUNT(*) FROM prop_intents"),
            "balances": [prop_repo.balance(store, a) for a in range(1, ACCOUNTS + 1)],
            "ledger_sum": sum(
                (D(r[0]) for r in store.tuples("SELECT amount FROM ledger_entries")), D(0)
            ),
            "positions": store.query(
                "SELECT account_id, symbol, side, status, qty, entry_price, realized_pnl"
                " FROM positions ORDER BY id"
            ),
        }
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.xdist_group("processes")  # on one worker, one at a time: they start processes
def test_four_processes_with_the_same_keys_fill_each_key_exactly_once(tmp_path):
    shared, alone = tmp_path / "shared.db", tmp_path / "alone.db"
    _prepare(shared)
    _prepare(alone)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(4)
        with ctx.Pool(4) as pool:
            results = pool.starmap(_submit_all, [(str(shared), barrier, i) for i in range(4)])
    single = _submit_all(str(alone), _NoBarrier())

    plan = _intents()
    expected = _summary(alone)
    got = _summary(shared)
    accepted_keys = {  # as stored: in each account's manual namespace
        f"manual:{account}:{key}"
        for (account, key, _), (_, accepted, _) in zip(plan, single, strict=True)
        if accepted
    }
    assert len(accepted_keys) > len(plan) // 2  # most keys had a fill to race for
    assert got["fills_by_key"] == {key: 1 for key in accepted_keys}
    assert got["intents"] == len(plan)
    assert got == expected
    executed_by = [sum(1 for _, _, replayed in outcomes if not replayed) for outcomes in results]
    assert sorted(executed_by)[-2] > 0, executed_by  # at least two processes booked something
    for i in range(len(plan)):
        first = [r[i] for r in results if not r[i][2]]  # exactly one process did it
        assert len(first) == 1, plan[i][1]
        assert first[0][1] == single[i][1]  # with the sequential outcome


class _NoBarrier:
    def wait(self) -> None:
        return None
