"""SQL for the desk's loop: proposals, missions and steps. Callers group a transition in one
``store.atomic()``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from autotrader.core.db import Store
from autotrader.desk.repo import decode, dumps

_TRADE_KINDS = "('execute_trade', 'scale_position')"

# -- proposals ---------------------------------------------------------------------------------


def insert_proposal(store: Store, values: dict[str, Any]) -> int:
    row = {k: dumps(v) if k in ("steps", "gate_results") else v for k, v in values.items()}
    return store.insert("desk_proposals", row)


def update_proposal(store: Store, proposal_id: int, **values: Any) -> None:
    row = {k: dumps(v) if k in ("steps", "gate_results") else v for k, v in values.items()}
    assignments = ", ".join(f"{column} = ?" for column in row)
    store.execute(
        f"UPDATE desk_proposals SET {assignments} WHERE id = ?", [*row.values(), proposal_id]
    )


def get_proposal(store: Store, proposal_id: int) -> dict | None:
    row = store.query_one("SELECT * FROM desk_proposals WHERE id = ?", (proposal_id,))
    return decode(row, "steps", "gate_results")


def list_proposals(
    store: Store, *, status: str | None = None, agent_id: str | None = None, limit: int = 50
) -> list[dict]:
    sql, params = "SELECT * FROM desk_proposals WHERE 1 = 1", []
    for column, value in (("status", status), ("agent_id", agent_id)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    rows = store.query(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
    return [decode(row, "steps", "gate_results") for row in rows]  # type: ignore[misc]


# ``excluding``: a pending proposal judged again (its roundtable approved it) is not counted
# against itself. Ids start at 1, so the default 0 excludes nothing.


def count_proposed_steps(
    store: Store, kinds: Sequence[str], *, since_ms: int, excluding: int = 0
) -> int:
    """Steps of ``kinds`` in proposals accepted or pending since ``since_ms`` (a day's quota
    counts what is promised, not only what already ran)."""
    return store.scalar(
        "SELECT COUNT(*) FROM desk_proposals p, json_each(p.steps) s"
        " WHERE p.created_at >= ? AND p.status IN ('accepted', 'pending') AND p.id != ?"
        f" AND json_extract(s.value, '$.kind') IN ({', '.join('?' * len(kinds))})",
        (since_ms, excluding, *kinds),
    )


def pending_steps(store: Store, *, excluding: int = 0) -> list[dict]:
    """Every step of every proposal waiting for a roundtable, as proposed."""
    rows = store.tuples(
        "SELECT s.value FROM desk_proposals p, json_each(p.steps) s"
        " WHERE p.status = 'pending' AND p.id != ?",
        (excluding,),
    )
    return [json.loads(value) for (value,) in rows]


def open_duplicate(store: Store, dedupe_key: str, *, excluding: int = 0) -> int | None:
    """A proposal asking the same thing that is still pending or whose mission still runs."""
    return store.scalar(
        "SELECT p.id FROM desk_proposals p LEFT JOIN desk_missions m ON m.id = p.mission_id"
        " WHERE p.dedupe_key = ? AND p.id != ? AND (p.status = 'pending' OR (p.status ="
        " 'accepted' AND m.status IN ('approved', 'running'))) ORDER BY p.id LIMIT 1",
        (dedupe_key, excluding),
    )


def proposal_counts(store: Store, *, since_ms: int) -> dict[str, int]:
    return dict(
        store.tuples(
            "SELECT status, COUNT(*) FROM desk_proposals WHERE created_at >= ? GROUP BY status",
            (since_ms,),
        )
    )


# -- missions and steps ------------------------------------------------------------------------


def insert_mission(store: Store, values: dict[str, Any]) -> int:
    return store.insert("desk_missions", values)


def get_mission(store: Store, mission_id: int) -> dict | None:
    return store.query_one("SELECT * FROM desk_missions WHERE id = ?", (mission_id,))


def list_missions(store: Store, *, status: str | None = None, limit: int = 50) -> list[dict]:
    sql, params = "SELECT * FROM desk_missions", []
    if status is not None:
        sql += " WHERE status = ?"
        params.append(status)
    return store.query(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])


def update_mission(store: Store, mission_id: int, **values: Any) -> None:
    assignments = ", ".join(f"{column} = ?" for column in values)
    store.execute(
        f"UPDATE desk_missions SET {assignments} WHERE id = ?", [*values.values(), mission_id]
    )


def start_missions(store: Store, mission_ids: Iterable[int], *, now_ms: int) -> list[int]:
    """Approved missions among ``mission_ids`` → running; the ids that changed."""
    ids = sorted(set(mission_ids))
    if not ids:
        return []
    rows = store.query(
        "UPDATE desk_missions SET status = 'running', started_at = ?"
        f" WHERE status = 'approved' AND id IN ({', '.join('?' * len(ids))}) RETURNING id",
        (now_ms, *ids),
    )
    return sorted(row["id"] for row in rows)


def mission_counts(store: Store) -> dict[str, int]:
    return dict(store.tuples("SELECT status, COUNT(*) FROM desk_missions GROUP BY status"))


def insert_step(store: Store, values: dict[str, Any]) -> int:
    return store.insert("desk_steps", {**values, "payload": dumps(values["payload"])})


def _step(row: dict | None) -> dict | None:
    return decode(row, "payload", "output")


def mission_steps(store: Store, mission_id: int) -> list[dict]:
    rows = store.query("SELECT * FROM desk_steps WHERE mission_id = ? ORDER BY seq", (mission_id,))
    return [_step(row) for row in rows]  # type: ignore[misc]


def claim_steps(
    store: Store, kinds: Sequence[str], *, worker_id: str, now_ms: int, limit: int
) -> list[dict]:
    """Claim queued steps of ``kinds`` whose earlier steps (same mission) all succeeded."""
    where = (
        f"status = 'queued' AND kind IN ({', '.join('?' * len(kinds))}) AND NOT EXISTS ("
        "SELECT 1 FROM desk_steps e WHERE e.mission_id = desk_steps.mission_id"
        " AND e.seq < desk_steps.seq AND e.status != 'succeeded')"
    )
    rows = store.claim(
        "desk_steps",
        where=where,
        params=list(kinds),
        set_values={"status": "running", "claimed_by": worker_id, "claimed_at": now_ms},
        limit=limit,
    )
    return [_step(row) for row in rows]  # type: ignore[misc]


def finish_step(
    store: Store,
    step_id: int,
    *,
    status: str,
    now_ms: int,
    output: dict | None = None,
    error: str | None = None,
    position_id: int | None = None,
) -> None:
    store.execute(
        "UPDATE desk_steps SET status = ?, output = ?, error = ?, finished_at = ?,"
        " position_id = COALESCE(?, position_id) WHERE id = ?",
        (status, None if output is None else dumps(output), error, now_ms, position_id, step_id),
    )


def release_step(store: Store, step_id: int, *, max_attempts: int, now_ms: int) -> dict | None:
    """Give a claimed step back (its attempt changed nothing): queued again, or failed once it
    has been given back ``max_attempts`` times. The step as it now is; None if it was not
    running."""
    rows = _release(store, "id = ?", [step_id], max_attempts=max_attempts, now_ms=now_ms)
    return rows[0] if rows else None


def skip_remaining_steps(store: Store, mission_id: int, *, now_ms: int) -> int:
    return store.execute(
        "UPDATE desk_steps SET status = 'skipped', finished_at = ?"
        " WHERE mission_id = ? AND status = 'queued'",
        (now_ms, mission_id),
    )


def unfinished_steps(store: Store, mission_id: int) -> int:
    return store.scalar(
        "SELECT COUNT(*) FROM desk_steps WHERE mission_id = ? AND status IN ('queued', 'running')",
        (mission_id,),
    )


def step_claimants(store: Store) -> list[str]:
    """The worker ids holding running steps."""
    return [
        worker
        for (worker,) in store.tuples(
            "SELECT DISTINCT claimed_by FROM desk_steps"
            " WHERE status = 'running' AND claimed_by IS NOT NULL"
        )
    ]


def release_steps_of(
    store: Store, worker_ids: Iterable[str], *, max_attempts: int, now_ms: int
) -> list[dict]:
    """Give back the running steps of ``worker_ids`` (workers known to be gone), as
    :func:`release_step` does; the steps, as they now are (queued or failed)."""
    ids = sorted(worker_ids)
    if not ids:
        return []
    where = f"claimed_by IN ({', '.join('?' * len(ids))})"
    return _release(store, where, ids, max_attempts=max_attempts, now_ms=now_ms)


def _release(
    store: Store, where: str, params: list, *, max_attempts: int, now_ms: int
) -> list[dict]:
    # One statement decides requeue or give-up per row, so a step is never both.
    rows = store.query(
        "UPDATE desk_steps SET attempts = attempts + 1, claimed_by = NULL, claimed_at = NULL,"
        " status = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE 'queued' END,"
        " finished_at = CASE WHEN attempts + 1 >= ? THEN ? ELSE finished_at END,"
        " error = CASE WHEN attempts + 1 >= ?"
        " THEN 'gave up: given back ' || (attempts + 1) || ' times (its worker died or the step"
        " kept failing temporarily)' ELSE error END"
        f" WHERE status = 'running' AND {where} RETURNING *",
        [max_attempts, max_attempts, now_ms, max_attempts, *params],
    )
    return [_step(row) for row in rows]  # type: ignore[misc]


def fail_stale_steps(store: Store, *, claimed_before: int, now_ms: int, limit: int) -> list[dict]:
    """Running steps claimed before ``claimed_before`` → failed (their worker died or hangs)."""
    rows = store.query(
        "UPDATE desk_steps SET status = 'failed', finished_at = ?,"
        " error = 'stale: running for more than 30 minutes (its worker stopped or hangs)'"
        " WHERE id IN (SELECT id FROM desk_steps WHERE status = 'running' AND claimed_at < ?"
        " ORDER BY id LIMIT ?) RETURNING *",
        (now_ms, claimed_before, limit),
    )
    return [_step(row) for row in rows]  # type: ignore[misc]


def active_trade_steps(store: Store) -> list[dict]:
    """Queued or running steps that will trade: the positions the desk is about to change."""
    rows = store.query(
        "SELECT * FROM desk_steps WHERE status IN ('queued', 'running')"
        " AND kind IN ('execute_trade', 'scale_position', 'close_position') ORDER BY id"
    )
    return [_step(row) for row in rows]  # type: ignore[misc]


def step_for_position(store: Store, position_id: int) -> dict | None:
    """The step that opened ``position_id``."""
    return _step(
        store.query_one(
            f"SELECT * FROM desk_steps WHERE position_id = ? AND kind IN {_TRADE_KINDS}"
            " AND status = 'succeeded' ORDER BY id LIMIT 1",
            (position_id,),
        )
    )


def finished_steps_since(store: Store, *, since_ms: int) -> dict[tuple[str, str], int]:
    """``{(kind, status): count}`` of steps that finished since ``since_ms``."""
    rows = store.tuples(
        "SELECT kind, status, COUNT(*) FROM desk_steps WHERE finished_at >= ?"
        " GROUP BY kind, status",
        (since_ms,),
    )
    return {(kind, status): n for kind, status, n in rows}


def stale_steps_since(store: Store, *, since_ms: int) -> int:
    """Steps the heartbeat failed as stale since ``since_ms`` (its stale-work recoveries)."""
    return store.scalar(
        "SELECT COUNT(*) FROM desk_steps WHERE status = 'failed' AND finished_at >= ?"
        " AND error LIKE 'stale:%'",
        (since_ms,),
    )


def rejections_since(store: Store, *, since_ms: int) -> dict[str, int]:
    """Proposals rejected since ``since_ms``, per gate."""
    return dict(
        store.tuples(
            "SELECT gate, COUNT(*) FROM desk_proposals WHERE status = 'rejected'"
            " AND created_at >= ? GROUP BY gate",
            (since_ms,),
        )
    )


def step_counts(store: Store) -> dict[str, int]:
    return dict(store.tuples("SELECT status, COUNT(*) FROM desk_steps GROUP BY status"))
