"""``decisions show``: the whole story of one decision run, from its context to its fills."""

from __future__ import annotations

import json
import logging
from typing import Any

from autotrader.core.db import Store
from autotrader.core.errors import AutotraderError, NotFoundError
from autotrader.decisions import repo
from autotrader.llm import repo as llm_repo
from autotrader.prop import repo as prop_repo

log = logging.getLogger("autotrader.decisions")

# What `decisions show` tells of each model invocation, in this order.
_INVOCATION_COLUMNS = (
    "id",
    "role",
    "model",
    "api",
    "status",
    "error",
    "input_tokens",
    "output_tokens",
    "latency_ms",
    "cost_usd",
    "cached",
    "raw_text",
    "request_artifact",
    "response_artifact",
)


def run_story(store: Store, run_id: int, *, artifacts: Any = None) -> dict:
    """Run, actions with gate results and fills, model invocations, artifact keys. With
    ``artifacts`` (the artifact store), each invocation also carries the ``messages`` it sent
    — each role's exact prompt — read from its request artifact (None when it has none or the
    artifact cannot be read)."""
    run = repo.get_run(store, run_id)
    if run is None:
        raise NotFoundError(
            f"decision run {run_id} does not exist (see `autotrader decisions list`)"
        )
    for key in ("plan", "verdict"):
        if run.get(key):
            run[key] = json.loads(run[key])
    actions = []
    for action in repo.actions(store, run_id):
        action["intent"] = json.loads(action["intent"])
        action["gate_results"] = (
            json.loads(action["gate_results"]) if action["gate_results"] else []
        )
        action["fill"] = (
            prop_repo.fills_for_intent(store, action["intent_id"]) if action["intent_id"] else None
        )
        actions.append(action)
    invocations = [
        {column: row[column] for column in _INVOCATION_COLUMNS}
        for row in llm_repo.invocations_for_run(store, run_id)
    ]
    if artifacts is not None:
        for invocation in invocations:
            invocation["messages"] = _messages(artifacts, invocation["request_artifact"])
    return {"run": run, "actions": actions, "invocations": invocations}


def _messages(artifacts: Any, key: str | None) -> list[dict] | None:
    if key is None:
        return None
    try:
        return artifacts.get_json(key)["messages"]
    except (AutotraderError, KeyError, TypeError):  # gone from the backend, or not a request
        log.warning("request artifact %s could not be read", key, exc_info=True)
        return None
