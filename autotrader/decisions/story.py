"""``decisions show``: the whole story of one decision run, from its context to its fills."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from autotrader.core.db import Store
from autotrader.core.errors import AutotraderError, NotFoundError
from autotrader.decisions import repo
from autotrader.decisions.market_context import is_reference, resolve
from autotrader.llm import repo as llm_repo
from autotrader.prop import repo as prop_repo

log = logging.getLogger("autotrader.decisions")

if TYPE_CHECKING:
    from autotrader.artifacts.index import Artifacts

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


def run_story(store: Store, run_id: int, *, artifacts: Artifacts | None = None) -> dict:
    """Run, actions with gate results and fills, model invocations, artifact keys. With
    ``artifacts`` (the artifact store), each invocation also carries the ``messages`` it sent
    — each role's exact prompt — read from its request artifact (None when it has none or the
    artifact cannot be read), and the story the ``context`` the engine saw
    (:func:`run_context`)."""
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
    story = {"run": run, "actions": actions, "invocations": invocations}
    if artifacts is not None:
        for invocation in invocations:
            invocation["messages"] = _messages(artifacts, invocation["request_artifact"])
        story["context"] = run_context(store, artifacts, run["context_artifact"])
    return story


def _messages(artifacts: Artifacts, key: str | None) -> list[dict] | None:
    if key is None:
        return None
    try:
        return artifacts.get_json(key)["messages"]
    except (AutotraderError, KeyError, TypeError):  # gone from the backend, or not a request
        log.warning("request artifact %s could not be read", key, exc_info=True)
        return None


def run_context(store: Store, artifacts: Artifacts, key: str | None) -> dict | None:
    """What the engine saw: the stored context packet of a model-backed run, the snapshot a
    market-only run saw rebuilt from market memory (with ``verified``), None when the run
    stored none, or ``{"problem": ...}`` when the artifact cannot be read."""
    if not key:
        return None
    try:
        context = artifacts.get_json(key)
    except AutotraderError as exc:
        return {"problem": str(exc)}
    return resolve(store, context) if is_reference(context) else context
