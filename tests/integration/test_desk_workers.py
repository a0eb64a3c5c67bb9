"""The desk's workers: atomic claims, their own persistent breaker, refusals that are outcomes,
and a busy store that puts a step back."""

from __future__ import annotations

import pytest

from autotrader.core.errors import TemporaryError
from autotrader.desk import missions, proposals
from autotrader.desk.breaker import Breaker
from autotrader.desk.executor import TradeExecutor
from autotrader.desk.jobs import StepWorker
from autotrader.desk.models import ProposalDraft, StepDraft
from autotrader.desk.status import desk_status
from autotrader.desk.vocabulary import AgentId, DeskWorker, ProposalSource, StepKind
from autotrader.prop.factory import prop_desk
from autotrader.prop.models import Side
from tests.fakes.decisions import market_template, open_test_store
from tests.fakes.desk import ctx, desk_world


@pytest.fixture
def desk(tmp_path, tmp_path_factory):
    world = desk_world(market_template(tmp_path_factory), tmp_path)
    world.allow_trades_alone()
    yield world
    world.store.close()


def queue_trade(desk, symbol: str, notional: str = "30") -> int:
    """An accepted entry mission; its proposal id."""
    draft = ProposalDraft(
        agent_id=AgentId.SCOUT,
        title=f"long {symbol}",
        steps=(StepDraft(kind=StepKind.EXECUTE_TRADE, symbol=symbol, side=Side.LONG,
                         notional_usd=notional),),
        confidence=0.9,
        source=ProposalSource.TRIGGER,
    )  # fmt: skip
    outcome = proposals.submit(desk.store, desk.clock, draft)
    assert outcome.accepted, outcome.reason
    return outcome.proposal_id


class ExplodingDesk:
    """A prop desk whose venue has gone away."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def submit(self, *args, **kwargs):
        raise self.error


def executor(desk, prop=None, *, store=None) -> StepWorker:
    store = store or desk.store
    handlers = TradeExecutor(store, desk.clock, prop or prop_desk(store, desk.clock)).handlers()
    return StepWorker(store, desk.clock, DeskWorker.TRADE_EXECUTOR, handlers)


def test_three_failures_in_a_row_disable_a_worker_until_it_is_reset(desk):
    from autotrader.desk import policies

    policies.set_policy(desk.store, desk.clock, "trade_limits", '{"max_open_positions": 5}')
    desk.price("SOL", "ADA")
    for symbol in ("BTC", "ETH", "SOL", "ADA"):
        queue_trade(desk, symbol, "20")

    report = executor(desk, ExplodingDesk(RuntimeError("venue down")))(ctx(desk.store, desk.clock))

    assert report.counts["errors"] == 3
    assert "the breaker tripped" in report.summary
    assert desk.count("SELECT COUNT(*) FROM desk_steps WHERE status = 'queued'") == 1
    failed = desk.store.query("SELECT error FROM desk_steps WHERE status = 'failed'")
    assert {row["error"] for row in failed} == {"RuntimeError: venue down"}

    restarted = executor(desk)  # a new process: the breaker lives in the store
    again = restarted(ctx(desk.store, desk.clock))
    assert again.idle
    assert "disabled since" in again.summary
    assert "--reset" in again.summary
    status = desk_status(desk.store, desk.clock, stale_after_s=300)
    worker = next(w for w in status.workers if w.name == "trade-executor")
    assert (worker.state, worker.consecutive_failures) == ("disabled", 3)
    assert worker.last_error == "RuntimeError: venue down"

    Breaker(desk.store, desk.clock, DeskWorker.TRADE_EXECUTOR).reset()
    resumed = restarted(ctx(desk.store, desk.clock))
    assert resumed.counts["succeeded"] == 1


def test_a_trade_the_prop_gates_refuse_fails_its_step_but_not_the_worker(desk):
    queue_trade(desk, "BTC", "5")  # below Hyperliquid's minimum order value

    report = executor(desk)(ctx(desk.store, desk.clock))

    assert report.counts == {"steps": 1, "succeeded": 0, "failed": 1, "errors": 0}
    step = desk.store.query_one("SELECT * FROM desk_steps WHERE kind = 'execute_trade'")
    assert step["status"] == "failed"
    assert step["error"].startswith("prop gate below_min_notional")
    worker = desk.store.query_one("SELECT * FROM desk_workers WHERE name = 'trade-executor'")
    assert (worker["state"], worker["consecutive_failures"]) == ("enabled", 0)
    refused = desk.store.query_one("SELECT * FROM desk_events WHERE tags LIKE '%refused%'")
    assert refused["agent_id"] == "scout"


def test_a_busy_store_puts_the_step_back_and_lets_the_harness_retry(desk):
    queue_trade(desk, "BTC")

    with pytest.raises(TemporaryError):
        executor(desk, ExplodingDesk(TemporaryError("the database is busy")))(
            ctx(desk.store, desk.clock)
        )

    step = desk.store.query_one("SELECT * FROM desk_steps WHERE kind = 'execute_trade'")
    assert (step["status"], step["claimed_by"]) == ("queued", None)
    worker = desk.store.query_one("SELECT * FROM desk_workers WHERE name = 'trade-executor'")
    assert worker["consecutive_failures"] == 0
    assert executor(desk)(ctx(desk.store, desk.clock)).counts["succeeded"] == 1


def test_a_step_that_keeps_failing_temporarily_gives_up_on_its_third_attempt(desk):
    queue_trade(desk, "BTC")
    busy = executor(desk, ExplodingDesk(TemporaryError("the database is busy")))

    for _ in range(missions.MAX_STEP_ATTEMPTS - 1):
        with pytest.raises(TemporaryError):
            busy(ctx(desk.store, desk.clock))
    report = busy(ctx(desk.store, desk.clock))  # the last attempt is an outcome, not a retry

    assert report.counts["errors"] == 1
    step = desk.store.query_one("SELECT * FROM desk_steps WHERE kind = 'execute_trade'")
    assert (step["status"], step["attempts"]) == ("failed", missions.MAX_STEP_ATTEMPTS)
    assert step["error"].startswith("gave up: given back 3 times")
    mission = desk.store.query_one(
        "SELECT * FROM desk_missions WHERE id = ?", (step["mission_id"],)
    )
    assert mission["status"] == "failed"
    assert executor(desk)(ctx(desk.store, desk.clock)).idle  # nothing left to run


def test_two_executors_never_run_one_step_twice(desk):
    from autotrader.desk import policies

    policies.set_policy(desk.store, desk.clock, "trade_limits", '{"max_open_positions": 5}')
    desk.price("SOL", "ADA", "MEME")
    for symbol in ("BTC", "ETH", "SOL", "ADA", "MEME"):
        queue_trade(desk, symbol, "12")
    other = open_test_store(desk.path)
    try:
        first, second = executor(desk), executor(desk, store=other)
        first.batch = second.batch = 1  # interleave them step by step
        for _ in range(4):
            first(ctx(desk.store, desk.clock, "first"))
            second(ctx(other, desk.clock, "second"))
    finally:
        other.close()

    steps = desk.store.query(
        "SELECT status, claimed_by FROM desk_steps WHERE kind = 'execute_trade'"
    )
    assert {s["status"] for s in steps} == {"succeeded"}
    assert {s["claimed_by"] for s in steps} == {"first", "second"}
    fills = desk.store.query(
        "SELECT idempotency_key FROM prop_fills WHERE account_id = ?", (desk.account_id,)
    )
    assert len(fills) == len({f["idempotency_key"] for f in fills}) == 5
