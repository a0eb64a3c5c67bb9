"""kill -9 for every worker: the decisions worker (model calls to the loopback OpenAI fake), the
mark-to-market loop and the ingest worker (the loopback Hyperliquid fake) each run as a real
process on a real store file and are killed with SIGKILL at random points of their ticks, round
after round; a new worker process starts each time, and a last one runs to its end. Then the
store is sound (``PRAGMA integrity_check``, ``ledger verify``), nothing is duplicated, the work is
complete, and a killed decisions worker's runs were taken over at once: the replay clock stands
still, so only the gone-worker recovery (not the ten-minute fallback) can have requeued them.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import pytest

from autotrader.clones.management import create_clone
from autotrader.core.clock import iso_utc
from autotrader.ledger.verify import verify_ledger
from autotrader.prop.execution import PropDesk
from autotrader.prop.models import parse_intent
from autotrader.prop.mtm import MarkToMarket
from tests.fakes.decisions import (
    HOUR,
    copy_store,
    market_template,
    open_test_store,
    pipeline_graph,
    replay_clock,
    replay_start,
    sandbox_account,
    save_pipeline,
)
from tests.fakes.hyperliquid_server import FakeHyperliquid, make_candle_rows
from tests.fakes.market import seed_funding
from tests.fakes.openai_server import FakeOpenAI, Reply

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("processes")]

ROUNDS = 3  # kill -9 rounds per worker, then one worker that runs to its end
MINUTE = 60_000
OPEN_BTC = {
    "action": "OPEN",
    "symbol": "BTC",
    "side": "LONG",
    "qty": "0.01",
    "leverage": 2,
    "exit_plan": {"stop": "60000"},
    "policy_id": "trend_macd",
    "hypothesis": "kill -9 probe",
}


def _env(home: Path, now_ms: int, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOTRADER_", "OPENAI_"))}
    return {
        **clean,
        "AUTOTRADER_DATA_DIR": str(home),
        "AUTOTRADER_NOW": iso_utc(now_ms),
        "AUTOTRADER_ARTIFACTS": "memory",
        "AUTOTRADER_LOG_FORMAT": "json",
        **extra,
    }


def _start(args: list[str], env: dict[str, str], db: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "autotrader", *args, "--db", str(db)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """A read from outside the workers, as another process would."""
    with closing(sqlite3.connect(db, timeout=10)) as conn:
        return conn.execute(sql, params).fetchall()


def _wait(until: Callable[[], bool], proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        assert proc.poll() is None, f"the worker exited ({proc.returncode}) before its tick"
        assert time.monotonic() < deadline, "the worker never got to its tick"
        time.sleep(0.01)


def _kill_mid_tick(
    proc: subprocess.Popen, ticking: Callable[[], bool], rng: random.Random, window_s: float
) -> None:
    """Once ``ticking`` says the tick is under way, SIGKILL the worker at a random point of
    the next ``window_s`` seconds, and reap it (a zombie's pid would still look alive)."""
    _wait(ticking, proc)
    time.sleep(rng.uniform(0, window_s))
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL


def _run_to_the_end(args: list[str], env: dict[str, str], db: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "autotrader", *args, "--db", str(db)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert ", 0 failed;" in done.stdout, done.stdout


def _assert_sound(db: Path) -> None:
    assert _rows(db, "PRAGMA integrity_check") == [("ok",)]
    store = open_test_store(db)
    try:
        report = verify_ledger(store)
        assert report.ok, [(v.check, v.message) for v in report.violations]
    finally:
        store.close()
    for table in ("prop_fills", "prop_intents", "ledger_entries"):
        assert (
            _rows(
                db,
                f"SELECT idempotency_key FROM {table} WHERE idempotency_key IS NOT NULL"
                " GROUP BY idempotency_key HAVING COUNT(*) > 1",
            )
            == []
        )


# -- the decisions worker -------------------------------------------------------------------


CLONES = 12


def _decisions_store(template: Path, db: Path) -> None:
    copy_store(template, db)
    store, clock = open_test_store(db), replay_clock()
    try:
        graph = pipeline_graph(engine="llm", symbols=("BTC",))
        save_pipeline(store, clock, graph)
        sandbox_account(store, clock)
        for n in range(1, CLONES):
            create_clone(store, clock, name=f"probe-{n}", clone_id=100 + n)
            save_pipeline(store, clock, graph, clone_id=100 + n)
            sandbox_account(store, clock, 100 + n)
    finally:
        store.close()


def test_killed_decisions_workers_lose_no_run_and_fill_none_twice(tmp_path, tmp_path_factory):
    db, rng = tmp_path / "decisions.db", random.Random(9)
    _decisions_store(market_template(tmp_path_factory), db)

    def slow_model(body: dict) -> Reply:
        time.sleep(0.3)  # a model call in flight is what a kill interrupts
        return Reply.json(OPEN_BTC)

    with FakeOpenAI() as fake:
        fake.responder = slow_model
        env = _env(
            tmp_path / "home",
            replay_start(),
            OPENAI_BASE_URL=fake.url,
            OPENAI_API_KEY="sk-test-kill9",
            AUTOTRADER_LLM_API="chat",
            AUTOTRADER_LLM_CACHE="off",
            AUTOTRADER_LLM_RETRIES="0",
            AUTOTRADER_DECISION_CONCURRENCY="4",
        )
        worker = ["decisions", "worker", "--interval", "0.05"]
        interrupted = 0
        for _ in range(ROUNDS):
            proc = _start(worker, env, db)
            _kill_mid_tick(
                proc,
                lambda pid=proc.pid: bool(
                    _rows(
                        db,
                        "SELECT 1 FROM decision_runs WHERE status = 'running'"
                        " AND claimed_by LIKE ?",
                        (f"%:{pid}",),
                    )
                ),
                rng,
                window_s=0.8,
            )
            left = _rows(db, "SELECT COUNT(*) FROM decision_runs WHERE status = 'running'")
            interrupted += left[0][0] > 0
        _run_to_the_end([*worker, "--max-ticks", "2"], env, db)

    assert interrupted, "no kill landed while runs were in flight"
    runs = _rows(db, "SELECT status, attempts, error, claimed_by FROM decision_runs")
    assert len(runs) == CLONES  # one per account and bucket, however often it was retried
    for status, attempts, error, _ in runs:
        # Succeeded, or — claimed by each of the killed workers in turn — failed as abandoned.
        assert status == "succeeded" or (status, attempts) == ("failed", 3), (status, error)
        assert status == "succeeded" or error.startswith("abandoned")
    executed = _rows(
        db,
        "SELECT a.run_id FROM decision_actions a WHERE a.status = 'executed'",
    )
    fills = _rows(db, "SELECT idempotency_key FROM prop_fills")
    assert len(fills) == len(executed)
    assert all(key.startswith("decision:") for (key,) in fills)
    _assert_sound(db)


# -- the mark-to-market loop ----------------------------------------------------------------


ACCOUNTS = 120


def _mtm_store(template: Path, db: Path) -> None:
    """Accounts holding a BTC long and an ETH short with exit plans at staggered distances,
    and funding observed every hour of the day that follows."""
    copy_store(template, db)
    store, clock = open_test_store(db), replay_clock()
    try:
        from autotrader.bootstrap import precision

        desk = PropDesk(store, clock, precision(store, clock))
        seed_funding(
            store,
            "BTC",
            [(replay_start() + h * HOUR + HOUR // 2, 0.0000125, 66_000.0) for h in range(24)],
        )
        seed_funding(
            store,
            "ETH",
            [(replay_start() + h * HOUR + HOUR // 2, -0.00001, 1_950.0) for h in range(24)],
        )
        for n in range(ACCOUNTS):
            account = sandbox_account(store, clock, 42) if n == 0 else _account(store, clock, n)
            spread = Decimal("0.002") * (1 + n % 6)
            for symbol, side, sign in (("BTC", "LONG", -1), ("ETH", "SHORT", 1)):
                price = _price(store, symbol)
                plan = {
                    "stop": str((price * (1 + sign * spread)).quantize(Decimal(1))),
                    "target": str((price * (1 - sign * spread)).quantize(Decimal(1))),
                }
                notional = "800" if symbol == "BTC" else "600"
                intent = {
                    "action": "OPEN",
                    "symbol": symbol,
                    "side": side,
                    "notional_usd": notional,
                    "leverage": 2,
                    "exit_plan": plan,
                }
                assert desk.submit(account, parse_intent(intent)).accepted
    finally:
        store.close()


def _account(store, clock, n: int) -> int:
    create_clone(store, clock, name=f"mtm-{n}", clone_id=200 + n)
    return sandbox_account(store, clock, 200 + n)


def _price(store, symbol: str) -> Decimal:
    from autotrader.market.view import execution_price

    found = execution_price(store, symbol, replay_start())
    assert found is not None
    return found.price


def _outcome(db: Path) -> dict:
    """What mark-to-market decided, independent of when a pass got to each account."""
    return {
        "closes": _rows(
            db,
            "SELECT p.id, p.close_trigger, f.price FROM positions p"
            " JOIN prop_fills f ON f.position_id = p.id JOIN prop_orders o ON o.id = f.order_id"
            " WHERE o.purpose = 'CLOSE' ORDER BY p.id",
        ),
        "funding": _rows(
            db,
            "SELECT idempotency_key, amount FROM ledger_entries WHERE kind = 'FUNDING'"
            " ORDER BY idempotency_key",
        ),
        "open": _rows(db, "SELECT id FROM positions WHERE status = 'OPEN' ORDER BY id"),
    }


def test_killed_mark_to_market_loops_book_every_exit_and_funding_hour_once(
    tmp_path, tmp_path_factory
):
    db, reference, rng = tmp_path / "mtm.db", tmp_path / "reference.db", random.Random(7)
    _mtm_store(market_template(tmp_path_factory), db)
    copy_store(db, reference)
    hours = [replay_start() + (n + 1) * 3 * HOUR for n in range(ROUNDS + 1)]

    loop = ["prop", "mark-to-market", "--loop", "--interval", "0.05"]
    cut_short = 0
    for now in hours[:-1]:  # each round's replay clock later than the last: new hours, new bars
        proc = _start(loop, _env(tmp_path / "home", now), db)
        _kill_mid_tick(
            proc,
            lambda pid=proc.pid: bool(
                _rows(db, "SELECT 1 FROM worker_heartbeats WHERE pid = ?", (pid,))
            ),
            rng,
            window_s=0.4,
        )
        marked = _rows(db, "SELECT COUNT(*) FROM account_snapshots WHERE time = ?", (now,))
        cut_short += marked[0][0] < ACCOUNTS
    _run_to_the_end([*loop, "--max-ticks", "1"], _env(tmp_path / "home", hours[-1]), db)

    store = open_test_store(reference)  # the same hours, passes never interrupted
    try:
        from autotrader.bootstrap import precision
        from autotrader.core.clock import SimulatedClock

        clock = SimulatedClock(hours[0])
        mtm = MarkToMarket(store, clock, precision(store, clock))
        for now in hours:
            clock.set(now)
            mtm.run()
    finally:
        store.close()
    assert cut_short, "no kill landed in the middle of a pass"
    outcome = _outcome(db)
    assert outcome["closes"], "the day fired no exit"
    assert outcome == _outcome(reference)
    _assert_sound(db)


# -- the ingest worker ------------------------------------------------------------------------


SYMBOLS = ("BTC", "ETH", "SOL")


def test_killed_ingest_workers_store_every_candle_once(tmp_path):
    db, rng = tmp_path / "ingest.db", random.Random(5)
    now = 1_700_000_040_000  # on the 1m grid
    start = now - 2 * 24 * HOUR
    with FakeHyperliquid() as fake:
        for symbol in SYMBOLS:
            fake.set_candles(symbol, "1m", make_candle_rows(symbol, "1m", start, 2 * 24 * 60 + 1))
        env = _env(
            tmp_path / "home",
            now,
            AUTOTRADER_HYPERLIQUID_URL=fake.url,
            AUTOTRADER_HTTP_RETRIES="0",
            AUTOTRADER_HTTP_TIMEOUT="5",
            AUTOTRADER_HYPERLIQUID_RATE_LIMIT_MS="1",  # the fake needs no spacing
        )
        worker = ["ingest", "worker", "--source", "hyperliquid", "--symbols", ",".join(SYMBOLS)]
        worker += ["--channels", "ohlcv", "--interval", "0.05"]
        lookback = 24 * 60 + 1  # a first fetch reaches back 24 h (AUTOTRADER_INGEST_LOOKBACK_HOURS)
        cut_short = 0
        for _ in range(ROUNDS):
            fake.delay_next(2 * len(SYMBOLS), 0.1)  # slow answers: the kill lands mid-fetch
            proc = _start(worker, env, db)
            _kill_mid_tick(
                proc,
                lambda seen=len(fake.requests): len(fake.requests) > seen,
                rng,
                window_s=0.5,
            )
            cut_short += _candles(db) != dict.fromkeys(SYMBOLS, lookback)
        _run_to_the_end([*worker, "--max-ticks", "1"], env, db)

    assert cut_short, "no kill landed in the middle of a fetch"
    assert _candles(db) == dict.fromkeys(SYMBOLS, lookback)
    assert (
        _rows(
            db,
            "SELECT source, symbol, timeframe, open_time FROM candles"
            " GROUP BY 1, 2, 3, 4 HAVING COUNT(*) > 1",
        )
        == []
    )
    _assert_sound(db)


def _candles(db: Path) -> dict[str, int]:
    """1m candles stored per symbol (a store a worker never reached has no table yet)."""
    if not _rows(db, "SELECT 1 FROM sqlite_master WHERE name = 'candles'"):
        return {}
    return dict(
        _rows(db, "SELECT symbol, COUNT(*) FROM candles WHERE timeframe = '1m' GROUP BY symbol")
    )
