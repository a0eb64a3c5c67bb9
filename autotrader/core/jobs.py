"""The job contract: every loop of the product is a named job with a default interval and a tick.

A *job* is one pass of work (``tick(ctx) -> TickReport``) built once per process from a
:class:`JobEnv` — the settings, the store, the clock, the worker's identity and the options its
command was given. The harness in :mod:`autotrader.core.worker` runs a job once (cron) or
forever (tmux/systemd); it owns intervals, heartbeats, back-off and the breaker.

Jobs are registered in one place, :mod:`autotrader.jobs`, as :class:`JobSpec` rows that name the
function building each job (imported only when that job runs, so ``workers status`` does not pay
for every package's imports). ``autotrader workers run NAME`` runs any of them; the feature
commands (``ingest worker``, ``prop mark-to-market --loop``, ...) are thin wrappers over the same
specs. Adding a loop is one module with a build function plus one registry row. A job that holds
a resource between ticks (``ingest stream``'s WebSocket) also has a ``close()``, which the
command running it calls however the run ends.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autotrader.core.errors import NotFoundError

if TYPE_CHECKING:
    from autotrader.core.clock import Clock
    from autotrader.core.db import Store
    from autotrader.core.settings import Settings
    from autotrader.core.worker import Tick


@dataclass(frozen=True)
class JobEnv:
    """What building a job gets: its collaborators and the options of the command that runs it."""

    settings: Settings
    store: Store
    clock: Clock
    worker_id: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def option(self, name: str, default: Any = None) -> Any:
        value = self.options.get(name)
        return default if value is None else value


JobBuilder = Callable[[JobEnv], "Tick"]
"""Builds a job's tick from its environment (once per process)."""


@dataclass(frozen=True)
class JobSpec:
    """One registered loop: its name (also its workers' heartbeat name), what it does, its
    default interval in seconds, and ``module:function`` of its builder."""

    name: str
    summary: str
    interval: float
    builder: str
    commands: tuple[str, ...] = ()  # the feature commands that wrap it, for `workers status`

    def build(self, env: JobEnv) -> Tick:
        module_name, _, function = self.builder.partition(":")
        build: JobBuilder = getattr(importlib.import_module(module_name), function)
        return build(env)


class JobRegistry:
    """The registered jobs, in a stable order, looked up by name."""

    def __init__(self, specs: tuple[JobSpec, ...]) -> None:
        names = [spec.name for spec in specs]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"jobs registered twice: {', '.join(duplicates)}")
        self._specs = {spec.name: spec for spec in specs}

    def __iter__(self):
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._specs)

    def get(self, name: str) -> JobSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise NotFoundError(
                f"no job named {name!r} (registered: {', '.join(self._specs)})"
            ) from None
