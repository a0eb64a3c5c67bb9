"""The only SQL of the llm tables: invocations, the response cache, tool-call records.

Every function takes the ``Store`` to use. Writes run in ``store.atomic()``, so they commit on
their own or join the caller's unit of work as a savepoint. Money (``cost_usd``) is Decimal in
Python and TEXT in SQLite; times are UTC epoch milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError, NotFoundError
from autotrader.llm.vocabulary import ModelRole

ROLES = tuple(role.value for role in ModelRole)
STATUSES = ("ok", "invalid_output", "refused", "truncated", "failed")


class ToolName(StrEnum):
    """What a model's output asked for, as a tool call would name it."""

    CREATE_POSITION = "CREATE_POSITION"
    CLOSE_POSITION = "CLOSE_POSITION"
    HOLDING = "HOLDING"
    UPDATE_EXIT_PLAN = "UPDATE_EXIT_PLAN"


@dataclass(frozen=True)
class InvocationRecord:
    """One model call as it is audited (cost in USD as Decimal, latency in ms)."""

    role: str
    model: str
    api: str
    schema_name: str
    request_hash: str
    prompt_hash: str
    status: str
    created_at: int
    trace_id: str | None = None
    run_id: int | None = None
    error: str | None = None
    raw_text: str | None = None
    parsed_json: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: int = 0
    cost_usd: Decimal = Decimal(0)
    cached: bool = False
    attempts: int = 0
    request_artifact: str | None = None  # keys of the full request and answer, when archived
    response_artifact: str | None = None


@dataclass(frozen=True)
class CachedResponse:
    """A stored model answer and the tokens the original call spent."""

    key: str
    model: str
    api: str
    raw_text: str
    input_tokens: int
    output_tokens: int
    created_at: int


# -- invocations ---------------------------------------------------------------------------


def insert_invocation(store: Store, record: InvocationRecord) -> int:
    """Insert one invocation row and return its id."""
    with store.atomic():
        return store.insert(
            "invocations",
            {
                "trace_id": record.trace_id,
                "run_id": record.run_id,
                "role": record.role,
                "model": record.model,
                "api": record.api,
                "schema_name": record.schema_name,
                "request_hash": record.request_hash,
                "prompt_hash": record.prompt_hash,
                "status": record.status,
                "error": record.error,
                "raw_text": record.raw_text,
                "parsed_json": record.parsed_json,
                "input_tokens": int(record.input_tokens),
                "output_tokens": int(record.output_tokens),
                "latency_ms": int(record.latency_ms),
                "cost_usd": _decimal_text(record.cost_usd),
                "cached": 1 if record.cached else 0,
                "attempts": int(record.attempts),
                "created_at": int(record.created_at),
                "request_artifact": record.request_artifact,
                "response_artifact": record.response_artifact,
            },
        )


def get_invocation(store: Store, invocation_id: int) -> dict[str, Any] | None:
    """One invocation row as a dict (``cost_usd`` as Decimal, ``cached`` as bool), or None."""
    row = store.query_one("SELECT * FROM invocations WHERE id = ?", (invocation_id,))
    return _invocation(row) if row is not None else None


def list_invocations(
    store: Store,
    *,
    run_id: int | None = None,
    trace_id: str | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Invocations in call order, narrowed to a decision run and/or a trace when given."""
    where, params = [], []
    if run_id is not None:
        where.append("run_id = ?")
        params.append(run_id)
    if trace_id is not None:
        where.append("trace_id = ?")
        params.append(trace_id)
    sql = "SELECT * FROM invocations"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id LIMIT ?"
    return [_invocation(row) for row in store.query(sql, [*params, int(limit)])]


def invocations_for_run(store: Store, run_id: int) -> list[dict[str, Any]]:
    """Every invocation row of one decision run, in call order, as stored (``cost_usd`` as its
    TEXT, ``cached`` as 0/1): what ``decisions show`` and ``ledger trace`` display."""
    return store.query("SELECT * FROM invocations WHERE run_id = ? ORDER BY id", (run_id,))


def invocation_outputs(store: Store, invocation_ids: Sequence[int]) -> list[dict[str, Any]]:
    """``id, role, model, status, raw_text`` of the given invocations, in id order: the model
    answers a decision run keeps as its response artifact."""
    ids = list(invocation_ids)
    if not ids:
        return []
    return store.query(
        "SELECT id, role, model, status, raw_text FROM invocations"
        f" WHERE id IN ({', '.join('?' * len(ids))}) ORDER BY id",
        ids,
    )


def invocation_usage(store: Store, invocation_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """``{id: {status, input_tokens, output_tokens, cost_usd, cached, latency_ms}}`` of the
    given invocations (``cost_usd`` as Decimal, ``cached`` as bool)."""
    ids = list(invocation_ids)
    if not ids:
        return {}
    rows = store.query(
        "SELECT id, status, input_tokens, output_tokens, cost_usd, cached, latency_ms"
        f" FROM invocations WHERE id IN ({', '.join('?' * len(ids))})",
        ids,
    )
    return {row.pop("id"): _invocation(row) for row in rows}


def cost_texts_by_run(store: Store) -> dict[int, list[str]]:
    """Decision run id → the ``cost_usd`` texts of its invocations (invocations made outside a
    run are left out); the caller sums them exactly as Decimals."""
    return {
        run_id: text.split(",")
        for run_id, text in store.tuples(
            "SELECT run_id, group_concat(cost_usd, ',') FROM invocations"
            " WHERE run_id IS NOT NULL GROUP BY run_id"
        )
    }


def usage_by_model(store: Store) -> list[dict[str, Any]]:
    """Per model name, in name order: ``invocations``, ``cached``, ``failed`` (status not
    ``ok``: the output could not become an action), ``input_tokens``, ``output_tokens``,
    ``latency_ms`` (summed) and ``costs`` (the ``cost_usd`` texts, for an exact Decimal sum)."""
    rows = store.query(
        "SELECT model, COUNT(*) AS invocations, SUM(cached) AS cached,"
        " SUM(status != 'ok') AS failed, SUM(input_tokens) AS input_tokens,"
        " SUM(output_tokens) AS output_tokens, SUM(latency_ms) AS latency_ms,"
        " group_concat(cost_usd, ',') AS costs FROM invocations GROUP BY model ORDER BY model"
    )
    for row in rows:
        row["costs"] = row["costs"].split(",")
    return rows


def tool_calls_by_model(store: Store) -> dict[str, int]:
    """Model name → how many tool-call records its invocations' answers became."""
    return dict(
        store.tuples(
            "SELECT i.model, COUNT(*) FROM tool_calls t"
            " JOIN invocations i ON i.id = t.invocation_id GROUP BY i.model"
        )
    )


def set_invocation_run(store: Store, invocation_id: int, run_id: int) -> None:
    """Attach an invocation to the decision run it served (when it was made before the run)."""
    _update_invocation(store, invocation_id, "run_id = ?", (run_id,))


def set_invocation_artifacts(
    store: Store,
    invocation_id: int,
    *,
    request_artifact: str | None = None,
    response_artifact: str | None = None,
) -> None:
    """Store the artifact keys of an invocation's full request/response (None leaves a key)."""
    _update_invocation(
        store,
        invocation_id,
        "request_artifact = COALESCE(?, request_artifact), "
        "response_artifact = COALESCE(?, response_artifact)",
        (request_artifact, response_artifact),
    )


def invocation_totals(
    store: Store,
    *,
    run_id: int | None = None,
    trace_prefix: str | None = None,
    since_ms: int | None = None,
) -> dict[str, Any]:
    """Calls, tokens and cost (Decimal USD, summed exactly in Python): overall, for one run,
    for the traces that start with ``trace_prefix`` (``desk:``), made since ``since_ms``."""
    where, params = ["1 = 1"], []
    if run_id is not None:
        where.append("run_id = ?")
        params.append(run_id)
    if trace_prefix is not None:
        where.append("substr(trace_id, 1, ?) = ?")
        params += [len(trace_prefix), trace_prefix]
    if since_ms is not None:
        where.append("created_at >= ?")
        params.append(since_ms)
    rows = store.query(
        "SELECT input_tokens, output_tokens, cost_usd, cached FROM invocations"
        f" WHERE {' AND '.join(where)}",
        params,
    )
    return {
        "calls": len(rows),
        "cached": sum(row["cached"] for row in rows),
        "input_tokens": sum(row["input_tokens"] for row in rows),
        "output_tokens": sum(row["output_tokens"] for row in rows),
        "cost_usd": sum((Decimal(row["cost_usd"]) for row in rows), Decimal(0)),
    }


# -- response cache ----------------------------------------------------------------------------


def cache_get(store: Store, key: str) -> CachedResponse | None:
    """The cached answer for ``key``, or None."""
    row = store.query_one("SELECT * FROM response_cache WHERE key = ?", (key,))
    return CachedResponse(**row) if row is not None else None


def cache_put(store: Store, entry: CachedResponse) -> None:
    """Store an answer for ``key``, replacing an older one (which no longer validated)."""
    with store.atomic():
        store.execute(
            """
            INSERT INTO response_cache (key, model, api, raw_text, input_tokens, output_tokens,
                                        created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET
                raw_text = excluded.raw_text,
                input_tokens = excluded.input_tokens,
                output_tokens = excluded.output_tokens,
                created_at = excluded.created_at
            """,
            (
                entry.key,
                entry.model,
                entry.api,
                entry.raw_text,
                int(entry.input_tokens),
                int(entry.output_tokens),
                int(entry.created_at),
            ),
        )


def cache_clear(store: Store) -> int:
    """Forget every cached answer; returns how many were removed."""
    with store.atomic():
        return store.execute("DELETE FROM response_cache")


# -- tool calls -----------------------------------------------------------------------------


def record_tool_call(
    store: Store,
    *,
    invocation_id: int,
    name: ToolName | str,
    arguments: Mapping[str, Any],
    now_ms: int,
    action_id: int | None = None,
) -> int:
    """Record what an invocation's output asked for and return the record's id.

    Raises ``InvalidInputError`` for an unknown tool name or arguments that are not a JSON
    object, ``NotFoundError`` when the invocation does not exist.
    """
    try:
        tool = ToolName(str(name))
    except ValueError:
        raise InvalidInputError(f"unknown tool call {name!r}") from None
    if not isinstance(arguments, Mapping):
        raise InvalidInputError("tool call arguments must be a JSON object")
    text = json.dumps(dict(arguments), sort_keys=True, separators=(",", ":"), allow_nan=False)
    with store.atomic():
        if store.query_one("SELECT 1 FROM invocations WHERE id = ?", (invocation_id,)) is None:
            raise NotFoundError(f"invocation {invocation_id} not found")
        return store.insert(
            "tool_calls",
            {
                "invocation_id": invocation_id,
                "name": tool.value,
                "arguments": text,
                "action_id": action_id,
                "created_at": int(now_ms),
            },
        )


def link_tool_call(store: Store, tool_call_id: int, action_id: int) -> None:
    """Link a tool-call record to the decision action it caused. ``NotFoundError`` if absent."""
    with store.atomic():
        changed = store.execute(
            "UPDATE tool_calls SET action_id = ? WHERE id = ?", (action_id, tool_call_id)
        )
        if changed == 0:
            raise NotFoundError(f"tool call {tool_call_id} not found")


def tool_calls_for_run(store: Store, run_id: int) -> list[dict[str, Any]]:
    """``id, invocation_id, name, action_id`` of every tool-call record of one decision run's
    invocations, in order (arguments left out: the trace names the links, not the payloads)."""
    return store.query(
        "SELECT t.id, t.invocation_id, t.name, t.action_id FROM tool_calls t"
        " JOIN invocations i ON i.id = t.invocation_id WHERE i.run_id = ?"
        " ORDER BY t.id",
        (run_id,),
    )


def tool_calls_for(store: Store, invocation_id: int) -> list[dict[str, Any]]:
    """The tool-call records of one invocation, arguments decoded, in order."""
    rows = store.query(
        "SELECT * FROM tool_calls WHERE invocation_id = ? ORDER BY id", (invocation_id,)
    )
    for row in rows:
        row["arguments"] = json.loads(row["arguments"])
    return rows


# -- helpers ----------------------------------------------------------------------------------


def _update_invocation(store: Store, invocation_id: int, assignments: str, params: tuple) -> None:
    with store.atomic():
        changed = store.execute(
            f"UPDATE invocations SET {assignments} WHERE id = ?", (*params, invocation_id)
        )
        if changed == 0:
            raise NotFoundError(f"invocation {invocation_id} not found")


def _invocation(row: dict[str, Any]) -> dict[str, Any]:
    row["cost_usd"] = Decimal(row["cost_usd"])
    row["cached"] = bool(row["cached"])
    return row


def _decimal_text(value: Decimal) -> str:
    # Fixed-point text: "0.00125", never "1.25E-3", so SQL sorting and humans read it alike.
    return format(Decimal(value), "f")
