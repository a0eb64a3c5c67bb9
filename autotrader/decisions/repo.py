"""The only SQL for decision tables."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from autotrader.core.db import Store


def insert_run(store: Store, **values: Any) -> int | None:
    """Queue a run unless one exists for its (account, strategy, symbol, bucket): the unique key
    makes a retry or a second worker a no-op. Returns the new id, or None when it existed."""
    return store.insert_or_ignore("decision_runs", values)


def get_run(store: Store, run_id: int) -> dict | None:
    return store.query_one("SELECT * FROM decision_runs WHERE id = ?", (run_id,))


def last_run(store: Store, account_id: int, strategy_id: str, symbol: str) -> dict | None:
    return store.query_one(
        "SELECT * FROM decision_runs WHERE account_id = ? AND strategy_id = ? AND symbol = ?"
        " ORDER BY bucket DESC LIMIT 1",
        (account_id, strategy_id, symbol),
    )


def bucket_taken(store: Store, account_id: int, strategy_id: str, symbol: str, bucket: int) -> bool:
    """Whether a run already holds this (account, strategy, symbol, bucket) key."""
    return (
        store.query_one(
            "SELECT 1 FROM decision_runs WHERE account_id = ? AND strategy_id = ? AND symbol = ?"
            " AND bucket = ?",
            (account_id, strategy_id, symbol, bucket),
        )
        is not None
    )


def claim_runs(
    store: Store,
    *,
    worker_id: str,
    now_ms: int,
    run_ids: list[int] | None,
    limit: int,
    clone_id: int | None = None,
) -> list[dict]:
    """Claim queued runs (all, only ``run_ids``, or only ``clone_id``'s) for this worker,
    atomically."""
    where = "status = 'queued'"
    params: list[Any] = []
    if run_ids is not None:
        if not run_ids:
            return []
        where += f" AND id IN ({', '.join('?' * len(run_ids))})"
        params = list(run_ids)
    if clone_id is not None:
        where += " AND clone_id = ?"
        params.append(clone_id)
    return store.claim(
        "decision_runs",
        where=where,
        params=params,
        set_values={
            "status": "running",
            "claimed_by": worker_id,
            "claimed_at": now_ms,
            "started_at": now_ms,
        },
        limit=limit,
    )


_ABANDONED = "abandoned: its worker stopped mid-run too many times"


def recover_stale(
    store: Store, *, now_ms: int, stale_after_ms: int, max_attempts: int
) -> tuple[int, int]:
    """Put runs claimed longer than ``stale_after_ms`` ago back in the queue (or fail them after
    too many tries): the fallback for claims whose worker cannot be judged by its heartbeat.
    Returns (requeued, failed)."""
    return _recover(store, "claimed_at < ?", [now_ms - stale_after_ms], now_ms, max_attempts)


def claimants(store: Store) -> list[str]:
    """The worker ids holding running claims."""
    return [
        worker
        for (worker,) in store.tuples(
            "SELECT DISTINCT claimed_by FROM decision_runs"
            " WHERE status = 'running' AND claimed_by IS NOT NULL"
        )
    ]


def recover_claims_of(
    store: Store, worker_ids: Iterable[str], *, now_ms: int, max_attempts: int
) -> tuple[int, int]:
    """Put the running claims of ``worker_ids`` (workers known to be gone) back in the queue, or
    fail those already tried ``max_attempts`` times. Returns (requeued, failed)."""
    ids = sorted(worker_ids)
    if not ids:
        return 0, 0
    where = f"claimed_by IN ({', '.join('?' * len(ids))})"
    return _recover(store, where, ids, now_ms, max_attempts)


def release_runs(store: Store, worker_id: str, attempts: Mapping[int, int]) -> int:
    """Give runs ``worker_id`` holds back to the queue, each with the attempt count given (its
    count from before the claim). Returns how many went back."""
    with store.atomic():
        return store.executemany(
            "UPDATE decision_runs SET status = 'queued', claimed_by = NULL, claimed_at = NULL,"
            " attempts = ? WHERE id = ? AND status = 'running' AND claimed_by = ?",
            [(count, run_id, worker_id) for run_id, count in attempts.items()],
        )


def _recover(
    store: Store, where: str, params: list, now_ms: int, max_attempts: int
) -> tuple[int, int]:
    with store.atomic():
        failed = store.execute(
            "UPDATE decision_runs SET status = 'failed', finished_at = ?, error = ?"
            f" WHERE status = 'running' AND {where} AND attempts >= ?",
            [now_ms, _ABANDONED, *params, max_attempts],
        )
        requeued = store.execute(
            "UPDATE decision_runs SET status = 'queued', claimed_by = NULL, claimed_at = NULL"
            f" WHERE status = 'running' AND {where}",
            params,
        )
    return requeued, failed


def update_run(store: Store, run_id: int, **values: Any) -> None:
    for key in ("plan", "verdict"):
        if isinstance(values.get(key), (dict, list)):
            values[key] = json.dumps(values[key], sort_keys=True)
    assignments = ", ".join(f"{column} = ?" for column in values)
    store.execute(
        f"UPDATE decision_runs SET {assignments} WHERE id = ?", [*values.values(), run_id]
    )


def insert_action(store: Store, **values: Any) -> int:
    if isinstance(values.get("intent"), dict):
        values["intent"] = json.dumps(values["intent"], sort_keys=True)
    if isinstance(values.get("gate_results"), list):
        values["gate_results"] = json.dumps(values["gate_results"])
    return store.upsert("decision_actions", values, key=("run_id", "seq"), returning="id")


def actions(store: Store, run_id: int) -> list[dict]:
    return store.query("SELECT * FROM decision_actions WHERE run_id = ? ORDER BY seq", (run_id,))


def list_runs(
    store: Store,
    *,
    clone_id: int | None = None,
    status: str | None = None,
    account_id: int | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[dict]:
    """Runs newest first (by id); ``before_id`` continues a listing after its last id."""
    sql, params = "SELECT * FROM decision_runs WHERE 1 = 1", []
    for column, value in (("clone_id", clone_id), ("status", status), ("account_id", account_id)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    if before_id is not None:
        sql += " AND id < ?"
        params.append(before_id)
    return store.query(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])


def next_due(store: Store, clone_id: int) -> int | None:
    row = store.query_one("SELECT next_due_at FROM clone_schedule WHERE clone_id = ?", (clone_id,))
    return row["next_due_at"] if row else None


def set_next_due(store: Store, clone_id: int, due_at: int, *, run_id: int, now_ms: int) -> None:
    store.execute(
        "INSERT INTO clone_schedule (clone_id, next_due_at, set_by_run, updated_at)"
        " VALUES (?, ?, ?, ?)"
        " ON CONFLICT (clone_id) DO UPDATE SET next_due_at = excluded.next_due_at,"
        " set_by_run = excluded.set_by_run, updated_at = excluded.updated_at",
        (clone_id, due_at, run_id, now_ms),
    )


def run_accounts(store: Store) -> dict[int, int]:
    """Decision run id → the id of the account it decided for, for every run."""
    return dict(store.tuples("SELECT id, account_id FROM decision_runs"))


def finished_runs_by_model(store: Store, engines: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Model name → ``(finished, failed)`` decision runs of ``engines`` (succeeded or failed;
    queued, running and skipped runs are not counted)."""
    names = sorted(engines)
    if not names:
        return {}
    rows = store.tuples(
        "SELECT model, COUNT(*), SUM(status = 'failed') FROM decision_runs"
        " WHERE model IS NOT NULL AND status IN ('succeeded', 'failed')"
        f" AND engine IN ({', '.join('?' * len(names))}) GROUP BY model",
        names,
    )
    return {model: (finished, failed) for model, finished, failed in rows}


def last_run_times(store: Store) -> dict[int, int]:
    """Account id → the time of its latest decision run activity: the newest of its runs'
    ``finished_at``, else ``started_at``, else ``created_at`` (epoch ms)."""
    return dict(
        store.tuples(
            "SELECT account_id, MAX(COALESCE(finished_at, started_at, created_at))"
            " FROM decision_runs GROUP BY account_id"
        )
    )


def insert_experiment(store: Store, **values: Any) -> int:
    return store.insert("experiments", values)


def clone_experiments(store: Store, clone_id: int) -> list[dict]:
    """Every experiment of a clone in order: ``policy_id, outcome, symbol, position_id`` and the
    ``action`` it took. The position's result is prop's to tell (``prop.repo.positions_by_id``)."""
    return store.query(
        """
        SELECT e.policy_id, e.outcome, e.symbol, a.action, e.position_id
        FROM experiments e JOIN decision_actions a ON a.id = e.action_id
        WHERE e.clone_id = ? ORDER BY e.id
        """,
        (clone_id,),
    )


def recent_experiments(
    store: Store, *, clone_id: int | None = None, policy_id: str | None = None, limit: int = 50
) -> list[dict]:
    """Experiments newest first, with the action each took (optionally one clone's, one
    policy's)."""
    sql, params = (
        "SELECT e.id, e.clone_id, e.run_id, e.policy_id, e.symbol, a.action, e.outcome,"
        " e.position_id, e.detail, e.created_at"
        " FROM experiments e JOIN decision_actions a ON a.id = e.action_id WHERE 1 = 1",
        [],
    )
    for column, value in (("e.clone_id", clone_id), ("e.policy_id", policy_id)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    return store.query(sql + " ORDER BY e.id DESC LIMIT ?", [*params, limit])


def policy_outcomes(store: Store) -> list[dict]:
    """Per experiment: ``policy_id, clone_id, account_id, action, outcome, position_id``, in
    order (the ledger's per-policy leaderboard)."""
    return store.query(
        "SELECT e.policy_id, e.clone_id, e.account_id, a.action, e.outcome, e.position_id"
        " FROM experiments e JOIN decision_actions a ON a.id = e.action_id ORDER BY e.id"
    )


def clones_with_experiments(store: Store) -> list[int]:
    return [cid for (cid,) in store.tuples("SELECT DISTINCT clone_id FROM experiments ORDER BY 1")]


# -- model health (safe mode) --------------------------------------------------------------------


def model_health(store: Store, clone_id: int) -> dict | None:
    return store.query_one("SELECT * FROM clone_model_health WHERE clone_id = ?", (clone_id,))


def put_model_health(
    store: Store,
    clone_id: int,
    *,
    consecutive_failures: int,
    safe_mode_since: int | None,
    last_error: str | None,
    now_ms: int,
) -> None:
    store.upsert(
        "clone_model_health",
        {
            "clone_id": clone_id,
            "consecutive_failures": consecutive_failures,
            "safe_mode_since": safe_mode_since,
            "last_error": last_error,
            "updated_at": now_ms,
        },
        key=("clone_id",),
    )


def clones_in_safe_mode(store: Store) -> list[dict]:
    return store.query(
        "SELECT * FROM clone_model_health WHERE safe_mode_since IS NOT NULL ORDER BY clone_id"
    )
