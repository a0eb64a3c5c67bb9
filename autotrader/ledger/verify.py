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
- ``position``    a position's qty = Σ opening fill qty − Σ closing fill qty (closed ⇒ 0), and
                  its fees/realized/funding columns equal its fills' fees and its ledger entries
- ``idempotency`` no idempotency key twice (fills, intents, ledger entries); a caller's key lies
                  in its account's and origin's namespace, each fill carries its intent's key
- ``snapshot``    a snapshot's balance = balance_after of its last_ledger_id (same account), and
                  cash = balance − margin used, equity = balance + unrealized PnL

Read-only and consistent: every query runs in one read transaction, so a worker writing while
``verify`` runs (cron) cannot produce a false violation. Decimal throughout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from autotrader.core.db import Store
from autotrader.core.errors import NotFoundError, OperationalError
from autotrader.core.money import ZERO
from autotrader.ledger.queries import verify as q

CHECKS = (
    "deposit",
    "balance",
    "chain",
    "number",
    "entry_ref",
    "fill_order",
    "fill_intent",
    "fill_ledger",
    "position",
    "idempotency",
    "snapshot",
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

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        counts = (
            f"{self.accounts} accounts, {self.entries} entries, {self.fills} fills, "
            f"{self.positions} positions, {self.snapshots} snapshots"
        )
        if self.ok:
            return f"ledger OK: {counts}; {len(CHECKS)} checks passed"
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

    def flag(self, check: str, account_id: int | None, message: str, *rows: dict) -> None:
        self.report.violations.append(Violation(check, account_id, message, list(rows)))

    # -- ledger ------------------------------------------------------------------------------

    def accounts(self) -> dict[int, Decimal | None]:
        rows = q.accounts(self.store, self.account_id)
        accounts = {account: _dec(start) for account, start in rows}
        if self.account_id is not None and not accounts:
            raise NotFoundError(f"prop account {self.account_id} does not exist")
        self.report.accounts = len(accounts)
        return accounts

    def ledger(self, accounts: dict[int, Decimal | None]) -> None:
        """Walk every entry once in id order: chains, balances, deposits, per-position sums."""
        last: dict[int, tuple] = {}  # account -> (row, balance_after)
        unbroken = set(accounts)
        money = self.position_money
        count = 0
        # Local names: this loop runs once per entry (a million times on a large ledger).
        parse, last_get, money_get, zero = Decimal, last.get, money.get, ZERO
        for row in q.entries(self.store, self.account_id):
            count += 1
            account = row[1]
            previous = last_get(account)
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
        self.report.fills = q.fill_count(self.store, self.account_id)
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
                message = (
                    f"fill {fill}: key {r['idempotency_key']!r} is not its intent's {r['i_key']!r}"
                )
                self.flag("idempotency", account, message, r)
        for table, column, check in (
            ("prop_fills", "order_id", "fill_order"),
            ("prop_orders", "intent_id", "fill_intent"),
        ):
            for owner, ids in q.shared_links(self.store, self.account_id, table, column):
                self.flag(check, None, f"{table} {ids} share {column} {owner}")

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
        """qty = net of the fills; fees = the fills' fees = −FEE entries; realized and funding
        = their ledger entries. SQLite concatenates each position's signed fill quantities and
        fees; Python adds them as Decimals."""
        fills: dict[int, tuple[str, str]] = {}
        for position, qtys, fees in q.position_fills(self.store, self.account_id):
            fills[position] = (qtys, fees)
        seen = 0
        for p in q.positions(self.store, self.account_id):
            seen += 1
            self._position(p, fills.pop(p[0], None))
        self.report.positions = seen
        for missing in sorted(fills):
            self.flag("position", None, f"fills name position {missing}, which does not exist")

    def _position(self, p: tuple, fills: tuple[str, str] | None) -> None:
        pid, account, status, qty, fees_paid, realized, funding = p
        if fills is None:
            self.flag("position", account, f"position {pid} has no fills", _position_row(p))
            return
        money = self.position_money
        try:
            net = sum(map(Decimal, fills[0].split(",")), ZERO)
            fill_fees = sum(map(Decimal, fills[1].split(",")), ZERO)
            value, fees = Decimal(qty), Decimal(fees_paid)
            realized_value, funding_value = Decimal(realized), Decimal(funding)
        except InvalidOperation:
            self.flag("number", account, f"position {pid} or its fills: not a number")
            return
        if value != net or (status == "CLOSED" and value != 0):
            message = f"position {pid} ({status}): qty {qty} ≠ net of its fills {net}"
            self.flag("position", account, message, _position_row(p))
        ledger_fees = -money.get((pid, "FEE"), ZERO)
        ledger_realized = money.get((pid, "REALIZED_PNL"), ZERO)
        ledger_funding = money.get((pid, "FUNDING"), ZERO)
        if fees != fill_fees or fees != ledger_fees:
            message = f"position {pid}: fees_paid {fees} ≠ fills {fill_fees} / ledger {ledger_fees}"
            self.flag("position", account, message, _position_row(p))
        if realized_value != ledger_realized:
            message = f"position {pid}: realized_pnl {realized} ≠ ledger {ledger_realized}"
            self.flag("position", account, message, _position_row(p))
        if funding_value != ledger_funding:
            message = f"position {pid}: funding_paid {funding} ≠ ledger {ledger_funding}"
            self.flag("position", account, message, _position_row(p))

    # -- keys, snapshots ---------------------------------------------------------------------

    def idempotency(self) -> None:
        for table in q.KEYED_TABLES:
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
            problem = _snapshot_problem(s)
            if problem:
                self.flag("snapshot", s["account_id"], f"snapshot {s['id']}: {problem}", s)


def _position_row(p: tuple) -> dict:
    return dict(zip(q.POSITION_COLUMNS, p, strict=True))


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
        verifier.fill_fees()
        verifier.positions()
        verifier.idempotency()
        verifier.snapshots()
    return verifier.report
