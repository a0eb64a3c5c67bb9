"""The reads of ``ledger verify`` over prop's tables (prop_accounts, ledger_entries, prop_fills,
prop_orders, prop_intents, positions, account_snapshots).

Every function takes ``account_id`` (None: every account) and narrows to it. The walks over
every entry, fill and position stream plain tuples (``store.tuples``): a million dicts would
cost seconds. SQL narrows the candidates (joins, missing rows, text-equal amounts); the verifier
confirms each with Decimals.
"""

from __future__ import annotations

from collections.abc import Iterator

from autotrader.core.db import Store
from autotrader.prop.idempotency import CALLER_ORIGINS

ENTRY_COLUMNS = ("id", "account_id", "kind", "amount", "balance_after", "position_id", "created_at")
POSITION_COLUMNS = (
    "id",
    "account_id",
    "status",
    "qty",
    "fees_paid",
    "realized_pnl",
    "funding_paid",
    "opened_at",
    "closed_at",
)
FILL_COLUMNS = ("id", "account_id", "symbol", "side", "price", "created_at")
# Tables whose rows carry an idempotency key, and the links no two rows may share.
KEYED_TABLES = ("prop_fills", "prop_intents", "ledger_entries")
UNIQUE_LINKS = (("prop_fills", "order_id"), ("prop_orders", "intent_id"))


def _scope(account_id: int | None, column: str = "account_id", *, joiner: str = "WHERE"):
    if account_id is None:
        return "", []
    return f" {joiner} {column} = ?", [account_id]


def accounts(store: Store, account_id: int | None) -> Iterator[tuple[int, str, str]]:
    """``(id, starting_balance, rules)`` of the accounts (rules as stored, JSON)."""
    where, params = _scope(account_id, "id")
    return store.tuples(f"SELECT id, starting_balance, rules FROM prop_accounts{where}", params)


def entries(store: Store, account_id: int | None) -> Iterator[tuple]:
    """Every ledger entry in id order, as ``ENTRY_COLUMNS`` tuples."""
    where, params = _scope(account_id)
    return store.tuples(
        f"SELECT {', '.join(ENTRY_COLUMNS)} FROM ledger_entries{where} ORDER BY id", params
    )


def entry_amounts(store: Store, account_id: int) -> str | None:
    """The comma-joined amounts of every entry of one account (None: it has none)."""
    return store.scalar(
        "SELECT group_concat(amount, ',') FROM ledger_entries WHERE account_id = ?", [account_id]
    )


def foreign_fill_entries(store: Store, account_id: int | None) -> list[dict]:
    """Entries naming a fill that is missing or another account's (``fill_account`` None when
    missing)."""
    where, params = _scope(account_id, "e.account_id", joiner="AND")
    return store.query(
        "SELECT e.id, e.account_id, e.kind, e.amount, e.fill_id, f.account_id AS fill_account"
        " FROM ledger_entries e LEFT JOIN prop_fills f ON f.id = e.fill_id"
        " WHERE e.fill_id IS NOT NULL AND (f.id IS NULL OR f.account_id != e.account_id)"
        f"{where}",
        params,
    )


def broken_fill_links(store: Store, account_id: int | None) -> list[dict]:
    """Fills whose order is missing or another account's, whose order's intent is, whose key
    is not the one its intent gave it (the intent's own key; ``intent:{id}`` for an intent that
    had none, see ``autotrader.prop.idempotency``), or whose time is not its order's or is
    before its intent's: the fill with its order's (``o_id``, ``o_account``, ``o_time``) and
    intent's (``i_id``, ``i_account``, ``i_key``, ``i_time``)."""
    where, params = _scope(account_id, "f.account_id", joiner="AND")
    return store.query(
        "SELECT f.id, f.account_id, f.order_id, f.idempotency_key, f.created_at,"
        " o.id AS o_id, o.account_id AS o_account, o.intent_id, o.created_at AS o_time,"
        " i.id AS i_id, i.account_id AS i_account, i.created_at AS i_time,"
        " COALESCE(i.idempotency_key, 'intent:' || i.id) AS i_key"
        " FROM prop_fills f LEFT JOIN prop_orders o ON o.id = f.order_id"
        " LEFT JOIN prop_intents i ON i.id = o.intent_id"
        " WHERE (o.id IS NULL OR o.account_id != f.account_id OR i.id IS NULL"
        " OR i.account_id != f.account_id"
        " OR f.idempotency_key IS NOT COALESCE(i.idempotency_key, 'intent:' || i.id)"
        " OR f.created_at != o.created_at OR i.created_at > f.created_at)"
        f"{where} ORDER BY f.id",
        params,
    )


def misscoped_intent_keys(store: Store, account_id: int | None) -> list[dict]:
    """Intents of a caller origin (manual, decision) whose key lies outside their account's and
    origin's namespace (``{origin}:{account}:…``): ``id, account_id, origin, idempotency_key``."""
    where, params = _scope(account_id, joiner="AND")
    origins = sorted(CALLER_ORIGINS)
    return store.query(
        "SELECT id, account_id, origin, idempotency_key FROM prop_intents"
        f" WHERE origin IN ({', '.join('?' * len(origins))}) AND idempotency_key IS NOT NULL"
        " AND substr(idempotency_key, 1, length(origin || ':' || account_id || ':'))"
        f" != origin || ':' || account_id || ':'{where} ORDER BY id",
        [*origins, *params],
    )


def shared_links(
    store: Store, account_id: int | None, table: str, column: str
) -> Iterator[tuple[object, str]]:
    """``(value, ids)`` for each ``column`` value that several rows of ``table`` share (one of
    ``UNIQUE_LINKS``), ``ids`` comma-joined."""
    if (table, column) not in UNIQUE_LINKS:
        raise ValueError(f"not a verified link: {table}.{column}")
    where, params = _scope(account_id)
    return store.tuples(
        f"SELECT {column}, group_concat(id) FROM {table}{where}"
        f" GROUP BY {column} HAVING COUNT(*) > 1",
        params,
    )


def misbooked_fees(store: Store, account_id: int | None) -> list[dict]:
    """Fills whose FEE entries are not exactly one entry of the canonical text of −fee (none
    for a zero fee): ``id, account_id, fee``, the number of FEE ``entries`` and their
    comma-joined ``amounts``."""
    where, params = _scope(account_id, "f.account_id")
    return store.query(
        "SELECT f.id, f.account_id, f.fee, COUNT(e.id) AS entries,"
        " group_concat(e.amount, ',') AS amounts FROM prop_fills f"
        " LEFT JOIN ledger_entries e ON e.fill_id = f.id AND e.kind = 'FEE'"
        f"{where} GROUP BY f.id HAVING NOT ((f.fee = '0' AND COUNT(e.id) = 0)"
        " OR (COUNT(e.id) = 1 AND MAX(e.amount) = '-' || f.fee))",
        params,
    )


def position_fills(
    store: Store, account_id: int | None
) -> Iterator[tuple[int, str, str, int, int]]:
    """``(position_id, signed quantities, fees, first time, last time)`` per position its
    fills name, quantities and fees comma-joined; a quantity is negative when the fill reduces
    the position."""
    where, params = _scope(account_id, "f.account_id")
    return store.tuples(
        # Buying opens a long and closes a short: the fill's own side decides, not its
        # order's purpose, so a tampered order cannot hide a fill.
        "SELECT f.position_id, group_concat(CASE WHEN (f.side = 'BUY') = (p.side = 'LONG')"
        " THEN f.qty ELSE '-' || f.qty END, ','), group_concat(f.fee, ','),"
        " MIN(f.created_at), MAX(f.created_at)"
        f" FROM prop_fills f LEFT JOIN positions p ON p.id = f.position_id{where}"
        " GROUP BY f.position_id",
        params,
    )


def positions(store: Store, account_id: int | None) -> Iterator[tuple]:
    """Every position in id order, as ``POSITION_COLUMNS`` tuples."""
    where, params = _scope(account_id)
    return store.tuples(
        f"SELECT {', '.join(POSITION_COLUMNS)} FROM positions{where} ORDER BY id", params
    )


def fills(store: Store, account_id: int | None) -> Iterator[tuple]:
    """Every fill in id order, as ``FILL_COLUMNS`` tuples."""
    where, params = _scope(account_id)
    return store.tuples(
        f"SELECT {', '.join(FILL_COLUMNS)} FROM prop_fills{where} ORDER BY id", params
    )


def fill_span(store: Store, account_id: int) -> tuple[int | None, int | None]:
    """The times of one account's first and last fills (None, None without fills)."""
    row = next(
        store.tuples(
            "SELECT MIN(created_at), MAX(created_at) FROM prop_fills WHERE account_id = ?",
            [account_id],
        )
    )
    return row[0], row[1]


def fill_contexts(store: Store, fill_ids: list[int]) -> dict[int, tuple[str | None, int]]:
    """Fill id → its order's close trigger and its position's opening time, for ``fill_ids``
    (the few fills the price check looks at twice)."""
    found: dict[int, tuple[str | None, int]] = {}
    for start in range(0, len(fill_ids), 500):  # SQLite caps bound parameters
        chunk = fill_ids[start : start + 500]
        for fill_id, trigger, opened_at in store.tuples(
            "SELECT f.id, o.trigger, p.opened_at FROM prop_fills f"
            " JOIN prop_orders o ON o.id = f.order_id JOIN positions p ON p.id = f.position_id"
            f" WHERE f.id IN ({', '.join('?' * len(chunk))})",
            chunk,
        ):
            found[fill_id] = (trigger, opened_at)
    return found


def misdated_orders_and_intents(
    store: Store, account_id: int | None, *, first_ms: int, end_ms: int
) -> Iterator[tuple[str, int, int, int]]:
    """``(table, id, account_id, created_at)`` of orders and intents dated outside
    ``[first_ms, end_ms)``."""
    where, params = _scope(account_id, joiner="AND")
    return store.tuples(
        f"SELECT 'prop_orders', id, account_id, created_at FROM prop_orders"
        f" WHERE (created_at < ? OR created_at >= ?){where}"
        f" UNION ALL SELECT 'prop_intents', id, account_id, created_at FROM prop_intents"
        f" WHERE (created_at < ? OR created_at >= ?){where} ORDER BY 1, 2",
        [first_ms, end_ms, *params, first_ms, end_ms, *params],
    )


def duplicate_keys(
    store: Store, account_id: int | None, table: str
) -> Iterator[tuple[str, int, str]]:
    """``(idempotency_key, count, ids)`` for each key used more than once in ``table`` (one of
    ``KEYED_TABLES``), ``ids`` comma-joined."""
    if table not in KEYED_TABLES:
        raise ValueError(f"{table} has no verified idempotency key")
    where, params = _scope(account_id, joiner="AND")
    return store.tuples(
        f"SELECT idempotency_key, COUNT(*), group_concat(id) FROM {table}"
        f" WHERE idempotency_key IS NOT NULL{where}"
        " GROUP BY idempotency_key HAVING COUNT(*) > 1",
        params,
    )


def snapshots(store: Store, account_id: int | None) -> list[dict]:
    """Every snapshot in id order with its last ledger entry's ``entry_account`` and
    ``balance_after`` (None when that entry is missing)."""
    where, params = _scope(account_id, "s.account_id")
    return store.query(
        "SELECT s.id, s.account_id, s.time, s.balance, s.cash, s.margin_used,"
        " s.unrealized_pnl, s.equity, s.last_ledger_id, e.account_id AS entry_account,"
        " e.balance_after FROM account_snapshots s"
        f" LEFT JOIN ledger_entries e ON e.id = s.last_ledger_id{where} ORDER BY s.id",
        params,
    )
