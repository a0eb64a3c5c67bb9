"""A fixed trading day through the real prop engine, for the ledger's tests and goldens.

The bundled BTC/ETH 5m candles are imported under a replay clock (as the demo does); three
accounts then trade through ``PropDesk.submit`` and hourly ``MarkToMarket`` passes:

- account 1 (clone 42, sandbox): the demo's orders — a BTC long and an ETH short with tight exit
  plans (stops/targets fire during the replay) and an oversized BTC order the gates reject;
- account 2 (clone 7, audition): a manual BTC long opened at +1 h and closed at +5 h, an ETH
  long opened at +20 h and left open (unrealized PnL, hourly funding from seeded rates);
- account 3 (clone 42, race): no trades, frozen and unfrozen by an admin (zero ADJUSTMENTs).

Everything is deterministic: the same store comes out of every run.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from autotrader.core.clock import SimulatedClock
from autotrader.core.db import Store
from autotrader.core.money import to_text
from autotrader.demo import bundled_candles, demo_orders, replay_end_ms
from autotrader.market.ingest import Ingestor
from autotrader.market.registry import ensure_assets
from autotrader.prop.accounts import open_account
from autotrader.prop.admin import admin_action
from autotrader.prop.execution import PropDesk
from autotrader.prop.gates import Precision
from autotrader.prop.models import AccountRules, parse_intent
from autotrader.prop.mtm import MarkToMarket
from tests.fakes.market import HOUR, seed_funding


@dataclass(frozen=True)
class Scenario:
    start_ms: int  # when the accounts open (a day before the data ends)
    end_ms: int  # the replay clock at the end
    accounts: tuple[int, int, int]


def _precision(store: Store, clock: SimulatedClock) -> Precision:
    from autotrader.bootstrap import precision

    return precision(store, clock)


def build_scenario(store: Store, clock: SimulatedClock) -> Scenario:
    """Run the fixed day on ``store`` and leave ``clock`` at its end."""
    files = bundled_candles()
    end = replay_end_ms(files)
    start = end - 24 * HOUR
    clock.set(end)
    ensure_assets(store, clock)
    ingestor = Ingestor(store, clock)
    for symbol, (path, timeframe) in files.items():
        ingestor.import_file(path, symbol=symbol, timeframe=timeframe)
    # Funding observed mid-hour every hour of the day (longs pay a positive rate).
    for symbol, oracle in (("BTC", 68_000.0), ("ETH", 2_000.0)):
        seed_funding(
            store, symbol, [(start + h * HOUR + HOUR // 2, 0.0000125, oracle) for h in range(24)]
        )

    clock.set(start)
    precision = _precision(store, clock)
    desk = PropDesk(store, clock, precision)
    mtm = MarkToMarket(store, clock, precision)
    balance = Decimal(10_000)
    first = open_account(
        store, clock, clone_id=42, kind="sandbox", starting_balance=balance, rules=AccountRules()
    )
    second = open_account(
        store, clock, clone_id=7, kind="audition", starting_balance=balance, rules=AccountRules()
    )
    third = open_account(
        store,
        clock,
        clone_id=42,
        kind="race",
        starting_balance=Decimal(5_000),
        rules=AccountRules(),
    )
    for order in demo_orders(store, start):
        order.pop("why")
        plan = {k: order.pop(k) for k in ("stop", "target")}
        intent = {
            "action": "OPEN",
            "symbol": order["symbol"],
            "side": order["side"].upper(),
            "notional_usd": to_text(order["notional"]),
            "leverage": order["leverage"],
            "exit_plan": {k: to_text(v) for k, v in plan.items() if v is not None} or None,
        }
        desk.submit(first, parse_intent({k: v for k, v in intent.items() if v is not None}))

    manual = {
        1: {
            "action": "OPEN",
            "symbol": "BTC",
            "side": "LONG",
            "notional_usd": "1500",
            "leverage": 2,
        },
        5: {"action": "CLOSE", "symbol": "BTC"},
        20: {
            "action": "OPEN",
            "symbol": "ETH",
            "side": "LONG",
            "notional_usd": "800",
            "leverage": 4,
        },
    }
    for hour in range(1, 25):
        clock.set(start + hour * HOUR)
        if hour in manual:
            sub = desk.submit(second, parse_intent(manual[hour]), idempotency_key=f"manual:{hour}")
            assert sub.accepted, sub.reason
        if hour == 12:
            admin_action(
                store, clock, precision, account_id=third, action="freeze", reason="review"
            )
        if hour == 13:
            admin_action(
                store, clock, precision, account_id=third, action="unfreeze", reason="cleared"
            )
        mtm.run()
    return Scenario(start, clock.now_ms(), (first, second, third))


def build_scenario_file(folder: Path) -> tuple[Path, Scenario]:
    """Build the scenario once into ``folder/scenario.db`` and close it (checkpointed), so tests
    can copy the file instead of replaying the day each time."""
    from autotrader.schema import MIGRATION_SETS

    path = folder / "scenario.db"
    store = Store(path, migrations=MIGRATION_SETS)
    try:
        scenario = build_scenario(store, SimulatedClock(0))
    finally:
        store.close()
    return path, scenario


def open_copy(source: Path, folder: Path) -> Store:
    """A fresh, migrated store on a copy of a built scenario file."""
    from autotrader.schema import MIGRATION_SETS

    target = folder / "ledger.db"
    shutil.copyfile(source, target)
    return Store(target, migrations=MIGRATION_SETS)
