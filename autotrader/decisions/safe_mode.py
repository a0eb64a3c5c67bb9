"""Safe mode: a clone whose model calls keep failing holds until a call succeeds.

Every run whose engine could not get a usable answer (a 401, a 429 after the retries, a
timeout, an answer that does not validate) counts one consecutive failure for its clone; a run
with a usable answer resets the count. At ``threshold`` consecutive failures the clone enters
safe mode: every intent of its runs is recorded as a HOLD — a rules strategy of the same clone
too — until a model call succeeds, and that run trades again. Runs that call no model (rules,
hold) neither count nor end it.
"""

from __future__ import annotations

import logging

from autotrader.core.db import Store
from autotrader.decisions import repo
from autotrader.decisions.engines.base import EngineResult

log = logging.getLogger("autotrader.decisions")


def settle(
    store: Store, clone_id: int, result: EngineResult, *, now_ms: int, threshold: int
) -> bool:
    """Count ``result`` toward the clone's model health (inside the run's transaction) and
    return whether the clone is in safe mode after it (its intents are then to be held)."""
    health = repo.model_health(store, clone_id)
    failures = health["consecutive_failures"] if health else 0
    since = health["safe_mode_since"] if health else None
    error = health["last_error"] if health else None
    if result.failed:
        failures, error = failures + 1, result.error
        if since is None and failures >= threshold:
            since = now_ms
            log.warning(
                "clone %s: %d consecutive model failures, safe mode (holds only) until a call "
                "succeeds: %s",
                clone_id,
                failures,
                error,
            )
    elif result.invocation_ids:
        if since is not None:
            log.info("clone %s: a model call succeeded, safe mode ends", clone_id)
        failures, since, error = 0, None, None
    else:
        return since is not None  # no model call: nothing learned
    repo.put_model_health(
        store,
        clone_id,
        consecutive_failures=failures,
        safe_mode_since=since,
        last_error=error,
        now_ms=now_ms,
    )
    return since is not None
