"""SQL of auditions: start one, claim the due ones, record the decision."""

from __future__ import annotations

from collections.abc import Collection

from autotrader.core.db import Store


def insert_audition(store: Store, **values: object) -> int:
    return store.insert("auditions", values)


def get_audition(store: Store, audition_id: int) -> dict | None:
    return store.query_one("SELECT * FROM auditions WHERE id = ?", (audition_id,))


def audition_of_account(store: Store, account_id: int) -> dict | None:
    return store.query_one("SELECT * FROM auditions WHERE account_id = ?", (account_id,))


def list_auditions(
    store: Store, *, clone_id: int | None = None, status: str | None = None
) -> list[dict]:
    sql, params = "SELECT * FROM auditions WHERE 1 = 1", []
    for column, value in (("clone_id", clone_id), ("status", status)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    return store.query(sql + " ORDER BY id", params)


def attempts(store: Store, clone_id: int) -> list[dict]:
    """Every audition of the clone, oldest first."""
    return list_auditions(store, clone_id=clone_id)


def running_accounts(store: Store) -> dict[int, int]:
    """Account id → audition id of every running audition."""
    return dict(store.tuples("SELECT account_id, id FROM auditions WHERE status = 'running'"))


def claim_due(
    store: Store,
    *,
    now_ms: int,
    stopped_accounts: Collection[int],
    worker_id: str,
    stale_before_ms: int,
    limit: int,
    audition_id: int | None = None,
) -> list[dict]:
    """Claim running auditions that are due — the window has ended, or the account stopped
    (a drawdown freeze, a liquidation) — and that no live worker holds: unclaimed, or claimed
    before ``stale_before_ms`` (its worker died)."""
    where = (
        "status = 'running' AND (claimed_at IS NULL OR claimed_at < ?) AND (ends_at <= ?"
        + (
            f" OR account_id IN ({', '.join('?' * len(stopped_accounts))})"
            if stopped_accounts
            else ""
        )
        + ")"
    )
    params: list[object] = [stale_before_ms, now_ms, *stopped_accounts]
    if audition_id is not None:
        where += " AND id = ?"
        params.append(audition_id)
    return store.claim(
        "auditions",
        where=where,
        params=params,
        set_values={"claimed_by": worker_id, "claimed_at": now_ms},
        order_by="ends_at, id",
        limit=limit,
    )


def decide(
    store: Store,
    audition_id: int,
    *,
    status: str,
    result: str,
    score: float | None,
    reason: str,
    now_ms: int,
) -> bool:
    """running → passed|failed; False when it was already decided (nothing changed)."""
    return (
        store.execute(
            "UPDATE auditions SET status = ?, result = ?, score = ?, reason = ?, decided_at = ?,"
            " claimed_by = NULL, claimed_at = NULL WHERE id = ? AND status = 'running'",
            (status, result, score, reason, now_ms, audition_id),
        )
        == 1
    )
