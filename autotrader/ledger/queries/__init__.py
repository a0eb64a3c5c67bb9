"""Reading the ledger and the trades it records: filtered, paged entries with per-kind totals,
closed positions with their fee-exact PnL, open positions marked at the latest price.

Promises: money is ``Decimal`` (summed as Decimal, never float); times are UTC epoch ms; nothing
here writes. Entries are listed newest first (``created_at DESC, id DESC``) along an index that
matches the filter (see ``ledger.migrations``), so the first page of a million-entry ledger is a
short index walk. A trade's money comes from the ledger entries that name its position — the
audit truth — not from the position row's running totals (``verify`` checks the two agree).

This package holds every SQL statement of the ledger: here the entry and trade reads, in
``trace`` the links of a trace, in ``verify`` the invariant checks, in ``performance`` the
leaderboard, plot and export reads. It reads prop's tables (ledger_entries, prop_accounts,
prop_fills, prop_orders, prop_intents, positions, account_snapshots) directly — the ledger is
the read-only audit layer over prop (docs/architecture.md) — and every other package's tables
(decision runs, invocations, artifacts, clones) only through that package's repo functions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError, NotFoundError, OperationalError
from autotrader.core.money import ZERO
from autotrader.prop.models import LedgerKind

LEDGER_KINDS = tuple(kind.value for kind in LedgerKind)  # the order totals are listed in
_PERCENT_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class LedgerFilter:
    """Which entries: every field narrows (``None``/empty = no constraint). ``since_ms`` is
    inclusive, ``until_ms`` exclusive."""

    account_id: int | None = None
    clone_id: int | None = None
    kinds: tuple[str, ...] = ()
    symbol: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None

    def __post_init__(self) -> None:
        unknown = [k for k in self.kinds if k not in LEDGER_KINDS]
        if unknown:
            raise InvalidInputError(
                f"--kind: unknown {', '.join(unknown)} (choose from {', '.join(LEDGER_KINDS)})"
            )

    def where(self, alias: str = "e") -> tuple[str, list]:
        """The SQL condition (over ``ledger_entries AS alias``) and its parameters."""
        clauses, params = ["1 = 1"], []
        if self.account_id is not None:
            clauses.append(f"{alias}.account_id = ?")
            params.append(self.account_id)
        if self.clone_id is not None:
            clauses.append(
                f"{alias}.account_id IN (SELECT id FROM prop_accounts WHERE clone_id = ?)"
            )
            params.append(self.clone_id)
        if len(self.kinds) == 1:
            # SQLite's statistics say a kind matches a quarter of the ledger, so it would walk
            # the time index filtering by kind — a full scan for a rare kind (LIQUIDATION).
            # The hint makes it take the (kind, created_at) index, as fast for common kinds.
            clauses.append(f"likelihood({alias}.kind = ?, 0.001)")
            params.extend(self.kinds)
        elif self.kinds:
            clauses.append(f"{alias}.kind IN ({', '.join('?' * len(self.kinds))})")
            params.extend(self.kinds)
        if self.symbol is not None:
            clauses.append(f"{alias}.symbol = ?")
            params.append(self.symbol)
        if self.since_ms is not None:
            clauses.append(f"{alias}.created_at >= ?")
            params.append(self.since_ms)
        if self.until_ms is not None:
            clauses.append(f"{alias}.created_at < ?")
            params.append(self.until_ms)
        return " AND ".join(clauses), params


@dataclass(frozen=True)
class KindTotal:
    kind: str
    count: int
    amount: Decimal  # signed sum, exact


@dataclass(frozen=True)
class LedgerPage:
    """One page of entries (newest first) and, when asked for, totals over the whole filter."""

    entries: list[dict]
    page: int
    limit: int
    has_more: bool
    totals: list[KindTotal] | None = None

    @property
    def net(self) -> Decimal | None:
        """Σ of every entry the filter matches (None without totals)."""
        return None if self.totals is None else sum((t.amount for t in self.totals), ZERO)


def decimal_sum(texts: Sequence[str] | Iterator[str]) -> Decimal:
    """Exact sum of Decimal texts. Raises OperationalError naming a value that is not a number
    (only a tampered store holds one: ``ledger verify`` says where)."""
    try:
        return sum(map(Decimal, texts), ZERO)
    except InvalidOperation:
        raise OperationalError(
            "a ledger amount is not a number; run `autotrader ledger verify`"
        ) from None


def _entry(row: dict) -> dict:
    for key in ("amount", "balance_after"):
        row[key] = Decimal(row[key])
    return row


_ENTRY_COLUMNS = (
    "e.id, e.created_at, e.account_id, a.clone_id, e.kind, e.amount, e.balance_after, e.symbol,"
    " e.fill_id, e.order_id, e.position_id, e.decision_run_id, e.reason, e.idempotency_key"
)


def ledger_page(
    store: Store, flt: LedgerFilter, *, limit: int = 50, page: int = 1, with_totals: bool = True
) -> LedgerPage:
    """Page ``page`` (from 1) of ``limit`` entries matching ``flt``, newest first, plus per-kind
    totals over everything the filter matches when ``with_totals`` (that costs a pass over the
    matching entries; the page itself does not)."""
    if limit < 1 or page < 1:
        raise InvalidInputError("--limit and --page must be at least 1")
    where, params = flt.where()
    rows = store.query(
        f"SELECT {_ENTRY_COLUMNS} FROM ledger_entries e"
        " JOIN prop_accounts a ON a.id = e.account_id"
        f" WHERE {where} ORDER BY e.created_at DESC, e.id DESC LIMIT ? OFFSET ?",
        [*params, limit + 1, (page - 1) * limit],
    )
    return LedgerPage(
        entries=[_entry(r) for r in rows[:limit]],
        page=page,
        limit=limit,
        has_more=len(rows) > limit,
        totals=kind_totals(store, flt) if with_totals else None,
    )


def entries_before(
    store: Store, flt: LedgerFilter, *, before: tuple[int, int] | None, limit: int
) -> tuple[list[dict], tuple[int, int] | None]:
    """Up to ``limit`` entries matching ``flt``, newest first, strictly older than the keyset
    position ``before`` (``(created_at, id)`` of the last entry already shown; None: from the
    newest). Returns the entries and the position to continue from (None on the last page).
    A keyset walk: page 10,000 costs what page 1 does, unlike an OFFSET."""
    if limit < 1:
        raise InvalidInputError("limit must be at least 1")
    where, params = flt.where()
    if before is not None:
        where += " AND (e.created_at, e.id) < (?, ?)"
        params = [*params, *before]
    rows = store.query(
        f"SELECT {_ENTRY_COLUMNS} FROM ledger_entries e"
        " JOIN prop_accounts a ON a.id = e.account_id"
        f" WHERE {where} ORDER BY e.created_at DESC, e.id DESC LIMIT ?",
        [*params, limit + 1],
    )
    page = [_entry(r) for r in rows[:limit]]
    more = len(rows) > limit
    return page, ((page[-1]["created_at"], page[-1]["id"]) if more else None)


def kind_totals(store: Store, flt: LedgerFilter) -> list[KindTotal]:
    """Count and exact Σ amount per kind over every entry ``flt`` matches, in kind order.

    The amounts travel as one ``group_concat`` string per kind: SQLite does the scan in C and
    Python only parses and adds Decimals (a million entries in about half a second)."""
    where, params = flt.where()
    rows = list(
        store.tuples(
            f"SELECT e.kind, COUNT(*), group_concat(e.amount, ',') FROM ledger_entries e"
            f" WHERE {where} GROUP BY e.kind",
            params,
        )
    )
    found = {
        kind: KindTotal(kind, count, decimal_sum(text.split(","))) for kind, count, text in rows
    }
    return [found[k] for k in LEDGER_KINDS if k in found]


def iter_entries(store: Store, flt: LedgerFilter, *, batch: int = 5_000) -> Iterator[dict]:
    """Every entry ``flt`` matches, oldest first, read in keyset batches (for exports: memory
    stays flat however large the ledger)."""
    where, params = flt.where()
    after: tuple[int, int] = (-(2**62), 0)
    while True:
        rows = store.query(
            f"SELECT {_ENTRY_COLUMNS} FROM ledger_entries e"
            " JOIN prop_accounts a ON a.id = e.account_id"
            f" WHERE {where} AND (e.created_at, e.id) > (?, ?)"
            " ORDER BY e.created_at, e.id LIMIT ?",
            [*params, *after, batch],
        )
        yield from (_entry(r) for r in rows)
        if len(rows) < batch:
            return
        after = (rows[-1]["created_at"], rows[-1]["id"])


def equity_series(store: Store, account_id: int) -> list[tuple[int, Decimal]]:
    """An account's equity over time: ``(started_at, starting balance)`` then every snapshot
    ``(time, equity)``, ascending. Raises NotFoundError for an unknown account."""
    account = store.query_one(
        "SELECT started_at, starting_balance FROM prop_accounts WHERE id = ?", (account_id,)
    )
    if account is None:
        raise NotFoundError(f"prop account {account_id} does not exist")
    points = [(account["started_at"], Decimal(account["starting_balance"]))]
    points += [
        (time, Decimal(equity))
        for time, equity in store.tuples(
            "SELECT time, equity FROM account_snapshots WHERE account_id = ? ORDER BY time",
            (account_id,),
        )
    ]
    return points


# -- trades -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TradeFilter:
    """Which positions: those of an account/clone/symbol alive in [since, until); ``status`` is
    ``all``, ``open`` or ``closed``."""

    account_id: int | None = None
    clone_id: int | None = None
    symbol: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    status: str = "all"

    def __post_init__(self) -> None:
        if self.status not in ("all", "open", "closed"):
            raise InvalidInputError("--status must be open, closed or all")


@dataclass(frozen=True)
class Trade:
    """One position as an audit line. Money is Decimal, read from the ledger entries that name
    the position: ``realized`` gross price PnL, ``fees`` paid (positive), ``funding`` net credited,
    ``liquidation`` forfeited margin (negative). ``net_pnl`` = realized − fees + funding +
    liquidation (+ unrealized while open); ``return_pct`` is net PnL over the initial margin
    (``max_qty · entry / leverage``) in percent, as exchanges show ROE."""

    position_id: int
    account_id: int
    clone_id: int
    symbol: str
    side: str
    status: str
    qty: Decimal  # the largest size held (closed) or the open size (open)
    entry_price: Decimal
    exit_price: Decimal | None
    leverage: Decimal
    fees: Decimal
    funding: Decimal
    realized: Decimal
    liquidation: Decimal
    net_pnl: Decimal
    return_pct: Decimal | None
    opened_at: int
    closed_at: int | None
    holding_ms: int
    close_trigger: str | None
    mark_price: Decimal | None = None
    unrealized: Decimal | None = None


@dataclass
class TradesReport:
    closed: list[Trade] = field(default_factory=list)
    open: list[Trade] = field(default_factory=list)
    as_of_ms: int = 0


def position_money(store: Store, position_ids: Sequence[int]) -> dict[int, dict[str, Decimal]]:
    """Σ ledger amount per kind for each position: ``{position_id: {kind: Decimal}}``."""
    result: dict[int, dict[str, Decimal]] = {}
    ids = list(position_ids)
    for start in range(0, len(ids), 500):  # SQLite caps bound parameters
        chunk = ids[start : start + 500]
        rows = list(
            store.tuples(
                "SELECT position_id, kind, group_concat(amount, ',') FROM ledger_entries"
                f" WHERE position_id IN ({', '.join('?' * len(chunk))}) GROUP BY position_id, kind",
                chunk,
            )
        )
        for position_id, kind, text in rows:
            result.setdefault(position_id, {})[kind] = decimal_sum(text.split(","))
    return result


def trades(
    store: Store, flt: TradeFilter, *, now_ms: int, limit: int | None = None
) -> TradesReport:
    """Closed positions (newest close first) and open ones (marked at the latest price as of
    ``now_ms``) matching ``flt``; at most ``limit`` of each when given."""
    from autotrader.prop import pnl
    from autotrader.prop.execution import mark_price
    from autotrader.prop.models import Side

    report = TradesReport(as_of_ms=now_ms)
    for status in ("CLOSED", "OPEN"):
        if flt.status not in ("all", status.lower()):
            continue
        rows = _positions(store, flt, status, limit)
        money = position_money(store, [r["id"] for r in rows])
        for row in rows:
            mark = unrealized = None
            if status == "OPEN":
                mark = mark_price(store, row, now_ms)
                unrealized = pnl.unrealized_pnl(
                    Side(row["side"]), row["qty"], row["entry_price"], mark
                )
            trade = _trade(row, money.get(row["id"], {}), now_ms, mark, unrealized)
            (report.closed if status == "CLOSED" else report.open).append(trade)
    return report


_POSITION_MONEY = ("qty", "max_qty", "entry_price", "exit_price", "leverage", "last_mark_price")


def _positions(store: Store, flt: TradeFilter, status: str, limit: int | None) -> list[dict]:
    clauses, params = ["p.status = ?"], [status]
    for column, value in (("p.account_id", flt.account_id), ("a.clone_id", flt.clone_id)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if flt.symbol is not None:
        clauses.append("p.symbol = ?")
        params.append(flt.symbol)
    if flt.until_ms is not None:
        clauses.append("p.opened_at < ?")
        params.append(flt.until_ms)
    if flt.since_ms is not None:
        clauses.append("(p.closed_at IS NULL OR p.closed_at >= ?)")
        params.append(flt.since_ms)
    order = "p.closed_at DESC, p.id DESC" if status == "CLOSED" else "p.opened_at DESC, p.id DESC"
    sql = (
        "SELECT p.*, a.clone_id FROM positions p JOIN prop_accounts a ON a.id = p.account_id"
        f" WHERE {' AND '.join(clauses)} ORDER BY {order}"
    )
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    rows = store.query(sql, params)
    for row in rows:
        for key in _POSITION_MONEY:
            if row[key] is not None:
                row[key] = Decimal(row[key])
    return rows


def _trade(
    row: dict,
    money: dict[str, Decimal],
    now_ms: int,
    mark: Decimal | None,
    unrealized: Decimal | None,
) -> Trade:
    closed = row["status"] == "CLOSED"
    fees = -money.get("FEE", ZERO)
    funding = money.get("FUNDING", ZERO)
    realized = money.get("REALIZED_PNL", ZERO)
    liquidation = money.get("LIQUIDATION", ZERO)
    net = realized - fees + funding + liquidation + (unrealized or ZERO)
    leverage = row["leverage"] or Decimal(1)
    margin = row["max_qty"] * row["entry_price"] / leverage
    pct = (net / margin * 100).quantize(_PERCENT_PLACES) if margin else None
    end = row["closed_at"] if closed else now_ms
    return Trade(
        position_id=row["id"],
        account_id=row["account_id"],
        clone_id=row["clone_id"],
        symbol=row["symbol"],
        side=row["side"],
        status=row["status"],
        qty=row["max_qty"] if closed else row["qty"],
        entry_price=row["entry_price"],
        exit_price=row["exit_price"],
        leverage=leverage,
        fees=fees,
        funding=funding,
        realized=realized,
        liquidation=liquidation,
        net_pnl=net,
        return_pct=pct,
        opened_at=row["opened_at"],
        closed_at=row["closed_at"],
        holding_ms=max(0, (end or now_ms) - row["opened_at"]),
        close_trigger=row["close_trigger"],
        mark_price=mark,
        unrealized=unrealized,
    )
