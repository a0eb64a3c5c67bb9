"""Benchmark: the prop desk's trading step and mark-to-market.

1. Gate + fill + ledger for one intent (``PropDesk.submit``: gates, intent row, order, fill,
   position, ledger entries), alternating OPEN and CLOSE so no limit is hit, in intents/s:
   on ONE account and round-robin across 1,000 accounts (100 with ``--quick``), each both one
   transaction per intent and batched (``PropDesk.submit_many``, 50 intents — or 25 accounts'
   OPEN+CLOSE pairs — per transaction). Same-run baselines: one plain INSERT + COMMIT per
   intent on the same file (the commit floor of the one-transaction path), and the pure gates
   (``evaluate_intent`` on a prebuilt context, no I/O) for the batched path. Target: >= 2,000
   intents/s, batched where the caller allows.
2. Mark-to-market of 1,000 accounts × 10 open positions (100 × 10 with ``--quick``) after one
   new 1m bar per symbol, in seconds. Baseline: reading every open position in one query and
   writing one snapshot row per account with plain ``sqlite3``. Target: <= 1 s.

Accounts trade the packaged registry's perps through ccxt's precision (part 1); part 2 needs
ten symbols, so it registers ten synthetic perps and uses the registry's step precision.
Run with ``python -m bench prop [--quick]``.
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from autotrader.bootstrap import precision as ccxt_precision
from autotrader.core.clock import SimulatedClock
from autotrader.core.db import Store
from autotrader.market import repo as market_repo
from autotrader.market.ingest import Ingestor
from autotrader.market.models import AssetInfo, Candle
from autotrader.market.registry import ensure_assets
from autotrader.prop import repo as prop_repo
from autotrader.prop.accounts import open_account
from autotrader.prop.execution import PropDesk, account_view
from autotrader.prop.gates import GateContext, StepPrecision, evaluate_intent
from autotrader.prop.models import AccountRules, TradeIntent, parse_intent
from autotrader.prop.mtm import MarkToMarket
from autotrader.schema import MIGRATION_SETS
from bench._harness import BenchResult

T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC
MINUTE = 60_000
TARGET_INTENTS_PER_S = 2000
TARGET_MTM_S = 1.0
BATCH = 50
HISTORY = 8000  # intents an account has already traded, for the "worn account" line
RULES = AccountRules(
    max_leverage=20,
    max_position_notional=Decimal(1_000_000),
    max_open_positions=20,
    max_daily_trades=100_000,
    max_drawdown=Decimal(1),
)
PRICES = {"ADA": 2.0, "SOL": 100.0, "ETH": 3000.0, "BTC": 60_000.0}
OPEN = parse_intent({"action": "OPEN", "symbol": "ADA", "side": "LONG", "qty": "30"})
CLOSE = parse_intent({"action": "CLOSE", "symbol": "ADA"})
MTM_SYMBOLS = tuple(f"SYN{i}" for i in range(10))


def _store(folder: Path, name: str) -> Store:
    return Store(folder / name, migrations=MIGRATION_SETS)


def _bar(symbol: str, open_time: int, close: float) -> Candle:
    return Candle(symbol, "1m", open_time, close, close, close, close, 1.0)


def _seed_bars(store: Store, clock: SimulatedClock, prices: dict[str, float], at: int) -> None:
    """One flat 1m bar per symbol opening at ``at`` (it has closed once the clock is past it)."""
    ingestor = Ingestor(store, clock)
    for symbol, price in prices.items():
        ingestor.store_synthetic([_bar(symbol, at, price)])


def _accounts(store: Store, clock: SimulatedClock, count: int) -> list[int]:
    return [
        open_account(
            store, clock, clone_id=1, kind="sandbox", starting_balance=Decimal(10**6), rules=RULES
        )
        for _ in range(count)
    ]


# -- 1. intents ---------------------------------------------------------------------------------


def _intent_store(folder: Path, name: str, accounts: int) -> tuple[Store, PropDesk, list[int]]:
    store = _store(folder, name)
    clock = SimulatedClock(T0 + MINUTE)
    ensure_assets(store, clock)
    _seed_bars(store, clock, PRICES, T0)
    desk = PropDesk(store, clock, ccxt_precision(store, clock))
    return store, desk, _accounts(store, clock, accounts)


def _rate(count: int, fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return count / (time.perf_counter() - start)


def _one_account(desk: PropDesk, account: int, count: int, batched: bool) -> Callable[[], None]:
    pairs = [OPEN, CLOSE] * (count // 2)

    def single() -> None:
        for intent in pairs:
            desk.submit(account, intent)

    def batches() -> None:
        for i in range(0, len(pairs), BATCH):
            desk.submit_many(account, pairs[i : i + BATCH])

    return batches if batched else single


def _many_accounts(desk: PropDesk, accounts: list[int], batched: bool) -> Callable[[], None]:
    def single() -> None:
        for intent in (OPEN, CLOSE):
            for account in accounts:
                desk.submit(account, intent)

    def batches() -> None:
        per_txn = BATCH // 2
        for i in range(0, len(accounts), per_txn):
            with desk.store.atomic():
                for account in accounts[i : i + per_txn]:
                    desk.submit_many(account, [OPEN, CLOSE])

    return batches if batched else single


def _commit_floor(folder: Path, count: int) -> float:
    """Plain INSERT + COMMIT per row with the store's pragmas: the floor under one txn/intent."""
    conn = sqlite3.connect(folder / "floor.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")

    def run() -> None:
        for i in range(count):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t (payload) VALUES (?)", (f"intent {i}",))
            conn.execute("COMMIT")

    rate = _rate(count, run)
    conn.close()
    return rate


def _gates_alone(store: Store, desk: PropDesk, account_id: int, count: int) -> float:
    """``evaluate_intent`` on a prebuilt context: the pure gate cost, no I/O."""
    now = desk.clock.now_ms()
    account = prop_repo.get_account(store, account_id)
    assert account is not None
    ctx = GateContext(
        intent=OPEN,
        account=account_view(store, account, now),
        asset=market_repo.get_asset(store, "ADA"),
        reference_price=Decimal(2),
        price_time_ms=now,
        precision=desk.precision,
        now_ms=now,
    )
    return _rate(count, lambda: [evaluate_intent(ctx) for _ in range(count)])


def _intent_results(folder: Path, quick: bool) -> list[BenchResult]:
    n_accounts = 100 if quick else 1000
    count = 1000 if quick else 2000
    store, desk, (first, second, worn) = _intent_store(folder, "one.db", 3)
    floor = _commit_floor(folder, count // 2)
    # Each path on its own fresh account: the history an account builds up costs (see below).
    one_single = _rate(count, _one_account(desk, first, count, batched=False))
    one_batched = _rate(count, _one_account(desk, second, count, batched=True))
    gates = _gates_alone(store, desk, first, count)
    target = f">= {TARGET_INTENTS_PER_S} intents/s"
    results = [
        _intents("intent, 1 account, 1 txn each", one_single, floor, "vs commit floor"),
        _intents(f"intent, 1 account, {BATCH}/txn", one_batched, gates, "vs gates", target),
    ]
    if not quick:
        # The day's trade count and the cooldowns scan the account's history (no index covers
        # them): the same batches on an account that already traded HISTORY times today.
        _one_account(desk, worn, HISTORY, batched=True)()
        worn_rate = _rate(count, _one_account(desk, worn, count, batched=True))
        name = f"intent, 1 account after {HISTORY:,} trades, {BATCH}/txn"
        results.append(_intents(name, worn_rate, one_batched, "vs fresh account"))
    store.close()
    store, desk, accounts = _intent_store(folder, "many.db", n_accounts)
    many_single = _rate(2 * n_accounts, _many_accounts(desk, accounts, batched=False))
    many_batched = _rate(2 * n_accounts, _many_accounts(desk, accounts, batched=True))
    store.close()
    return [
        *results,
        _intents(f"intent, {n_accounts} accounts, 1 txn each", many_single, floor, "vs floor"),
        _intents(
            f"intent, {n_accounts} accounts, {BATCH}/txn", many_batched, gates, "vs gates", target
        ),
    ]


def _intents(name: str, value: float, baseline: float, label: str, target: str = "") -> BenchResult:
    return BenchResult(
        name=name,
        value=value,
        unit="intents/s",
        baseline=baseline,
        ratio_label=label,
        target=target,
        passed=(value >= TARGET_INTENTS_PER_S) if target else None,
    )


# -- 2. mark-to-market --------------------------------------------------------------------------


def _synthetic_assets() -> list[AssetInfo]:
    return [
        AssetInfo(
            symbol=symbol,
            ccxt_symbol=f"{symbol}/USDC:USDC",
            kind="perp",
            base=symbol,
            quote="USDC",
            settle="USDC",
            amount_step="0.01",
            price_tick="0.01",
            min_notional="10",
            max_leverage=20,
        )
        for symbol in MTM_SYMBOLS
    ]


def _mtm_store(folder: Path, n_accounts: int) -> tuple[Store, SimulatedClock, MarkToMarket]:
    """``n_accounts`` accounts, each long or short 10 synthetic perps at 5x, prices at 100."""
    store = _store(folder, "mtm.db")
    clock = SimulatedClock(T0 + MINUTE)
    assets = _synthetic_assets()
    with store.atomic():
        market_repo.upsert_assets(store, assets, now_ms=clock.now_ms())
    _seed_bars(store, clock, dict.fromkeys(MTM_SYMBOLS, 100.0), T0)
    prec = StepPrecision(assets)
    desk = PropDesk(store, clock, prec)
    for i, account in enumerate(_accounts(store, clock, n_accounts)):
        desk.submit_many(account, [_open(symbol, i + j) for j, symbol in enumerate(MTM_SYMBOLS)])
    return store, clock, MarkToMarket(store, clock, prec)


def _open(symbol: str, n: int) -> TradeIntent:
    side = "LONG" if n % 2 else "SHORT"
    stop = "90" if side == "LONG" else "110"  # inside the 5x liquidation price
    return parse_intent(
        {
            "action": "OPEN",
            "symbol": symbol,
            "side": side,
            "notional_usd": "500",
            "leverage": 5,
            "exit_plan": {"stop": stop},
        }
    )


def _mtm_floor(store: Store, n_accounts: int) -> float:
    """Read every open position in one query, write one snapshot row per account (raw)."""
    conn = sqlite3.connect(store.path, isolation_level=None)
    conn.execute("CREATE TEMP TABLE snap (account_id INTEGER, time INTEGER, equity TEXT)")
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    rows = conn.execute("SELECT * FROM positions WHERE status = 'OPEN'").fetchall()
    conn.executemany(
        "INSERT INTO snap VALUES (?, ?, ?)", ((i, T0, "1000") for i in range(n_accounts))
    )
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    assert len(rows) == n_accounts * len(MTM_SYMBOLS)
    return elapsed


def _mtm_results(folder: Path, quick: bool) -> list[BenchResult]:
    n_accounts = 100 if quick else 1000
    store, clock, mtm = _mtm_store(folder, n_accounts)
    times = []
    for minute in range(3):
        # A new bar per symbol, wiggling 1 % around 100: every position is marked, none exits.
        bar_open = T0 + (minute + 1) * MINUTE
        prices = {s: 100.0 + (1 if (minute + k) % 2 else -1) for k, s in enumerate(MTM_SYMBOLS)}
        _seed_bars(store, clock, prices, bar_open)
        clock.set(bar_open + MINUTE)
        start = time.perf_counter()
        report = mtm.run()
        times.append(time.perf_counter() - start)
        assert report.marked == n_accounts * len(MTM_SYMBOLS), report.summary()
    floor = _mtm_floor(store, n_accounts)
    store.close()
    value = statistics.median(times)
    return [
        BenchResult(
            name=f"mark-to-market, {n_accounts} accounts x {len(MTM_SYMBOLS)} positions",
            value=value,
            unit="s",
            baseline=floor,
            ratio_label="vs raw read+snapshot",
            target=f"<= {TARGET_MTM_S} s" + (" (at 1,000 accounts)" if quick else ""),
            passed=value <= TARGET_MTM_S,
        )
    ]


def run(quick: bool = False) -> list[BenchResult]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        return _intent_results(folder, quick) + _mtm_results(folder, quick)


if __name__ == "__main__":
    for result in run(quick=True):
        print(result)
