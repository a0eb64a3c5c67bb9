"""The reads of the leaderboard, ``ledger plot`` and ``ledger export`` over prop's tables
(account_snapshots, positions, ledger_entries, prop_intents, prop_fills, prop_accounts).

Bulk reads stream plain tuples with money as its stored TEXT (amounts of a group joined by
commas), so the callers sum exact Decimals without building a dict per row.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

from autotrader.core.db import Store
from autotrader.ledger.queries import LedgerFilter


def _accounts_in(column: str, account_ids: Collection[int] | None) -> tuple[str, list[int]]:
    """`` AND column IN (?, …)`` for the accounts named (nothing for every account)."""
    if account_ids is None:
        return "", []
    ids = sorted(set(account_ids))
    return f" AND {column} IN ({', '.join('?' * len(ids)) or 'NULL'})", ids


def equity_points(
    store: Store, account_ids: Collection[int] | None = None
) -> Iterator[tuple[int, int, str]]:
    """``(account_id, time, equity)`` of every snapshot (of ``account_ids``), by account then
    time."""
    where, params = _accounts_in("account_id", account_ids)
    return store.tuples(
        f"SELECT account_id, time, equity FROM account_snapshots WHERE 1 = 1{where}"
        " ORDER BY account_id, time",
        params,
    )


def closed_position_amounts(
    store: Store, account_ids: Collection[int] | None = None
) -> Iterator[tuple[int, str]]:
    """``(account_id, amounts)`` per closed position (of ``account_ids``) in close order: the
    comma-joined amounts of every ledger entry that names the position (realized, fees,
    funding, liquidation)."""
    where, params = _accounts_in("p.account_id", account_ids)
    return store.tuples(
        "SELECT p.account_id, group_concat(e.amount, ',') FROM positions p"
        f" JOIN ledger_entries e ON e.position_id = p.id WHERE p.status = 'CLOSED'{where}"
        " GROUP BY p.id ORDER BY p.closed_at, p.id",
        params,
    )


def closed_position_results(store: Store) -> Iterator[tuple[int, str, str, str]]:
    """``(position_id, amounts, entry_price, max_qty)`` per closed position: the comma-joined
    amounts of its ledger entries and what it was entered at, for a per-trade return."""
    return store.tuples(
        "SELECT p.id, group_concat(e.amount, ','), p.entry_price, p.max_qty FROM positions p"
        " JOIN ledger_entries e ON e.position_id = p.id WHERE p.status = 'CLOSED'"
        " GROUP BY p.id ORDER BY p.closed_at, p.id"
    )


def fee_amounts_by_account(
    store: Store, account_ids: Collection[int] | None = None
) -> Iterator[tuple[int, str]]:
    """``(account_id, amounts)``: the comma-joined amounts of each account's FEE entries."""
    where, params = _accounts_in("account_id", account_ids)
    return store.tuples(
        "SELECT account_id, group_concat(amount, ',') FROM ledger_entries WHERE kind = 'FEE'"
        f"{where} GROUP BY account_id",
        params,
    )


def last_decision_intents(store: Store) -> dict[int, int]:
    """Account id → the time of its newest intent that came from a decision run."""
    return dict(
        store.tuples(
            "SELECT account_id, MAX(created_at) FROM prop_intents WHERE origin = 'decision'"
            " GROUP BY account_id"
        )
    )


def fills_with_position_side(store: Store, account_id: int) -> list[dict]:
    """``created_at, side, position_side`` of every fill of one account, in id order."""
    return store.query(
        "SELECT f.created_at, f.side, p.side AS position_side FROM prop_fills f"
        " JOIN positions p ON p.id = f.position_id WHERE f.account_id = ? ORDER BY f.id",
        (account_id,),
    )


def snapshots(store: Store, flt: LedgerFilter) -> list[dict]:
    """Every snapshot row of the accounts (account, clone) and time range ``flt`` names, by
    account then time (``flt``'s kinds and symbol do not apply to snapshots)."""
    clauses, params = ["1 = 1"], []
    for clause, value in (
        ("s.account_id = ?", flt.account_id),
        ("a.clone_id = ?", flt.clone_id),
        ("s.time >= ?", flt.since_ms),
        ("s.time < ?", flt.until_ms),
    ):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    return store.query(
        "SELECT s.* FROM account_snapshots s JOIN prop_accounts a ON a.id = s.account_id"
        f" WHERE {' AND '.join(clauses)} ORDER BY s.account_id, s.time",
        params,
    )
