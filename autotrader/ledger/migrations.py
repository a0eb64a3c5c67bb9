"""Indexes that make the audit queries fast. The ledger's tables belong to ``prop``; this set only
adds read paths for ``ledger show``, ``trades``, ``verify`` and the leaderboard.

``ledger show`` lists entries newest first as ``ORDER BY created_at DESC, id DESC``. An index
``(x, created_at)`` also orders equal times by rowid, so each index below serves one filter
*and* that order: a first page is a short reverse index walk, never a sort of the whole ledger.
Unfiltered pages use prop's ``idx_ledger_time (created_at)``.

Migrations are never edited once released: add a new one below the last.
"""

from __future__ import annotations

from autotrader.core._sqlite_utils import Database, Migrations

migrations = Migrations("ledger")


@migrations()
def m001_audit_indexes(db: Database) -> None:
    # --account with or without --since/--until, newest first.
    db.execute(
        "CREATE INDEX idx_ledger_audit_account_time ON ledger_entries (account_id, created_at)"
    )
    # --symbol, newest first.
    db.execute("CREATE INDEX idx_ledger_audit_symbol_time ON ledger_entries (symbol, created_at)")
    # --kind (one kind), newest first; prop's (kind, account_id) cannot order by time. It also
    # carries the amount, so the exact per-kind totals footer of a large unfiltered (or kind or
    # time filtered) ledger reads this index alone instead of the whole table (~2x faster).
    db.execute(
        "CREATE INDEX idx_ledger_audit_kind_time ON ledger_entries (kind, created_at, amount)"
    )
    # verify and trace walk the ledger by fill and by position.
    db.execute("CREATE INDEX idx_ledger_audit_fill ON ledger_entries (fill_id)")
    db.execute("CREATE INDEX idx_ledger_audit_position ON ledger_entries (position_id)")
    # trades and the leaderboard read closed positions of an account by close time.
    db.execute("CREATE INDEX idx_positions_audit_closed ON positions (account_id, closed_at)")
    # trace --run: the intents a decision run produced.
    db.execute("CREATE INDEX idx_prop_intents_audit_run ON prop_intents (decision_run_id)")
