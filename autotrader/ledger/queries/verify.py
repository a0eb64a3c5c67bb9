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
)
# Tables whose rows carry an idempotency key, and the links no two rows may share.
KEYED_TABLES = ("prop_fills", "prop_intents", "ledger_entries")
UNIQUE_LINKS = (("prop_fills", "order_id"), ("prop_orders", "intent_id"))


def _scope(account_id: int | None, column: str = "account_id", *, joiner: str = "WHERE"):
    if account_id is None:
        return "", []
    return f" {joiner} {column} = ?", [account_id]


def accounts(store: Store, account_id: int | None) -> Iterator[tuple[int, str]]:
    """``(id, starting_balance)`` of the accounts."""
    where, params = _scope(account_id, "id")
    return store.tuples(f"SELECT id, starting_balance FROM prop_accounts{where}", params)


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


def fill_count(store: Store, account_id: int | None) -> int:
    where, params = _scope(account_id, "f.account_id", joiner="AND")
    return store.scalar(f"SELECT COUNT(*) FROM prop_fills f WHERE 1 = 1{where}", params)


def broken_fill_links(store: Store, account_id: int | None) -> list[dict]:
    """Fills whose order is missing or another account's, whose order's intent is, or whose key
    is not the one its intent gave it (the intent's own key; ``intent:{id}`` for an intent that
    had none, see ``autotrader.prop.idempotency``): the fill with its order's (``o_id``,
    ``o_account``) and intent's (``i_id``, ``i_account``, ``i_key``)."""
    where, params = _scope(account_id, "f.account_id", joiner="AND")
    return store.query(
        "SELECT f.id, f.account_id, f.order_id, f.idempotency_key, o.id AS o_id,"
        " o.account_id AS o_account, o.intent_id, i.id AS i_id, i.account_id AS i_account,"
        " COALESCE(i.idempotency_key, 'intent:' || i.id) AS i_key"
        " FROM prop_fills f LEFT JOIN prop_orders o ON o.id = f.order_id"
        " LEFT JOIN prop_intents i ON i.id = o.intent_id"
        " WHERE (o.id IS NULL OR o.account_id != f.account_id OR i.id IS NULL"
        " OR i.account_id != f.account_id"
        " OR f.idempotency_key IS NOT COALESCE(i.idempotency_key, 'intent:' || i.id))"
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


def position_fills(store: Store, account_id: int | None) -> Iterator[tuple[int, str, str]]:
    """``(position_id, signed quantities, fees)`` per position its fills name, both
    comma-joined; a quantity is negative when the fill reduces the position."""
    where, params = _scope(account_id, "f.account_id")
    return store.tuples(
        # Buying opens a long and closes a short: the fill's own side decides, not its
        # order's purpose, so a tampered order cannot hide a fill.
        "SELECT f.position_id, group_concat(CASE WHEN (f.side = 'BUY') = (p.side = 'LONG')"
        " THEN f.qty ELSE '-' || f.qty END, ','), group_concat(f.fee, ',')"
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
