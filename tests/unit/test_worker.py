import random

import pytest

from autotrader.core.errors import OperationalError, TemporaryError
from autotrader.core.worker import (
    TickReport,
    Worker,
    WorkerConfig,
    parse_worker_identity,
    worker_identity,
)


class FakeSleep:
    """Records every requested delay and advances the simulated clock instead of waiting."""

    def __init__(self, clock):
        self.clock = clock
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.clock.advance(seconds=seconds)


def _worker(store, clock, tick, **config):
    sleep = FakeSleep(clock)
    cfg = WorkerConfig(
        **{"name": "test", "interval": 10, "jitter": 0, "max_interval": 100, **config}
    )
    worker = Worker(
        cfg, tick, store=store, clock=clock, sleep=sleep, rng=random.Random(1), pid=4242
    )
    return worker, sleep


def _heartbeat(store):
    return store.query_one("SELECT * FROM worker_heartbeats")


def test_loop_runs_the_given_number_of_ticks_and_sleeps_the_interval(store, clock):
    worker, sleep = _worker(store, clock, lambda ctx: TickReport(summary=f"tick {ctx.tick_number}"))
    summary = worker.run(max_ticks=3, handle_signals=False)
    assert (summary.ticks, summary.failures, summary.stopped_by) == (3, 0, "max_ticks")
    assert sleep.delays == [10, 10]
    runs = store.query("SELECT status, summary FROM action_runs ORDER BY id")
    assert runs == [{"status": "ok", "summary": f"tick {n}"} for n in (1, 2, 3)]


def test_a_duration_ends_the_loop_with_a_last_tick_when_it_runs_out(store, clock):
    sleep = FakeSleep(clock)
    worker = Worker(
        WorkerConfig(name="test", interval=10, jitter=0),
        lambda ctx: TickReport(),
        store=store,
        clock=clock,
        sleep=sleep,
        timer=lambda: clock.now_ms() / 1000,  # the sleeps move the harness timer too
    )

    summary = worker.run(duration_s=25, handle_signals=False)

    assert (summary.ticks, summary.stopped_by, summary.failing) == (4, "duration", False)
    assert sleep.delays == [10, 10, 5]  # the last sleep is cut short to the end


def test_heartbeat_records_ticks_and_ends_stopped(store, clock):
    worker, _ = _worker(store, clock, lambda ctx: TickReport())
    worker.run(max_ticks=2, handle_signals=False)
    beat = _heartbeat(store)
    assert beat["worker_id"] == worker.worker_id
    assert beat["pid"] == 4242
    assert (beat["ticks"], beat["failures"], beat["last_status"]) == (2, 0, "stopped")
    assert beat["last_beat_at"] == clock.now_ms()


def test_failures_back_off_exponentially_up_to_the_maximum(store, clock):
    def failing(ctx):
        raise TemporaryError("exchange unreachable")

    worker, sleep = _worker(store, clock, failing, breaker_failures=10)
    summary = worker.run(max_ticks=5, handle_signals=False)
    assert summary.failures == 5
    assert sleep.delays == [20, 40, 80, 100]  # 10·2^k, capped at max_interval
    errors = [r["error"] for r in store.query("SELECT error FROM action_runs")]
    assert errors == ["TemporaryError: exchange unreachable"] * 5


def test_breaker_trips_after_consecutive_failures_and_reports_degraded(store, clock):
    seen_status = []

    def failing(ctx):
        raise TemporaryError("down")

    worker, sleep = _worker(store, clock, failing, breaker_failures=3, max_interval=300)
    original_sleep = worker._sleep

    def sleep_and_observe(seconds):
        seen_status.append(_heartbeat(store)["last_status"])
        original_sleep(seconds)

    worker._sleep = sleep_and_observe
    worker.run(max_ticks=4, handle_signals=False)
    assert seen_status == ["failed", "failed", "degraded"]
    assert sleep.delays[-1] == 300
    assert _heartbeat(store)["consecutive_failures"] == 4


def test_a_tick_reporting_failed_work_counts_toward_the_breaker_without_raising(store, clock):
    worker, sleep = _worker(
        store, clock, lambda ctx: TickReport(summary="2 runs, 2 failed", failed=True),
        breaker_failures=2, max_interval=300,
    )  # fmt: skip

    summary = worker.run(max_ticks=3, handle_signals=False)

    assert summary.failures == 3
    assert worker.status == "degraded"
    assert sleep.delays[-1] == 300
    runs = store.query("SELECT status, error FROM action_runs")
    assert runs == [{"status": "failed", "error": "2 runs, 2 failed"}] * 3


def test_a_success_resets_the_back_off(store, clock):
    outcomes = iter([TemporaryError("x"), TemporaryError("y"), None, None])

    def flaky(ctx):
        outcome = next(outcomes)
        if outcome:
            raise outcome
        return TickReport()

    worker, sleep = _worker(store, clock, flaky)
    worker.run(max_ticks=4, handle_signals=False)
    assert sleep.delays == [20, 40, 10]
    assert worker.status == "ok"


def test_an_unexpected_exception_is_a_failure_not_a_crash(store, clock):
    worker, _ = _worker(store, clock, lambda ctx: 1 / 0)
    summary = worker.run(max_ticks=2, handle_signals=False)
    assert summary.failures == 2
    assert "ZeroDivisionError" in _heartbeat(store)["last_error"]


def test_an_operational_error_stops_the_loop_and_propagates(store, clock):
    def broken(ctx):
        raise OperationalError("store is corrupt")

    worker, sleep = _worker(store, clock, broken)
    with pytest.raises(OperationalError):
        worker.run(max_ticks=5, handle_signals=False)
    assert worker.ticks == 1
    assert sleep.delays == []
    assert _heartbeat(store)["last_status"] == "stopped"


def test_request_stop_ends_the_loop_after_the_current_tick(store, clock):
    def tick(ctx):
        if ctx.tick_number == 2:
            worker.request_stop()
        return TickReport()

    worker, _ = _worker(store, clock, tick)
    summary = worker.run(handle_signals=False)
    assert summary.ticks == 2
    assert summary.stopped_by == "request"


def _scripted(*outcomes):
    """A tick that fails (raises) or succeeds in the order given."""
    script = iter(outcomes)

    def tick(ctx):
        outcome = next(script)
        if outcome is not None:
            raise outcome
        return TickReport()

    return tick


def test_a_worker_that_never_had_a_successful_tick_ends_failing(store, clock):
    worker, _ = _worker(store, clock, _scripted(TemporaryError("busy"), TemporaryError("busy")))
    summary = worker.run(max_ticks=2, handle_signals=False)
    assert (summary.stopped_by, summary.failing) == ("max_ticks", True)
    assert summary.last_error == "TemporaryError: busy"


def test_a_worker_whose_last_breaker_many_ticks_failed_ends_failing(store, clock):
    ticks = _scripted(None, *[TemporaryError("down")] * 3)
    worker, _ = _worker(store, clock, ticks, breaker_failures=3)
    assert worker.run(max_ticks=4, handle_signals=False).failing


def test_a_worker_with_fewer_trailing_failures_than_the_breaker_ends_healthy(store, clock):
    ticks = _scripted(TemporaryError("down"), None, TemporaryError("down"), TemporaryError("x"))
    worker, _ = _worker(store, clock, ticks, breaker_failures=3)
    summary = worker.run(max_ticks=4, handle_signals=False)
    assert (summary.failures, summary.failing) == (3, False)


def test_a_worker_stopped_before_its_first_tick_is_not_failing(store, clock):
    worker, _ = _worker(store, clock, _scripted())
    worker.request_stop()
    summary = worker.run(handle_signals=False)
    assert (summary.ticks, summary.failing) == (0, False)


def test_a_tick_that_reports_failed_counts_as_a_failure_and_backs_off(store, clock):
    worker, _ = _worker(store, clock, lambda ctx: TickReport("venue down", failed=True))
    summary = worker.run(max_ticks=2, handle_signals=False)
    assert (summary.failures, summary.failing, summary.last_error) == (2, True, "venue down")
    assert worker.next_delay() > worker.config.interval * 1.5  # backing off, not polling
    runs = store.query("SELECT status, summary, error FROM action_runs ORDER BY id")
    assert [tuple(r.values()) for r in runs] == [("failed", "venue down", "venue down")] * 2


def test_jitter_spreads_the_interval_within_bounds(store, clock):
    worker, _ = _worker(store, clock, lambda ctx: TickReport(), jitter=0.2)
    delays = [worker.next_delay() for _ in range(200)]
    assert min(delays) >= 8
    assert max(delays) <= 12
    assert len(set(delays)) > 100


def test_a_tick_that_names_its_next_wake_up_is_woken_then_without_jitter(store, clock):
    asks = iter([25.0, 500.0, 3.0])
    worker, sleep = _worker(
        store, clock, lambda ctx: TickReport(next_tick_in=next(asks)), jitter=0.5
    )
    worker.run(max_ticks=3, handle_signals=False)
    assert sleep.delays == [25.0, 100]  # the second ask is capped at the maximum interval


def test_a_failed_tick_backs_off_whatever_the_last_success_asked_for(store, clock):
    outcomes = iter([TickReport(next_tick_in=1.0), TickReport("down", failed=True), TickReport()])
    worker, sleep = _worker(store, clock, lambda ctx: next(outcomes))
    worker.run(max_ticks=3, handle_signals=False)
    assert sleep.delays == [1.0, 20]


def test_a_loop_given_an_end_time_stops_there_and_never_waits_past_it(store, clock):
    start = clock.now_ms()
    worker, sleep = _worker(store, clock, lambda ctx: TickReport())
    summary = worker.run(until_ms=start + 25_000, handle_signals=False)
    assert (summary.ticks, summary.stopped_by) == (3, "duration")
    assert sleep.delays == [10, 10, 5]
    assert clock.now_ms() == start + 25_000


def test_a_worker_sleeping_as_long_as_its_tick_asked_is_not_stale_meanwhile(store, clock):
    from autotrader.core.worker_status import worker_views

    seen = []

    def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds * 0.9)  # most of the way through its wait
        [view] = worker_views(store, clock, stale_after_s=300)
        seen.append(view.stale)
        clock.advance(seconds=seconds * 0.1)

    cfg = WorkerConfig(name="agent", interval=30, jitter=0, max_interval=3600)
    worker = Worker(
        cfg, lambda ctx: TickReport(next_tick_in=2400), store=store, clock=clock, sleep=sleep
    )
    worker.run(max_ticks=2, handle_signals=False)
    assert seen == [False]


def test_run_once_records_the_failure_then_raises_it(store, clock):
    def failing(ctx):
        raise TemporaryError("rate limited")

    worker, _ = _worker(store, clock, failing)
    with pytest.raises(TemporaryError):
        worker.run_once()
    assert store.query_one("SELECT status FROM action_runs")["status"] == "failed"
    assert _heartbeat(store)["last_status"] == "stopped"


def test_config_refuses_nonsense():
    with pytest.raises(ValueError, match="positive"):
        WorkerConfig(name="x", interval=0)
    with pytest.raises(ValueError, match="jitter"):
        WorkerConfig(name="x", jitter=1.5)


def test_a_worker_identity_reads_back_as_name_host_and_pid():
    assert parse_worker_identity(worker_identity("decisions", host="h-1", pid=77)) == (
        "decisions",
        "h-1",
        77,
    )
    assert parse_worker_identity("a@b@host:12") == ("a@b", "host", 12)
    for odd in ("test", "dead-worker", "x@host", "x@host:pid", "@host:1", "x@:1"):
        assert parse_worker_identity(odd) is None
