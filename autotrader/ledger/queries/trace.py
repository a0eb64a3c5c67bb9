"""The reads of ``ledger trace``: each link of the chain entry ← fill → order → intent, over
prop's tables (ledger_entries, prop_fills, prop_orders, prop_intents, positions, prop_accounts).

Rows come back as stored (JSON columns as text, money as TEXT); the trace decodes what it shows.
Decision runs, invocations and artifacts are read through their packages' repo functions.
"""

from __future__ import annotations

from autotrader.core.db import Store


def ledger_entry(store: Store, entry_id: int) -> dict | None:
    return store.query_one("SELECT * FROM ledger_entries WHERE id = ?", (entry_id,))


def entries_of_fill(store: Store, fill_id: int) -> list[dict]:
    """The ledger entries booking one fill, in id order."""
    return store.query("SELECT * FROM ledger_entries WHERE fill_id = ? ORDER BY id", (fill_id,))


def position_entries_without_fill(store: Store, position_id: int) -> list[dict]:
    """A position's entries that book no fill (funding, liquidation), in id order."""
    return store.query(
        "SELECT * FROM ledger_entries WHERE position_id = ? AND fill_id IS NULL ORDER BY id",
        (position_id,),
    )


def fill(store: Store, fill_id: int) -> dict | None:
    return store.query_one("SELECT * FROM prop_fills WHERE id = ?", (fill_id,))


def fill_of_order(store: Store, order_id: int) -> dict | None:
    return store.query_one("SELECT * FROM prop_fills WHERE order_id = ?", (order_id,))


def fills_of_position(store: Store, position_id: int) -> list[dict]:
    """Every fill of one position, in id order."""
    return store.query("SELECT * FROM prop_fills WHERE position_id = ? ORDER BY id", (position_id,))


def order(store: Store, order_id: int) -> dict | None:
    return store.query_one("SELECT * FROM prop_orders WHERE id = ?", (order_id,))


def order_of_intent(store: Store, intent_id: int) -> dict | None:
    return store.query_one("SELECT * FROM prop_orders WHERE intent_id = ?", (intent_id,))


def intent(store: Store, intent_id: int) -> dict | None:
    """One intent row as stored (``gate_results`` and ``payload`` still JSON text)."""
    return store.query_one("SELECT * FROM prop_intents WHERE id = ?", (intent_id,))


def intent_ids_of_run(store: Store, run_id: int) -> list[int]:
    """The ids of every intent a decision run produced (rejected ones included), in order."""
    return [
        row["id"]
        for row in store.query(
            "SELECT id FROM prop_intents WHERE decision_run_id = ? ORDER BY id", (run_id,)
        )
    ]


def position(store: Store, position_id: int) -> dict | None:
    return store.query_one("SELECT * FROM positions WHERE id = ?", (position_id,))


def account_summary(store: Store, account_id: int) -> dict | None:
    """``id, clone_id, kind, status, starting_balance`` of one account, or None."""
    return store.query_one(
        "SELECT id, clone_id, kind, status, starting_balance FROM prop_accounts WHERE id = ?",
        (account_id,),
    )
