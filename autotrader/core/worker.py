"""The worker harness: run a tick once, or forever with heartbeats, back-off and a breaker.

A loop in autotrader is a *tick* (``tick(ctx) -> TickReport``: one pass of work) plus this
harness, which owns everything else: the interval with jitter, graceful shutdown on SIGINT and
SIGTERM after the current tick, exponential back-off after failures, a circuit breaker (after N
consecutive failures the worker reports itself *degraded* and waits the maximum interval — it
never hot-loops on an error), a ``worker_heartbeats`` row per worker and an ``action_runs`` row
per tick. Sleep, clock and randomness are injectable, so tests run loops without waiting.

What a tick's exception means to the harness:

- ``OperationalError``: recorded, the worker stops and the error propagates (exit 1).
- any other exception (``TemporaryError``, a bug): recorded as a failure; the loop backs off and
  tries again. ``run_once`` re-raises it after recording, so a cron run exits non-zero.

A tick that handles its own errors (a desk worker counts them against its breaker and records
them on its work) returns ``TickReport(failed=True)`` instead of raising: the harness records,
counts and backs off from it exactly as from a raised failure, its summary as the error.

How a loop ends: a worker stopped by a signal or ``max_ticks`` while *failing* — it never had a
successful tick, or its last ``breaker_failures`` ticks all failed (it was degraded) — says so in
its summary (``WorkerSummary.failing``), and its command exits 1, so systemd, tmux scripts and
tests see a worker that did no work as a failure rather than a clean stop.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autotrader.core import repo
from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import AutotraderError, OperationalError

log = logging.getLogger("autotrader.worker")

HEALTHY = "ok"
FAILED = "failed"
DEGRADED = "degraded"
STOPPED = "stopped"
STARTING = "starting"


@dataclass
class TickReport:
    """What one tick did, in a line and a few counts (stored with its ``action_runs`` row)."""

    summary: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    idle: bool = False  # nothing to do this time; still a success
    failed: bool = False  # the tick's work failed, though it handled the error itself
    result: Any = None  # the service's own report, for a one-shot command to render
    # Seconds until the tick's next work is due (a Planner's wake-up): after a success the
    # harness waits exactly this long (no jitter) instead of its interval, up to its maximum.
    next_tick_in: float | None = None


@dataclass
class TickContext:
    """What a tick gets: the store, the clock, its tick number and a stop probe."""

    store: Store
    clock: Clock
    worker_id: str
    tick_number: int
    should_stop: Callable[[], bool]


Tick = Callable[[TickContext], TickReport]


def worker_identity(name: str, *, host: str | None = None, pid: int | None = None) -> str:
    """``name@host:pid``: the id a worker's heartbeat and the work it claims carry, so a claim
    whose worker's heartbeat has gone is known to be abandoned."""
    return f"{name}@{host or socket.gethostname()}:{os.getpid() if pid is None else pid}"


def parse_worker_identity(worker_id: str) -> tuple[str, str, int] | None:
    """``(name, host, pid)`` of a :func:`worker_identity`, or None for an id of another shape."""
    name, at, place = worker_id.rpartition("@")
    host, colon, pid = place.rpartition(":")
    if not (at and colon and name and host and pid.isdigit()):
        return None
    return name, host, int(pid)


@dataclass(frozen=True)
class WorkerConfig:
    """Timing policy of one worker. All durations in seconds."""

    name: str
    interval: float = 60.0
    jitter: float = 0.1  # ± fraction of the interval, so many workers do not tick in lockstep
    max_interval: float = 900.0
    breaker_failures: int = 5

    def __post_init__(self) -> None:
        if self.interval <= 0 or self.max_interval <= 0:
            raise ValueError("intervals must be positive")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")
        if self.breaker_failures < 1:
            raise ValueError("breaker_failures must be at least 1")


@dataclass
class WorkerSummary:
    """How a loop ended. ``failing``: it never had a successful tick, or its last
    ``breaker_failures`` ticks all failed; ``last_error`` is the newest failure's line."""

    ticks: int
    failures: int
    status: str
    stopped_by: str  # "max_ticks" | "duration" | "signal" | "operational_error" | "request"
    failing: bool = False
    last_error: str | None = None


class Worker:
    """Runs one tick function under the harness policy. One instance = one worker process."""

    def __init__(
        self,
        config: WorkerConfig,
        tick: Tick,
        *,
        store: Store,
        clock: Clock,
        sleep: Callable[[float], Any] | None = None,
        rng: random.Random | None = None,
        timer: Callable[[], float] = time.perf_counter,
        host: str | None = None,
        pid: int | None = None,
    ) -> None:
        self.config = config
        self.tick = tick
        self.store = store
        self.clock = clock
        self._stop = threading.Event()
        self._sleep = sleep or self._interruptible_sleep
        self._rng = rng or random.Random()
        self._timer = timer
        self.host = host or socket.gethostname()
        self.pid = os.getpid() if pid is None else pid
        self.worker_id = worker_identity(config.name, host=self.host, pid=self.pid)
        self.ticks = 0
        self.failures = 0
        self.consecutive_failures = 0
        self.last_error: str | None = None
        self.status = STARTING
        self._signals_seen = 0
        self._looping = False
        self._asked_delay: float | None = None  # the last successful tick's ``next_tick_in``

    # -- stopping ---------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Ask the loop to stop after the current tick (also wakes it from its sleep)."""
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def _interruptible_sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self._signals_seen += 1
        if self._signals_seen > 1:
            raise KeyboardInterrupt  # a second signal means "now"
        log.info(
            "%s: received %s, stopping after the current tick (send again to force)",
            self.config.name,
            signal.Signals(signum).name,
        )
        self.request_stop()

    # -- one tick ---------------------------------------------------------------------------

    def run_once(self) -> TickReport:
        """Run one tick, record it, and re-raise its error (after recording) if it failed."""
        self._beat(STARTING if self.ticks == 0 else self.status)
        try:
            return self._tick_and_record()
        finally:
            self._beat(STOPPED)

    def _tick_and_record(self) -> TickReport:
        started_at = self.clock.now_ms()
        start = self._timer()
        ctx = TickContext(
            self.store, self.clock, self.worker_id, self.ticks + 1, lambda: self.stop_requested
        )
        try:
            report = self.tick(ctx)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            error = _one_line(exc)
            self._count_failure(started_at, round((self._timer() - start) * 1000), None, error)
            if isinstance(exc, AutotraderError):
                log.warning("%s tick %d failed: %s", self.config.name, self.ticks, error)
            else:
                log.error(
                    "%s tick %d crashed: %s", self.config.name, self.ticks, error, exc_info=exc
                )
            raise
        duration_ms = round((self._timer() - start) * 1000)
        self._asked_delay = None if report.failed else report.next_tick_in
        if report.failed:
            error = " ".join(report.summary.split())[:500] or "the tick failed"
            self._count_failure(started_at, duration_ms, report.summary, error)
            log.warning("%s tick %d failed: %s", self.config.name, self.ticks, error)
            return report
        self.ticks += 1
        self.consecutive_failures = 0
        self.status = HEALTHY
        self._record_run(started_at, duration_ms, HEALTHY, report.summary, None)
        self._beat(HEALTHY)
        # A looping worker narrates each tick; a one-shot run leaves the report to its caller.
        level = logging.INFO if self._looping else logging.DEBUG
        log.log(level, "%s tick %d: %s", self.config.name, self.ticks, report.summary or "ok")
        return report

    def _count_failure(
        self, started_at: int, duration_ms: int, summary: str | None, error: str
    ) -> None:
        self.ticks += 1
        self.failures += 1
        self.consecutive_failures += 1
        self.status = (
            DEGRADED if self.consecutive_failures >= self.config.breaker_failures else FAILED
        )
        self.last_error = error
        self._record_run(started_at, duration_ms, FAILED, summary, error)
        self._beat(self.status, error)

    # -- the loop ---------------------------------------------------------------------------

    def next_delay(self) -> float:
        """Seconds to wait before the next tick, given the failures so far.

        Healthy: the interval ± jitter, or exactly the delay the last tick asked for
        (``next_tick_in``, at most the maximum interval). After k consecutive failures:
        interval·2^k capped at the maximum; once the breaker trips (k ≥ breaker_failures): the
        maximum interval.
        """
        cfg = self.config
        if not self.consecutive_failures and self._asked_delay is not None:
            return min(max(0.0, self._asked_delay), cfg.max_interval)
        if self.consecutive_failures >= cfg.breaker_failures:
            base = cfg.max_interval
        elif self.consecutive_failures:
            base = min(cfg.interval * (2**self.consecutive_failures), cfg.max_interval)
        else:
            base = cfg.interval
        spread = base * cfg.jitter
        return max(0.0, base + self._rng.uniform(-spread, spread))

    def run(
        self,
        *,
        max_ticks: int | None = None,
        until_ms: int | None = None,
        duration_s: float | None = None,
        handle_signals: bool = True,
    ) -> WorkerSummary:
        """Tick until stopped (signal, ``request_stop``, ``max_ticks``, the clock reaching
        ``until_ms``, ``duration_s`` seconds on the harness timer) or an OperationalError.

        ``until_ms`` is trading time (the replay clock's, for a simulated day): a wait never
        runs past it. ``duration_s`` is wall time (a stream's real minutes): its last tick runs
        when it ends (the sleep before it is cut short), so a stream's final pushes are stored.
        """
        previous = self._install_signal_handlers() if handle_signals else {}
        self._looping = True
        stopped_by = "request"
        deadline = None if duration_s is None else self._timer() + duration_s
        self._beat(STARTING)
        try:
            while not self.stop_requested:
                try:
                    self._tick_and_record()
                except OperationalError:
                    stopped_by = "operational_error"
                    raise
                except Exception:
                    pass
                if max_ticks is not None and self.ticks >= max_ticks:
                    stopped_by = "max_ticks"
                    break
                left = None if deadline is None else deadline - self._timer()
                if left is not None and left <= 0:
                    stopped_by = "duration"
                    break
                if self.stop_requested:
                    break
                delay = self.next_delay()
                if left is not None:
                    delay = min(delay, left)
                if until_ms is not None:
                    delay = min(delay, max(0.0, (until_ms - self.clock.now_ms()) / 1000))
                if self._asked_delay is not None and not self.consecutive_failures:
                    # The tick chose this wait: the heartbeat says so, or a long wait would
                    # read as a stale worker (and, on another host, as a gone one whose
                    # claims in its next tick anyone may take over).
                    self._beat(self.status, interval_s=delay)
                self._sleep(delay)
                if until_ms is not None and self.clock.now_ms() >= until_ms:
                    stopped_by = "duration"
                    break
            if stopped_by == "request" and self._signals_seen:
                stopped_by = "signal"
            return self._summary(stopped_by)
        except KeyboardInterrupt:
            stopped_by = "signal"
            return self._summary(stopped_by)
        finally:
            last_error = (
                None if stopped_by != "operational_error" else "stopped on an operational error"
            )
            self._beat(STOPPED, last_error)
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _summary(self, stopped_by: str) -> WorkerSummary:
        failing = self.ticks > 0 and (
            self.failures == self.ticks or self.consecutive_failures >= self.config.breaker_failures
        )
        return WorkerSummary(
            self.ticks, self.failures, self.status, stopped_by, failing, self.last_error
        )

    def _install_signal_handlers(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous = {}
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.getsignal(signum)
            signal.signal(signum, self._on_signal)
        return previous

    # -- bookkeeping ------------------------------------------------------------------------

    def _beat(
        self, status: str, error: str | None = None, *, interval_s: float | None = None
    ) -> None:
        """Upsert this worker's heartbeat, with the wait before its next tick (``interval_s``,
        else its interval). A failing write is logged, never fatal to the loop."""
        now = self.clock.now_ms()
        try:
            with self.store.atomic():
                repo.upsert_heartbeat(
                    self.store,
                    worker_id=self.worker_id,
                    name=self.config.name,
                    pid=self.pid,
                    host=self.host,
                    now_ms=now,
                    interval_s=self.config.interval if interval_s is None else interval_s,
                    status=status,
                    error=error,
                    ticks=self.ticks,
                    failures=self.failures,
                    consecutive_failures=self.consecutive_failures,
                )
        except AutotraderError as exc:
            log.warning("%s: heartbeat not written: %s", self.config.name, exc)

    def _record_run(
        self, started_at: int, duration_ms: int, status: str, summary: str | None, error: str | None
    ) -> None:
        try:
            with self.store.atomic():
                repo.insert_action_run(
                    self.store,
                    name=self.config.name,
                    worker_id=self.worker_id,
                    started_at=started_at,
                    duration_ms=duration_ms,
                    status=status,
                    summary=summary,
                    error=error,
                )
        except AutotraderError as exc:
            log.warning("%s: tick record not written: %s", self.config.name, exc)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    return f"{name}: {text}" if text else name
