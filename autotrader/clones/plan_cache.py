"""One compiled plan per pipeline version, shared by every tick of a process.

Compiling a clone's stored graph (parse the JSON, resolve its universe against the registry,
expand read plans) cost the decision scheduler 10–13 % of a replay when it ran for every
account on every tick. A compiled plan depends only on the stored graph of that version (never
edited), the clone's variant and the asset registry, so :class:`CompiledPlans` keys it by all
three and recompiles only when one of them changes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from autotrader.clones.management import require_clone
from autotrader.clones.pipelines import compiled
from autotrader.clones.plan import CompiledPipeline
from autotrader.core.db import Store
from autotrader.market import repo as market_repo

_MAX_PLANS = 4096  # compiled plans kept at most (a long-lived worker over many clones)


class CompiledPlans:
    """Compiled pipelines of one store, by (clone, version, variant, registry stamp).

    Thread-safe: the decision runner's threads build requests from it. A cache belongs to one
    database (clone ids and versions are per store), so build one per store.
    """

    def __init__(self, compile: Callable[[Store, int, int], CompiledPipeline] = compiled) -> None:
        self._compile = compile  # what a miss runs: ``clones.pipelines.compiled``
        self._plans: dict[tuple, CompiledPipeline] = {}
        self._lock = threading.Lock()

    def get(self, store: Store, clone_id: int, version: int | None = None) -> CompiledPipeline:
        """What :func:`autotrader.clones.pipelines.compiled` returns (the latest version when
        ``version`` is None), compiled once; raises as it does for a missing clone/pipeline."""
        clone = require_clone(store, clone_id)
        if version is None:
            version = clone.pipeline_version
        if version is None:
            return compiled(store, clone_id)  # raises the "no pipeline yet" error
        key = (clone_id, version, clone.variant, market_repo.registry_stamp(store))
        with self._lock:
            found = self._plans.get(key)
        if found is None:
            found = self._compile(store, clone_id, version)
            with self._lock:
                if len(self._plans) >= _MAX_PLANS:
                    self._plans.clear()
                self._plans[key] = found
        return found
