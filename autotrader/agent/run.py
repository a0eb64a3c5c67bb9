"""Running the agent: boot, then its step under the worker harness until it is stopped.

The harness owns what every loop shares — heartbeats (``workers status`` lists the agent),
back-off and the breaker after failures, SIGTERM/SIGINT ending the loop after the step in
progress — and waits between steps as long as the step asks (until the clone is next due).
On a replay clock (``AUTOTRADER_NOW``) that wait advances the clock instead of waiting, so a
simulated day runs in seconds. However the loop ends, the clone's resting orders that protect
nothing are cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autotrader.agent.boot import Booted
from autotrader.agent.jobs import AGENT_JOB, agent_job
from autotrader.core.clock import Clock, SimulatedClock
from autotrader.core.db import Store
from autotrader.core.jobs import JobEnv
from autotrader.core.settings import Settings
from autotrader.core.worker import Worker, WorkerConfig, WorkerSummary, worker_identity


@dataclass
class AgentRun:
    booted: Booted
    summary: WorkerSummary
    shutdown: list[str] = field(default_factory=list)  # what graceful shutdown cancelled


def run_agent(
    settings: Settings,
    store: Store,
    clock: Clock,
    clone_id: int,
    *,
    max_ticks: int | None = None,
    duration_ms: int | None = None,
    announce: Callable[[Booted], Any] = lambda _booted: None,
) -> AgentRun:
    """Boot the agent of ``clone_id`` and run it until a signal, ``max_ticks`` steps or
    ``duration_ms`` on its clock. Raises what boot raises (nothing traded then), and an
    ``OperationalError`` a step raised."""
    env = JobEnv(settings, store, clock, worker_identity(AGENT_JOB), {"clone_id": clone_id})
    store.require_intact()  # a loop writes for hours: only on a store that passes quick_check
    job = agent_job(env)
    announce(job.booted)
    config = WorkerConfig(
        name=AGENT_JOB,
        interval=settings.agent_min_sleep_s,  # back-off after a failed step starts here
        jitter=settings.worker_jitter,
        max_interval=settings.agent_max_sleep_s,
        breaker_failures=settings.worker_breaker_failures,
    )
    replay = isinstance(clock, SimulatedClock)
    sleep = (lambda seconds: clock.advance(seconds=seconds)) if replay else None
    worker = Worker(config, job, store=store, clock=clock, sleep=sleep)
    until = None if duration_ms is None else clock.now_ms() + duration_ms
    try:
        summary = worker.run(max_ticks=max_ticks, until_ms=until)
    finally:
        shutdown = job.shutdown()
    return AgentRun(job.booted, summary, shutdown)
