"""One compiled plan per pipeline version, shared by every tick of a process.

Compiling a clone's stored graph (parse the JSON, resolve its universe against the registry,
expand read plans) cost the decision scheduler 10–13 % of a replay when it ran for every
account on every tick. A compiled plan depends only on the stored graph of that version (never
edited), the clone's variant (fixed when the clone is created) and the asset registry, so
:class:`CompiledPlans` keeps one per (clone, version) and drops them all when the registry has
been written since (checked once per tick, :meth:`CompiledPlans.start_tick`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from autotrader.clones.pipelines import compiled
from autotrader.clones.plan import CompiledPipeline
from autotrader.core.db import Store
from autotrader.market import repo as market_repo

_MAX_PLANS = 4096  # compiled plans kept at most (a long-lived worker over many clones)


class CompiledPlans:
    """Compiled pipelines of one store by (clone, version); thread-safe (the decision runner's
    threads build requests from it). Clone ids and versions are per database: one per store."""

    def __init__(
        self, compile: Callable[[Store, int, int | None], CompiledPipeline] = compiled
    ) -> None:
        self._compile = compile  # what a miss runs: ``clones.pipelines.compiled``
        self._plans: dict[tuple[int, int], CompiledPipeline] = {}
        self._registry: tuple | None = None  # the registry stamp the plans were compiled on
        self._lock = threading.Lock()

    def start_tick(self, store: Store) -> None:
        """Forget every plan if the asset registry was written since the last tick (a universe
        resolves against it): one cheap aggregate per tick instead of one per request."""
        stamp = market_repo.registry_stamp(store)
        with self._lock:
            if stamp != self._registry:
                self._plans.clear()
                self._registry = stamp

    def get(self, store: Store, clone_id: int, version: int | None) -> CompiledPipeline:
        """The compiled ``version`` of the clone's pipeline, compiled on first use. ``None``
        (a clone with no pipeline yet) raises what :func:`~autotrader.clones.pipelines.compiled`
        raises, as does a missing clone or version."""
        if version is None:
            return self._compile(store, clone_id, None)
        key = (clone_id, version)
        with self._lock:
            found = self._plans.get(key)
        if found is None:
            found = self._compile(store, clone_id, version)
            with self._lock:
                if len(self._plans) >= _MAX_PLANS:
                    self._plans.clear()
                self._plans[key] = found
        return found
