"""The only SQL for prop tables. Money crosses this boundary as Decimal in, canonical TEXT in the
database, Decimal out. Callers wrap a trading step in one ``store.atomic()``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from autotrader.core.db import Store
from autotrader.core.money import ZERO, to_text
from autotrader.prop.models import AccountRules, AccountStatus
from autotrader.prop.vocabulary import ENDED_STATUSES

_MONEY = {
    "starting_balance",
    "deposit_cap",
    "peak_equity",
    "qty",
    "max_qty",
    "entry_price",
    "leverage",
    "margin",
    "liquidation_price",
    "stop",
    "target",
    "invalidation_price",
    "fees_paid",
    "funding_paid",
    "realized_pnl",
    "exit_price",
    "last_mark_price",
    "price",
    "reference_price",
    "slippage_bps",
    "notional",
    "fee",
    "fee_rate",
    "amount",
    "balance_after",
    "balance",
    "cash",
    "margin_used",
    "unrealized_pnl",
    "equity",
    "drawdown",
}


LEDGER_PLACES = 16
_LEDGER_QUANTUM = Decimal(1).scaleb(-LEDGER_PLACES)


def ledger_amount(value: Decimal) -> Decimal:
    """``value`` rounded half-even to 16 decimal places, as the ledger books money.

    Margins (notional / leverage) and weighted entries are divisions carried to Decimal's 28
    significant digits; booked unrounded, a balance of 10,000 plus such an amount would itself be
    rounded, and the balance would stop being the exact sum of its entries. At a fixed 16 places,
    any sum of amounts under 10¹² fits in 28 digits, so it is exact in any order. Real fees and
    PnL (steps and ticks of at most a few decimals) are never changed by it.
    """
    return value.quantize(_LEDGER_QUANTUM, rounding=ROUND_HALF_EVEN)


def _decode(row: dict | None) -> dict | None:
    """TEXT money columns back to Decimal; JSON columns to Python."""
    if row is None:
        return None
    for key, value in row.items():
        if key in _MONEY and isinstance(value, str):
            row[key] = Decimal(value)
    return row


def _text(value: Decimal | None) -> str | None:
    return None if value is None else to_text(value)


# -- accounts -----------------------------------------------------------------------------------


def insert_account(
    store: Store,
    *,
    clone_id: int,
    kind: str,
    starting_balance: Decimal,
    rules: AccountRules,
    now_ms: int,
    venue: str = "paper",
    deposit_cap: Decimal | None = None,
) -> int:
    return store.insert(
        "prop_accounts",
        {
            "clone_id": clone_id,
            "kind": str(kind),
            "venue": str(venue),
            "deposit_cap": _text(deposit_cap),
            "starting_balance": to_text(starting_balance),
            "status": AccountStatus.ACTIVE.value,
            "rules": json.dumps(rules.model_dump(mode="json"), sort_keys=True),
            "peak_equity": to_text(starting_balance),
            "created_at": now_ms,
            "started_at": now_ms,
            "updated_at": now_ms,
        },
    )


def _account(row: dict | None) -> dict | None:
    row = _decode(row)
    if row is not None:
        row["rules"] = _rules(row["rules"])
    return row


@functools.lru_cache(maxsize=1024)
def _rules(text: str) -> AccountRules:
    """Parsed rules, shared between reads of the same JSON (AccountRules is frozen)."""
    return AccountRules.model_validate(json.loads(text))


def get_account(store: Store, account_id: int) -> dict | None:
    return _account(store.query_one("SELECT * FROM prop_accounts WHERE id = ?", (account_id,)))


def list_accounts(
    store: Store, *, clone_id: int | None = None, status: str | None = None, kind: str | None = None
) -> list[dict]:
    sql, params = "SELECT * FROM prop_accounts WHERE 1 = 1", []
    for column, value in (("clone_id", clone_id), ("status", status), ("kind", kind)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    return [_account(row) for row in store.query(sql + " ORDER BY id", params)]  # type: ignore[misc]


def set_account_status(
    store: Store, account_id: int, status: str, *, reason: str | None, now_ms: int
) -> None:
    ended = now_ms if status in ENDED_STATUSES else None
    store.execute(
        "UPDATE prop_accounts SET status = ?, status_reason = ?, updated_at = ?,"
        " ended_at = COALESCE(?, ended_at) WHERE id = ?",
        (status, reason, now_ms, ended, account_id),
    )


def set_peak_equity(store: Store, account_id: int, peak: Decimal, *, now_ms: int) -> None:
    store.execute(
        "UPDATE prop_accounts SET peak_equity = ?, updated_at = ? WHERE id = ?",
        (to_text(peak), now_ms, account_id),
    )


# -- ledger -------------------------------------------------------------------------------------


def balance(store: Store, account_id: int) -> Decimal:
    """The balance after the account's newest ledger entry (0 before its deposit)."""
    after = store.scalar(
        "SELECT balance_after FROM ledger_entries WHERE account_id = ? ORDER BY id DESC LIMIT 1",
        (account_id,),
    )
    return ZERO if after is None else Decimal(after)


def append_entry(
    store: Store,
    account_id: int,
    kind: str,
    amount: Decimal,
    *,
    now_ms: int,
    symbol: str | None = None,
    fill_id: int | None = None,
    order_id: int | None = None,
    position_id: int | None = None,
    decision_run_id: int | None = None,
    reason: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[int, Decimal]:
    """Append one ledger entry and return ``(entry id, balance after)``.

    Must run inside the caller's transaction (which holds the write lock), so the balance it
    reads is the one it extends.
    """
    amount = ledger_amount(amount)
    after = balance(store, account_id) + amount
    entry_id = store.insert(
        "ledger_entries",
        {
            "account_id": account_id,
            "kind": str(kind),
            "amount": to_text(amount),
            "balance_after": to_text(after),
            "symbol": symbol,
            "fill_id": fill_id,
            "order_id": order_id,
            "position_id": position_id,
            "decision_run_id": decision_run_id,
            "reason": reason,
            "idempotency_key": idempotency_key,
            "created_at": now_ms,
        },
    )
    return entry_id, after


def ledger_key_exists(store: Store, key: str) -> bool:
    found = store.scalar("SELECT 1 FROM ledger_entries WHERE idempotency_key = ?", (key,))
    return found is not None


def last_entry_at(store: Store, account_id: int) -> int | None:
    """The time of the account's newest ledger entry (None before its deposit)."""
    return store.scalar(
        "SELECT created_at FROM ledger_entries WHERE account_id = ? ORDER BY id DESC LIMIT 1",
        (account_id,),
    )


def last_ledger_id(store: Store, account_id: int) -> int | None:
    return store.scalar("SELECT MAX(id) FROM ledger_entries WHERE account_id = ?", (account_id,))


# -- intents, orders, fills -------------------------------------------------------------------


def intent_by_key(store: Store, key: str) -> dict | None:
    return store.query_one("SELECT * FROM prop_intents WHERE idempotency_key = ?", (key,))


def insert_intent(
    store: Store,
    *,
    account_id: int,
    origin: str,
    decision_run_id: int | None,
    symbol: str,
    action: str,
    payload: dict[str, Any],
    accepted: bool,
    reject_code: str | None,
    gate_results: Sequence[dict[str, Any]],
    idempotency_key: str | None,
    now_ms: int,
) -> int:
    return store.insert(
        "prop_intents",
        {
            "account_id": account_id,
            "origin": str(origin),
            "decision_run_id": decision_run_id,
            "symbol": symbol,
            "action": str(action),
            "payload": json.dumps(payload, sort_keys=True),
            "status": "accepted" if accepted else "rejected",
            "reject_code": reject_code,
            "gate_results": json.dumps(list(gate_results)),
            "idempotency_key": idempotency_key,
            "created_at": now_ms,
        },
    )


def insert_order(
    store: Store,
    *,
    account_id: int,
    intent_id: int,
    symbol: str,
    side: str,
    purpose: str,
    qty: Decimal,
    trigger: str | None,
    now_ms: int,
) -> int:
    return store.insert(
        "prop_orders",
        {
            "account_id": account_id,
            "intent_id": intent_id,
            "symbol": symbol,
            "side": str(side),
            "purpose": str(purpose),
            "qty": to_text(qty),
            "status": "FILLED",
            "trigger": trigger,
            "created_at": now_ms,
        },
    )


def insert_fill(store: Store, **values: Any) -> int:
    columns = (
        "account_id",
        "order_id",
        "position_id",
        "symbol",
        "side",
        "qty",
        "price",
        "reference_price",
        "slippage_bps",
        "notional",
        "fee",
        "fee_rate",
        "idempotency_key",
        "created_at",
    )
    row = {c: to_text(values[c]) if isinstance(values[c], Decimal) else values[c] for c in columns}
    return store.insert("prop_fills", row)


def fills_for_intent(store: Store, intent_id: int) -> dict | None:
    return _decode(
        store.query_one(
            "SELECT f.* FROM prop_fills f JOIN prop_orders o ON o.id = f.order_id"
            " WHERE o.intent_id = ?",
            (intent_id,),
        )
    )


def last_fill_id(store: Store, position_id: int) -> int | None:
    return store.scalar("SELECT MAX(id) FROM prop_fills WHERE position_id = ?", (position_id,))


def closing_fills(store: Store, position_id: int) -> list[tuple[Decimal, Decimal]]:
    """``(qty, price)`` of every CLOSE fill of the position so far."""
    rows = store.tuples(
        "SELECT f.qty, f.price FROM prop_fills f JOIN prop_orders o ON o.id = f.order_id"
        " WHERE f.position_id = ? AND o.purpose = 'CLOSE'",
        (position_id,),
    )
    return [(Decimal(qty), Decimal(price)) for qty, price in rows]


def opens_since(store: Store, account_id: int, since_ms: int, *, at_most: int | None = None) -> int:
    """OPEN orders filled since ``since_ms`` (the daily trade count), counted up to ``at_most``
    (the caller compares against a limit, so counting past it is wasted work). Every order is
    filled when it is created; ``idx_prop_orders_daily`` bounds the scan to the account's day.
    """
    return store.scalar(
        "SELECT COUNT(*) FROM (SELECT 1 FROM prop_orders WHERE account_id = ? AND purpose = 'OPEN'"
        " AND created_at >= ? LIMIT ?)",
        (account_id, since_ms, -1 if at_most is None else at_most),
    )


def recent_fills(store: Store, account_id: int, *, until_ms: int, limit: int) -> list[dict]:
    """The newest ``limit`` fills of an account booked by ``until_ms``, oldest first, with their
    order's purpose and close trigger. Money columns stay canonical Decimal text."""
    rows = store.query(
        "SELECT f.id, f.created_at, f.symbol, o.purpose, f.side, f.qty, f.price, f.notional,"
        " f.fee, o.trigger FROM prop_fills f JOIN prop_orders o ON o.id = f.order_id"
        " WHERE f.account_id = ? AND f.created_at <= ? ORDER BY f.created_at DESC, f.id DESC"
        " LIMIT ?",
        (account_id, until_ms, limit),
    )
    return rows[::-1]


def fills_after(store: Store, after_id: int, *, limit: int) -> list[dict]:
    """Fills with an id above ``after_id``, oldest first, with their order's purpose and close
    trigger (for whoever follows new fills: the alerts). Money stays canonical Decimal text."""
    return store.query(
        "SELECT f.id, f.account_id, f.created_at, f.symbol, o.purpose, f.side, f.qty, f.price,"
        " f.notional, f.fee, o.trigger FROM prop_fills f JOIN prop_orders o ON o.id = f.order_id"
        " WHERE f.id > ? ORDER BY f.id LIMIT ?",
        (after_id, limit),
    )


def newest_fill_id(store: Store) -> int:
    """The highest fill id (0 before the first fill)."""
    return store.scalar("SELECT COALESCE(MAX(id), 0) FROM prop_fills")


def recent_rejections(store: Store, account_id: int, *, until_ms: int, limit: int) -> list[dict]:
    """The newest ``limit`` rejected intents of an account made by ``until_ms``, oldest first."""
    rows = store.query(
        "SELECT id, created_at, symbol, action, reject_code FROM prop_intents"
        " WHERE account_id = ? AND status = 'rejected' AND created_at <= ?"
        " ORDER BY created_at DESC, id DESC LIMIT ?",
        (account_id, until_ms, limit),
    )
    return rows[::-1]


# -- positions ----------------------------------------------------------------------------------


def open_positions(store: Store, account_id: int) -> list[dict]:
    return [
        _decode(row)  # type: ignore[misc]
        for row in store.query(
            "SELECT * FROM positions WHERE account_id = ? AND status = 'OPEN' ORDER BY symbol",
            (account_id,),
        )
    ]


def positions(
    store: Store, *, account_id: int | None = None, status: str | None = None, limit: int = 500
) -> list[dict]:
    sql, params = "SELECT * FROM positions WHERE 1 = 1", []
    if account_id is not None:
        sql += " AND account_id = ?"
        params.append(account_id)
    if status is not None:
        sql += " AND status = ?"
        params.append(status)
    rows = store.query(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
    return [_decode(row) for row in rows]  # type: ignore[misc]


def get_position(store: Store, position_id: int) -> dict | None:
    return _decode(store.query_one("SELECT * FROM positions WHERE id = ?", (position_id,)))


def positions_by_id(store: Store, position_ids: Iterable[int]) -> dict[int, dict]:
    """Position id → its row (money as Decimal) for each of ``position_ids`` that exists."""
    ids = sorted(set(position_ids))
    found: dict[int, dict] = {}
    for start in range(0, len(ids), 500):  # SQLite caps bound parameters
        chunk = ids[start : start + 500]
        for row in store.query(
            f"SELECT * FROM positions WHERE id IN ({', '.join('?' * len(chunk))})", chunk
        ):
            found[row["id"]] = _decode(row)  # type: ignore[assignment]
    return found


def cooldowns(store: Store, account_id: int, now_ms: int) -> dict[str, int]:
    """Symbol → epoch ms until which re-entry is blocked (from closed positions' exit plans)."""
    rows = store.tuples(
        "SELECT symbol, MAX(cooldown_until) FROM positions"
        " WHERE account_id = ? AND status = 'CLOSED'"
        " AND cooldown_until > ? GROUP BY symbol",
        (account_id, now_ms),
    )
    return {symbol: until for symbol, until in rows}


def insert_position(store: Store, values: dict[str, Any]) -> int:
    return store.insert(
        "positions", {k: _text(v) if isinstance(v, Decimal) else v for k, v in values.items()}
    )


_POSITION_COLUMNS = {
    "status",
    "qty",
    "max_qty",
    "entry_price",
    "leverage",
    "margin",
    "liquidation_price",
    "stop",
    "target",
    "invalidation",
    "invalidation_price",
    "time_exit",
    "cooldown_until",
    "fees_paid",
    "funding_paid",
    "realized_pnl",
    "exit_price",
    "close_trigger",
    "last_mark_price",
    "last_mark_at",
    "funded_until",
    "closed_at",
    "updated_at",
}


def update_position(store: Store, position_id: int, **values: Any) -> None:
    unknown = set(values) - _POSITION_COLUMNS
    if unknown:
        raise ValueError(f"not position columns: {sorted(unknown)}")
    assignments = ", ".join(f"{column} = ?" for column in values)
    params = [_text(v) if isinstance(v, Decimal) else v for v in values.values()]
    store.execute(f"UPDATE positions SET {assignments} WHERE id = ?", [*params, position_id])


# -- snapshots ----------------------------------------------------------------------------------


def insert_snapshot(store: Store, values: dict[str, Any]) -> bool:
    """Insert a snapshot unless one exists for (account, time). Returns True when written."""
    row = {k: to_text(v) if isinstance(v, Decimal) else v for k, v in values.items()}
    return store.insert_or_ignore("account_snapshots", row) is not None


def put_snapshot(store: Store, values: dict[str, Any]) -> None:
    """Write a snapshot, replacing one taken earlier for the same (account, time)."""
    row = {k: to_text(v) if isinstance(v, Decimal) else v for k, v in values.items()}
    store.upsert("account_snapshots", row, key=("account_id", "time"))


def max_snapshot_drawdown(store: Store, account_id: int) -> Decimal:
    """The deepest drawdown any snapshot of the account recorded (0 without one)."""
    rows = store.tuples(
        "SELECT drawdown FROM account_snapshots WHERE account_id = ?", (account_id,)
    )
    return max((Decimal(d) for (d,) in rows), default=ZERO)


def fill_count(store: Store, account_id: int) -> int:
    return store.scalar("SELECT COUNT(*) FROM prop_fills WHERE account_id = ?", (account_id,))


def fees_paid(store: Store, account_id: int) -> Decimal:
    """Trading fees booked to the account (a positive amount)."""
    rows = store.tuples(
        "SELECT amount FROM ledger_entries WHERE account_id = ? AND kind = 'FEE'", (account_id,)
    )
    return -sum((Decimal(a) for (a,) in rows), ZERO)


def latest_snapshot(store: Store, account_id: int) -> dict | None:
    return _decode(
        store.query_one(
            "SELECT * FROM account_snapshots WHERE account_id = ? ORDER BY time DESC LIMIT 1",
            (account_id,),
        )
    )


def margin_used(rows: Iterable[dict]) -> Decimal:
    return sum((row["margin"] for row in rows), ZERO)
