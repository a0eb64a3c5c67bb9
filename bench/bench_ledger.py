"""``ledger show`` first page and ``ledger verify`` on a large ledger (1,000,000 entries over 1,000
accounts; ``--quick``: 100,000).

Targets (issue 7): the first page in at most 200 ms, a full verify of every account in at most
10 s. The exact per-kind totals footer over an unfiltered ledger is a pass over every entry
(Decimal sums, no float shortcut): it is reported on its own, against "well under a second"
(the CLI prints the page first and the footer after it). The baseline is a raw
``SELECT … ORDER BY id DESC LIMIT 50`` on the same store in the same run, so the ratio says what
filtering, decoding and the join to the account cost on top of SQLite.

``verify`` all is also reported against a plain scan of every table it reads, streamed as tuples
in the same run (``vs full scan``): the fair figure on a machine whose load swings absolute times.

The ledger is built with raw ``executemany`` of rows the engine could have written: per account a
DEPOSIT, then round trips (open fill + FEE, hourly FUNDING, close fill + REALIZED_PNL + FEE), each
fill with its order and intent, each position closed at zero, snapshots every 50 entries, and
balance chains that add up; and a 1m bar of each symbol for every minute of it, the range of
every price traded then — so ``verify`` walks real work, fill prices against their bars
included, and must find nothing.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from bench._harness import BenchResult, median_seconds

SHOW_TARGET_S = 0.2
TOTALS_TARGET_S = 1.0  # "well under a second": the footer is an exact pass over the filter
VERIFY_TARGET_S = 10.0
T0 = 1_700_000_000_000
STEP_MS = 1_000
MINUTE_MS = 60_000
SYMBOLS = ("BTC", "ETH", "SOL")
BAR_LOW, BAR_HIGH = 99.0, 150.0  # every price traded lies in 100 ± 50, exits within ± 0.75
FEE_RATE = Decimal("0.00045")
START = Decimal(10_000)


@dataclass
class _Account:
    id: int
    balance: Decimal = Decimal(0)
    trade: int = 0
    stage: int = 0  # 0 open, 1 funding, 2 close (2 entries), back to 0
    position: dict = field(default_factory=dict)
    entries: int = 0


@dataclass
class _Rows:
    intents: list = field(default_factory=list)
    orders: list = field(default_factory=list)
    fills: list = field(default_factory=list)
    positions: dict = field(default_factory=dict)  # id -> row (mutable until written)
    ledger: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)


def _text(value: Decimal) -> str:
    return "0" if value == 0 else format(value.normalize(), "f")


class _Builder:
    """Generates consistent rows with ids assigned up front (one pass, no reads back)."""

    def __init__(self) -> None:
        self.rows = _Rows()
        self.ids = {"intent": 0, "order": 0, "fill": 0, "position": 0, "entry": 0}
        self.now = T0

    def _next(self, kind: str) -> int:
        self.ids[kind] += 1
        return self.ids[kind]

    def entry(self, acct: _Account, kind: str, amount: Decimal, **refs) -> None:
        acct.balance += amount
        entry_id = self._next("entry")
        self.rows.ledger.append(
            (
                entry_id,
                acct.id,
                kind,
                _text(amount),
                _text(acct.balance),
                refs.get("symbol"),
                refs.get("fill"),
                refs.get("order"),
                refs.get("position"),
                refs.get("key"),
                self.now,
            )
        )
        acct.entries += 1
        if acct.entries % 50 == 0:
            self.rows.snapshots.append(
                (acct.id, self.now // 60_000 * 60_000, _text(acct.balance), entry_id)
            )

    def _fill(self, acct: _Account, position: dict, side: str, purpose: str, price: Decimal):
        intent, order, fill = self._next("intent"), self._next("order"), self._next("fill")
        qty = position["max_qty"]
        notional = qty * price
        fee = notional * FEE_RATE
        key = f"manual:{acct.id}:bench:{fill}"  # a manual order's key, in its account's namespace
        self.rows.intents.append((intent, acct.id, position["symbol"], purpose, key, self.now))
        self.rows.orders.append(
            (order, acct.id, intent, position["symbol"], side, purpose, _text(qty), self.now)
        )
        self.rows.fills.append(
            (
                *(fill, acct.id, order, position["id"], position["symbol"], side, _text(qty)),
                *(_text(price), _text(notional), _text(fee), key, self.now),
            )
        )
        refs = {"symbol": position["symbol"], "fill": fill, "order": order}
        return fee, refs | {"position": position["id"]}

    def step(self, acct: _Account) -> None:
        self.now += STEP_MS
        if acct.entries == 0:
            self.entry(acct, "DEPOSIT", START)
            return
        symbol = SYMBOLS[acct.trade % 3]
        if acct.stage == 0:
            acct.trade += 1
            price = Decimal(100 + (acct.id * 7 + acct.trade * 13) % 50)
            position = {
                "id": self._next("position"),
                "account_id": acct.id,
                "symbol": symbol,
                "max_qty": Decimal("1.5"),
                "entry": price,
                "opened_at": self.now,
                "funding": Decimal(0),
                "fees": Decimal(0),
            }
            acct.position = position
            self.rows.positions[position["id"]] = position
            fee, refs = self._fill(acct, position, "BUY", "OPEN", price)
            position["fees"] += fee
            self.entry(acct, "FEE", -fee, **refs)
            acct.stage = 1
        elif acct.stage == 1:
            position = acct.position
            amount = Decimal("-0.0123") if acct.trade % 2 else Decimal("0.0045")
            position["funding"] += amount
            key = f"funding:{position['id']}:{self.now}"
            self.entry(
                acct, "FUNDING", amount, symbol=position["symbol"], position=position["id"], key=key
            )
            acct.stage = 2
        else:
            position = acct.position
            exit_price = position["entry"] + Decimal((acct.trade % 7) - 3) / 4
            fee, refs = self._fill(acct, position, "SELL", "CLOSE", exit_price)
            gross = (exit_price - position["entry"]) * position["max_qty"]
            position |= {"exit": exit_price, "closed_at": self.now, "gross": gross}
            position["fees"] += fee
            if gross:
                self.entry(acct, "REALIZED_PNL", gross, **refs)
            self.entry(acct, "FEE", -fee, **refs)
            acct.stage = 0


def build_ledger(path: Path, *, entries: int, accounts: int) -> None:
    """Write a migrated store at ``path`` whose ledger holds about ``entries`` entries."""
    from autotrader.bootstrap import open_store
    from autotrader.core.settings import load_settings

    open_store(load_settings(), path=path).close()  # every table and index, migrated
    builder = _Builder()
    accts = [_Account(i + 1) for i in range(accounts)]
    per_account = entries // accounts
    while builder.ids["entry"] < entries:
        for acct in accts:
            if acct.entries < per_account:
                builder.step(acct)
        if all(a.entries >= per_account for a in accts):
            break
    _write(path, builder, accts)


def _write(path: Path, builder: _Builder, accts: list[_Account]) -> None:
    from autotrader.prop.models import AccountRules

    rows = builder.rows
    rules = json.dumps(AccountRules().model_dump(mode="json"), sort_keys=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")  # 256 MiB: index builds stay in memory
    # Bulk load without the secondary indexes, then build each once (several times faster than
    # maintaining them row by row); UNIQUE constraints stay and keep guarding the keys.
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        " AND name NOT LIKE 'idx_positions_one_open'"
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO prop_accounts (id, clone_id, kind, starting_balance, status, rules,"
        " peak_equity, created_at, started_at, updated_at)"
        " VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?, ?)",
        [
            (
                a.id,
                1000 + a.id,
                ("sandbox", "audition", "race")[a.id % 3],
                _text(START),
                rules,
                _text(START),
                T0,
                T0,
                T0,
            )
            for a in accts
        ],
    )
    conn.executemany(
        "INSERT INTO prop_intents (id, account_id, origin, symbol, action, payload, status,"
        " gate_results, idempotency_key, created_at)"
        " VALUES (?, ?, 'manual', ?, ?, '{}', 'accepted', '[]', ?, ?)",
        rows.intents,
    )
    conn.executemany(
        "INSERT INTO prop_orders (id, account_id, intent_id, symbol, side, purpose, qty, status,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'FILLED', ?)",
        rows.orders,
    )
    conn.executemany(
        "INSERT INTO positions (id, account_id, symbol, side, status, qty, max_qty, entry_price,"
        " leverage, margin, fees_paid, funding_paid, realized_pnl, exit_price, close_trigger,"
        " opened_at, closed_at, updated_at)"
        " VALUES (?, ?, ?, 'LONG', ?, ?, ?, ?, '1', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [_position_row(p) for p in rows.positions.values()],
    )
    conn.executemany(
        "INSERT INTO prop_fills (id, account_id, order_id, position_id, symbol, side, qty, price,"
        " reference_price, slippage_bps, notional, fee, fee_rate, idempotency_key, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?8, '0', ?, ?, '0.00045', ?, ?)",
        rows.fills,
    )
    conn.executemany(
        "INSERT INTO ledger_entries (id, account_id, kind, amount, balance_after, symbol, fill_id,"
        " order_id, position_id, idempotency_key, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows.ledger,
    )
    conn.executemany(
        "INSERT INTO candles (source, symbol, timeframe, open_time, open, high, low, close,"
        " volume) VALUES ('hyperliquid', ?, '1m', ?, ?3, ?4, ?5, ?3, 1)",
        [
            (symbol, minute, (BAR_LOW + BAR_HIGH) / 2, BAR_HIGH, BAR_LOW)
            for symbol in SYMBOLS
            for minute in range(T0 - MINUTE_MS, builder.now + MINUTE_MS, MINUTE_MS)
        ],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO account_snapshots (account_id, time, balance, cash, margin_used,"
        " unrealized_pnl, equity, peak_equity, drawdown, open_positions, last_ledger_id)"
        " VALUES (?, ?, ?3, ?3, '0', '0', ?3, ?3, '0', 0, ?)",
        rows.snapshots,
    )
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


def _position_row(p: dict) -> tuple:
    closed = "closed_at" in p
    margin = Decimal(0) if closed else p["max_qty"] * p["entry"]
    return (
        p["id"],
        p["account_id"],
        p["symbol"],
        "CLOSED" if closed else "OPEN",
        "0" if closed else _text(p["max_qty"]),
        _text(p["max_qty"]),
        _text(p["entry"]),
        _text(margin),
        _text(p["fees"]),
        _text(p["funding"]),
        _text(p.get("gross", Decimal(0))),
        _text(p["exit"]) if closed else None,
        "MANUAL" if closed else None,
        p["opened_at"],
        p.get("closed_at"),
        p.get("closed_at", p["opened_at"]),
    )


def run(quick: bool = False) -> list[BenchResult]:
    """Build the ledger in a temp dir, then time the first page and verify (one, all)."""
    from autotrader.bootstrap import open_store
    from autotrader.core.settings import load_settings
    from autotrader.ledger.queries import LedgerFilter, ledger_page
    from autotrader.ledger.verify import verify_ledger

    entries, accounts = (100_000, 1_000) if quick else (1_000_000, 1_000)
    repeat = 5 if quick else 9
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as folder:
        path = Path(folder) / "ledger.db"
        started = time.perf_counter()
        build_ledger(path, entries=entries, accounts=accounts)
        print(f"   built {entries:,} entries in {time.perf_counter() - started:.1f} s", flush=True)
        store = open_store(load_settings(), path=path)
        try:
            raw = median_seconds(
                lambda: list(
                    store.tuples("SELECT * FROM ledger_entries ORDER BY id DESC LIMIT 50")
                ),
                repeat=repeat,
            )
            page = median_seconds(
                lambda: ledger_page(store, LedgerFilter(), limit=50, with_totals=False),
                repeat=repeat,
            )
            totals = median_seconds(
                lambda: ledger_page(store, LedgerFilter(), limit=50), repeat=repeat
            )
            account = median_seconds(
                lambda: ledger_page(store, LedgerFilter(account_id=accounts // 2), limit=50),
                repeat=repeat,
            )
            one = median_seconds(lambda: verify_ledger(store, account_id=accounts // 2), repeat=3)
            scan = median_seconds(lambda: _full_scan(store), repeat=3)
            started = time.perf_counter()
            report = verify_ledger(store)
            full = time.perf_counter() - started
        finally:
            store.close()
        if report.violations:
            raise AssertionError(f"bench ledger is inconsistent: {report.violations[:3]}")
        command = _cli_command(path)
        cli = median_seconds(lambda: _run(command), repeat=3)
        bare = median_seconds(lambda: _run([sys.executable, "-c", "pass"]), repeat=3)
    show = f"{entries // 1000}k entries"
    return [
        BenchResult(
            f"ledger show page 1 ({show})",
            page,
            "s",
            raw,
            "vs raw SELECT",
            f"<= {SHOW_TARGET_S} s",
            page <= SHOW_TARGET_S,
        ),
        BenchResult(
            f"ledger show page 1 + exact totals ({show})",
            totals,
            "s",
            raw,
            "vs raw SELECT",
            f"<= {TOTALS_TARGET_S} s",
            totals <= TOTALS_TARGET_S,
        ),
        BenchResult(f"ledger show --account page 1 + totals ({show})", account, "s", raw),
        BenchResult(f"autotrader ledger show, new process ({show})", cli, "s", bare, "vs python"),
        BenchResult(f"ledger verify one account ({show})", one, "s"),
        BenchResult(
            f"ledger verify all {accounts} accounts ({show})",
            full,
            "s",
            scan,
            "vs full scan",
            target=f"<= {VERIFY_TARGET_S} s",
            passed=full <= VERIFY_TARGET_S,
        ),
    ]


VERIFIED_TABLES = (
    "prop_accounts",
    "ledger_entries",
    "prop_fills",
    "prop_orders",
    "prop_intents",
    "positions",
    "account_snapshots",
)


def _full_scan(store) -> None:
    """Stream every row of every table ``verify`` reads, as tuples: the floor under any verify
    that looks at each row once from Python, and the same-run baseline of its ratio (the
    machine's load swings absolute times several-fold)."""
    for table in VERIFIED_TABLES:
        for _ in store.tuples(f"SELECT * FROM {table}"):
            pass


def _cli_command(path: Path) -> list[str]:
    """``autotrader ledger show --db PATH``; the ledger app on its own until the root has it."""
    from autotrader.cli.app import app

    if any(group.name == "ledger" for group in app.registered_groups):
        script = Path(sys.executable).with_name("autotrader")
        root = [str(script)] if script.exists() else [sys.executable, "-m", "autotrader"]
        return [*root, "ledger", "show", "--db", str(path)]
    code = "from autotrader.cli.ledger import app; app(prog_name='autotrader ledger')"
    return [sys.executable, "-c", code, "show", "--db", str(path)]


def _run(command: list[str]) -> None:
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


if __name__ == "__main__":
    for result in run():
        print(result)
