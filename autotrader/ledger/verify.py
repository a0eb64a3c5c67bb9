"""``ledger verify``: recompute the prop engine's invariants from the rows and report every
violation with the rows involved.

Checks (``CHECKS``, each violation names one):

- ``deposit``     an account's first entry is a DEPOSIT of its starting balance
- ``balance``     an account's balance (its newest entry's balance_after) = Σ of its entries
- ``chain``       each entry's balance_after = the previous entry's (per account, id order) + amount
- ``number``      every stored amount is a finite decimal
- ``entry_ref``   an entry's fill belongs to the same account
- ``fill_order``  every fill has exactly one order (same account) and no order has two fills
- ``fill_intent`` every fill's order has an intent (same account), no intent has two orders
- ``fill_ledger`` every fill's fee is booked as exactly one FEE entry of −fee
- ``fill_price``  a fill's price lies inside the market bars it was filled against, widened by
                  the account's slippage and the price rounding (``autotrader.ledger.fill_prices``;
                  fills with no stored bar at their time are a note, not a violation)
- ``position``    a position's qty = Σ opening fill qty − Σ closing fill qty (closed ⇒ 0), and
                  its fees/realized/funding columns equal its fills' fees and its ledger entries
- ``position_state`` an OPEN position's fills net to more than zero and it has no close time; a
                  CLOSED one's net to zero and it has one
- ``idempotency`` no idempotency key twice (fills, intents, ledger entries); a caller's key lies
                  in its account's and origin's namespace, each fill carries its intent's key
- ``snapshot``    a snapshot's balance = balance_after of its last_ledger_id (same account), and
                  cash = balance − margin used, equity = balance + unrealized PnL
- ``time_range``  every stored time (entries, fills, orders, intents, positions, snapshots) lies
                  in 2000…2100
- ``time_order``  an entry is never dated before the previous entry of its account, nor a fill
                  before the previous fill of its account; a fill is dated as its order and not
                  before its intent; a position opens at its first fill and closes at its last

Read-only and consistent: every query runs in one read transaction, so a worker writing while
``verify`` runs (cron) cannot produce a false violation. Money is Decimal throughout; only the
fill-price check compares against market bars, which are floats, with an allowance far wider
than a float's error.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from autotrader.core.clock import DAY_MS
from autotrader.core.db import Store
from autotrader.core.errors import NotFoundError, OperationalError
from autotrader.core.money import ZERO
from autotrader.ledger.fill_prices import BarBook
from autotrader.ledger.queries import verify as q
from autotrader.ledger.timestamps import END_MS, FIRST_MS, misdated, sane, when
from autotrader.ledger.verify_positions import PositionChecks
from autotrader.market import repo as market_repo
from autotrader.prop.models import AccountRules

CHECKS = (
    "deposit",
    "balance",
    "chain",
    "number",
    "entry_ref",
    "fill_order",
    "fill_intent",
    "fill_ledger",
    "fill_price",
    "position",
    "position_state",
    "idempotency",
    "snapshot",
    "time_range",
    "time_order",
)


@dataclass(frozen=True)
class Violation:
    """One broken invariant: which check, which account, what is wrong, the rows involved."""

    check: str
    account_id: int | None
    message: str
    rows: list[dict] = field(default_factory=list)


@dataclass
class VerifyReport:
    accounts: int = 0
    entries: int = 0
    fills: int = 0
    positions: int = 0
    snapshots: int = 0
    violations: list[Violation] = field(default_factory=list)
    checks: list[str] = field(default_factory=lambda: list(CHECKS))
    notes: list[str] = field(default_factory=list)  # what could not be checked, and why

    @property
    def ok(self) -> bool:
        return not self.violations

    def add_check(self, name: str, problems: list[str]) -> None:
        """Fold another package's invariant check into the report, one store-wide violation per
        problem line: the CLI adds the economy ledger's and the arena's, which the ledger may
        not import."""
        self.checks.append(name)
        self.violations += [Violation(name, None, problem) for problem in problems]

    def summary(self) -> str:
        counts = (
            f"{self.accounts} accounts, {self.entries} entries, {self.fills} fills, "
            f"{self.positions} positions, {self.snapshots} snapshots"
        )
        if self.ok:
            return f"ledger OK: {counts}; {len(self.checks)} checks passed"
        broken = sorted({v.check for v in self.violations})
        return f"ledger BROKEN: {len(self.violations)} violations ({', '.join(broken)}); {counts}"


def _dec(value: object) -> Decimal | None:
    """A stored amount as a finite Decimal, or None when it is not one."""
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


class _Verifier:
    """One verify pass. Hot loops read plain tuples and leave whatever SQLite can decide (joins,
    missing rows, text-equal amounts) to SQL; Python confirms each SQL candidate with Decimals,
    so a value stored in a non-canonical form ("0.150" for "0.15") is never a false alarm."""

    def __init__(self, store: Store, account_id: int | None) -> None:
        self.store = store
        self.account_id = account_id
        self.report = VerifyReport()
        # (position_id, kind) -> Σ amount, collected by the ledger walk
        self.position_money: dict[tuple[int, str], Decimal] = {}
        self.slippage: dict[int, float] = {}  # account -> its slippage as a fraction

    def flag(self, check: str, account_id: int | None, message: str, *rows: dict) -> None:
        self.report.violations.append(Violation(check, account_id, message, list(rows)))

    # -- ledger ------------------------------------------------------------------------------

    def accounts(self) -> dict[int, Decimal | None]:
        accounts: dict[int, Decimal | None] = {}
        rules: dict[str, float] = {}  # accounts mostly share their rules' text: parse it once
        for account, start, text in q.accounts(self.store, self.account_id):
            accounts[account] = _dec(start)
            if text not in rules:
                bps = AccountRules.model_validate_json(text).slippage_bps
                rules[text] = float(bps) / 10_000
            self.slippage[account] = rules[text]
        if self.account_id is not None and not accounts:
            raise NotFoundError(f"prop account {self.account_id} does not exist")
        self.report.accounts = len(accounts)
        return accounts

    def ledger(self, accounts: dict[int, Decimal | None]) -> None:
        """Walk every entry once in id order: chains, balances, deposits, per-position sums,
        times."""
        last: dict[int, tuple] = {}  # account -> (row, balance_after)
        unbroken = set(accounts)
        money = self.position_money
        count = 0
        # Local names: this loop runs once per entry (a million times on a large ledger).
        parse, last_get, money_get, zero = Decimal, last.get, money.get, ZERO
        first, end = FIRST_MS, END_MS
        for row in q.entries(self.store, self.account_id):
            count += 1
            account = row[1]
            previous = last_get(account)
            if not first <= row[6] < end:
                self._misdated("ledger_entries", row[0], account, row[6], _entry(row))
            if previous is not None and row[6] < previous[0][6]:
                self.flag(
                    "time_order",
                    account,
                    f"entry {row[0]} at {when(row[6])} is dated before the entry before it,"
                    f" {previous[0][0]} at {when(previous[0][6])}",
                    _entry(previous[0]),
                    _entry(row),
                )
            try:
                amount, after = parse(row[3]), parse(row[4])
                expected = amount if previous is None else previous[1] + amount
                broken = after != expected or not after.is_finite()
            except (InvalidOperation, TypeError):
                self.flag("number", account, f"entry {row[0]}: not a number", _entry(row))
                continue
            if previous is None:
                self._first_entry(accounts, row, amount)
            if broken:
                unbroken.discard(account)
                rows = [_entry(previous[0])] if previous else []
                self.flag(
                    "chain",
                    account,
                    f"entry {row[0]}: balance_after {row[4]} ≠ "
                    f"{'previous balance + amount' if previous else 'amount'} = {expected}",
                    *rows,
                    _entry(row),
                )
            last[account] = (row, after)  # a break is reported once; the walk goes on from it
            if row[5] is not None:
                key = (row[5], row[2])
                money[key] = money_get(key, zero) + amount
        self.report.entries = count
        for account in accounts:
            if account not in last:
                self.flag("deposit", account, f"account {account} has no ledger entries")
            elif account not in unbroken:
                # An unbroken chain starting at its first amount ends at Σ amounts by induction;
                # only a broken one needs the sum.
                total = self._sum_entries(account)
                if last[account][1] != total:
                    self.flag(
                        "balance",
                        account,
                        f"account {account}: balance {last[account][1]} ≠ Σ entries {total}",
                        _entry(last[account][0]),
                    )
        for account in sorted(set(last) - set(accounts)):
            self.flag("entry_ref", account, f"entries of account {account}, which does not exist")

    def _sum_entries(self, account: int) -> Decimal:
        text = q.entry_amounts(self.store, account)
        try:
            return sum(map(Decimal, (text or "").split(",")), ZERO) if text else ZERO
        except InvalidOperation:
            return Decimal("NaN")  # reported by the number check already

    def _first_entry(self, accounts: dict, row: tuple, amount: Decimal) -> None:
        account, kind = row[1], row[2]
        start = accounts.get(account)
        if kind != "DEPOSIT" or amount != start:
            self.flag(
                "deposit",
                account,
                f"account {account}: first entry is {kind} {row[3]}, "
                f"not a DEPOSIT of its starting balance {start}",
                _entry(row),
            )

    def entry_refs(self) -> None:
        for row in q.foreign_fill_entries(self.store, self.account_id):
            self.flag(
                "entry_ref",
                row["account_id"],
                f"entry {row['id']} names fill {row['fill_id']}, which is missing or another "
                "account's",
                row,
            )

    # -- fills, orders, intents --------------------------------------------------------------

    def fills(self) -> None:
        for r in q.broken_fill_links(self.store, self.account_id):
            fill, account = r["id"], r["account_id"]
            if r["o_id"] is None:
                self.flag("fill_order", account, f"fill {fill}: order {r['order_id']} missing", r)
            elif r["o_account"] != account:
                self.flag("fill_order", account, f"fill {fill}: order of another account", r)
            elif r["i_id"] is None:
                message = f"fill {fill}: intent {r['intent_id']} missing"
                self.flag("fill_intent", account, message, r)
            elif r["i_account"] != account:
                self.flag("fill_intent", account, f"fill {fill}: intent of another account", r)
            else:
                if r["idempotency_key"] != r["i_key"]:
                    message = (
                        f"fill {fill}: key {r['idempotency_key']!r} is not its intent's"
                        f" {r['i_key']!r}"
                    )
                    self.flag("idempotency", account, message, r)
                if r["o_time"] != r["created_at"] or r["i_time"] > r["created_at"]:
                    message = (
                        f"fill {fill} at {when(r['created_at'])}: its order is dated"
                        f" {when(r['o_time'])}, its intent {when(r['i_time'])}"
                    )
                    self.flag("time_order", account, message, r)
        for table, column, check in (
            ("prop_fills", "order_id", "fill_order"),
            ("prop_orders", "intent_id", "fill_intent"),
        ):
            if column in self.store.unique_columns(table):
                continue  # the UNIQUE constraint is in place: no two rows can share the link
            for owner, ids in q.shared_links(self.store, self.account_id, table, column):
                self.flag(check, None, f"{table} {ids} share {column} {owner}")

    def fill_prices(self) -> None:
        """One walk over every fill: its time (in range, not before its account's previous
        fill) and its price against the bars it was filled against (``fill_prices``)."""
        half_ticks = {
            a.symbol: float(a.price_tick) / 2
            for a in market_repo.list_assets(self.store)
            if a.price_tick
        }
        book = BarBook(self.store, half_ticks=half_ticks, **self._fill_span())
        outside, self.report.fills = book.outside(self._dated_fills(), self.slippage)
        contexts = q.fill_contexts(self.store, [f.fill_id for f in outside])
        for f in outside:
            trigger, opened_at = contexts.get(f.fill_id, (None, None))
            if opened_at is not None and book.explained_by_trigger(f, trigger, opened_at):
                continue
            self.flag(
                "fill_price",
                f.account_id,
                f"fill {f.fill_id} ({f.side} {f.symbol} at {when(f.at_ms)}): price {f.price:g}"
                f" outside the bars it was filled against, {f.low:g}…{f.high:g}"
                f" ± {f.slippage * 10_000:g} bps slippage",
                {"id": f.fill_id, "account_id": f.account_id, "trigger": trigger},
            )
        for symbol, count in sorted(book.unchecked.items()):
            self.report.notes.append(
                f"fill_price: {count} fill(s) of {symbol} not checked: no 1m/5m bar of"
                f" {symbol} had closed by their time in the store"
            )

    def _fill_span(self) -> dict[str, int]:
        """For one account, the bars its fills can have been priced against: from a day (the
        1m/5m retention) before its first fill to its last. Every account's fills span the
        store's bars anyway, and finding their first and last would cost a scan."""
        if self.account_id is None:
            return {}
        first, last = q.fill_span(self.store, self.account_id)
        if first is None:
            return {}
        return {"since_ms": first - DAY_MS, "until_ms": last}

    def _dated_fills(self) -> Iterator[tuple]:
        """The fills in id order, checking on the way that each is dated in range and not
        before its account's previous fill."""
        last: dict[int, tuple] = {}
        first, end = FIRST_MS, END_MS
        for row in q.fills(self.store, self.account_id):
            fill, account, at = row[0], row[1], row[5]
            if not first <= at < end:
                self._misdated("prop_fills", fill, account, at, _fill(row))
            previous = last.get(account)
            if previous is not None and at < previous[5]:
                self.flag(
                    "time_order",
                    account,
                    f"fill {fill} at {when(at)} is dated before the fill before it,"
                    f" {previous[0]} at {when(previous[5])}",
                    _fill(previous),
                    _fill(row),
                )
            last[account] = row
            yield row

    def fill_fees(self) -> None:
        """Each fill's fee is one FEE entry of −fee. SQL keeps the fills whose entries are not
        the canonical text of −fee; Python confirms with Decimals."""
        for r in q.misbooked_fees(self.store, self.account_id):
            fee = _dec(r["fee"])
            booked = [_dec(a) for a in (r["amounts"] or "").split(",") if a]
            expected = None if fee is None else [] if fee == 0 else [-fee]
            if booked != expected:
                message = f"fill {r['id']}: fee {r['fee']} booked as FEE entries {booked}"
                self.flag("fill_ledger", r["account_id"], message, r)

    # -- positions ---------------------------------------------------------------------------

    def positions(self) -> None:
        checks = PositionChecks(self.flag, self.position_money)
        self.report.positions = checks.run(self.store, self.account_id)

    # -- times --------------------------------------------------------------------------------

    def _misdated(self, table: str, row_id: int, account: int | None, at: int, *rows) -> None:
        self.flag("time_range", account, misdated(table, row_id, at), *rows)

    def orders_and_intents_dates(self) -> None:
        for table, row_id, account, at in q.misdated_orders_and_intents(
            self.store, self.account_id, first_ms=FIRST_MS, end_ms=END_MS
        ):
            self._misdated(table, row_id, account, at)

    # -- keys, snapshots ---------------------------------------------------------------------

    def idempotency(self) -> None:
        for table in q.KEYED_TABLES:
            if "idempotency_key" in self.store.unique_columns(table):
                continue  # the UNIQUE constraint is in place: no key can be there twice
            for key, count, ids in q.duplicate_keys(self.store, self.account_id, table):
                self.flag("idempotency", None, f"{table}: key {key!r} used {count}× (ids {ids})")
        for r in q.misscoped_intent_keys(self.store, self.account_id):
            message = (
                f"intent {r['id']}: key {r['idempotency_key']!r} is outside the namespace of "
                f"its account and origin ({r['origin']}:{r['account_id']}:…)"
            )
            self.flag("idempotency", r["account_id"], message, r)

    def snapshots(self) -> None:
        rows = q.snapshots(self.store, self.account_id)
        self.report.snapshots = len(rows)
        for s in rows:
            if not sane(s["time"]):
                self._misdated("account_snapshots", s["id"], s["account_id"], s["time"], s)
            problem = _snapshot_problem(s)
            if problem:
                self.flag("snapshot", s["account_id"], f"snapshot {s['id']}: {problem}", s)


def _snapshot_problem(s: dict) -> str | None:
    balance = _dec(s["balance"])
    if s["last_ledger_id"] is None:
        return None if balance == 0 else "a balance but no ledger entry"
    if s["entry_account"] is None:
        return f"its last ledger entry {s['last_ledger_id']} is missing"
    if s["entry_account"] != s["account_id"]:
        return f"its last ledger entry {s['last_ledger_id']} is another account's"
    if balance is None or balance != _dec(s["balance_after"]):
        return f"balance {s['balance']} ≠ ledger balance_after {s['balance_after']}"
    cash, margin, unrealized, equity = (
        _dec(s[k]) for k in ("cash", "margin_used", "unrealized_pnl", "equity")
    )
    if None in (cash, margin, unrealized, equity):
        return "cash, margin, unrealized PnL or equity is not a number"
    if cash != balance - margin or equity != balance + unrealized:
        return "cash/equity do not add up to balance, margin used and unrealized PnL"
    return None


def _entry(row: tuple) -> dict:
    return dict(zip(q.ENTRY_COLUMNS, row, strict=True))


def _fill(row: tuple) -> dict:
    return dict(zip(q.FILL_COLUMNS, row, strict=True))


def verify_ledger(store: Store, *, account_id: int | None = None) -> VerifyReport:
    """Check every invariant in ``CHECKS`` for one account or all, in one read transaction.

    Never writes. Raises NotFoundError for an unknown ``account_id`` and OperationalError when
    the store has no prop tables."""
    if not {"prop_accounts", "ledger_entries", "prop_fills"} <= store.tables():
        raise OperationalError(
            f"{store.path} has no prop ledger (run `autotrader db migrate` first)"
        )
    with store.read():  # one snapshot, no write lock
        verifier = _Verifier(store, account_id)
        verifier.ledger(verifier.accounts())
        verifier.entry_refs()
        verifier.fills()
        verifier.fill_prices()
        verifier.fill_fees()
        verifier.positions()
        verifier.idempotency()
        verifier.snapshots()
        verifier.orders_and_intents_dates()
    return verifier.report
