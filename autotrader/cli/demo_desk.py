"""The demo's desk chapter: the six-agent company trades its own account over the replayed day.

Every 30 minutes of the replay clock: one heartbeat (triggers, reactions, learning, recovery),
then one tick of each worker (signal analyzer, risk calculator, trade executor, position
monitor). The notable events are narrated as they happen; the chapter ends with the proposals
and ``desk status``, then — when a model is configured (``OPENAI_API_KEY`` or
``OPENAI_BASE_URL``) — a morning standup and its transcript; without one, a line on how to hold
it. (The replayed day has no conversations: they need a model, and the demo needs none.)
"""

from __future__ import annotations

import typer

from autotrader.cli import desk as desk_cli
from autotrader.cli import desk_records
from autotrader.cli._context import settings_for
from autotrader.cli._render import say
from autotrader.core.clock import HOUR_MS, MINUTE_MS

STEP_MS = 30 * MINUTE_MS
# The seed sends every trade to a roundtable, and conversations need a model: for the replay,
# trades up to 40 USD pass alone, with 1 % stops that a day of BTC and ETH can reach.
TRADES_ALONE = (
    '{"allowed_step_kinds": ["analyze_signal", "monitor_position", "calculate_risk",'
    ' "review_performance", "check_health", "execute_trade", "close_position"],'
    ' "requires_roundtable": ["scale_position"]}'
)
_NARRATED = {"trade", "trade_closed", "outcome", "memory"}


def run_desk_day(ctx: typer.Context, store, path, start: int, *, quiet: bool) -> None:
    from autotrader.core.clock import SimulatedClock, iso_utc
    from autotrader.core.errors import InvalidInputError
    from autotrader.core.jobs import JobEnv
    from autotrader.core.worker import TickContext
    from autotrader.desk import jobs, policies
    from autotrader.desk.repo import events as events_repo
    from autotrader.desk.setup import init_desk
    from autotrader.desk.vocabulary import DeskWorker

    clock = SimulatedClock(start)
    setup = init_desk(store, clock)
    say(f"desk clone {setup.clone_id}, prop account {setup.account_id} (1,000 USDC), six agents")
    policies.set_policy(store, clock, "auto_approve", TRADES_ALONE)
    policies.set_policy(store, clock, "trade_limits", '{"max_position_size_usd": 40}')
    policies.set_policy(store, clock, "risk_controls", '{"default_stop_loss_pct": -0.01}')
    say("policy: trades up to 40 USD pass alone (the seed asks a roundtable), 1 % stops")
    try:
        policies.set_policy(store, clock, "trade_limits", '{"max_daily_trades": "lots"}')
    except InvalidInputError as refused:
        say(f"an invalid policy changes nothing: {refused}")

    settings = settings_for(ctx, path).model_copy(update={"ingest_symbols": "BTC,ETH"})

    def env(name: str) -> JobEnv:
        return JobEnv(settings=settings, store=store, clock=clock, worker_id=f"demo-{name}")

    heartbeat = jobs.heartbeat_job(env("heartbeat"))
    workers = [
        jobs.signal_analyzer_job(env(DeskWorker.SIGNAL_ANALYZER)),
        jobs.risk_calculator_job(env(DeskWorker.RISK_CALCULATOR)),
        jobs.trade_executor_job(env(DeskWorker.TRADE_EXECUTOR)),
        jobs.position_monitor_job(env(DeskWorker.POSITION_MONITOR)),
    ]
    seen = events_repo.get_cursor(store, "reactions")
    for _ in range(24 * HOUR_MS // STEP_MS):
        tick = TickContext(store, clock, "demo", 1, lambda: False)
        heartbeat(tick)
        for worker in workers:
            worker(tick)
        for event in events_repo.events_after(store, seen, limit=10_000):
            seen = event["id"]
            if _narrated(event):
                agent = event["agent_id"].upper()
                say(f"{iso_utc(event['created_at'])}  {agent}: {event['title']}")
        clock.advance(ms=STEP_MS)
    if not quiet:
        desk_records.proposals_list(ctx, status=None, agent=None, limit=12, db=path, as_json=False)
    desk_cli.status(ctx, db=path, as_json=False)
    _standup(store, clock, settings, path)


def _standup(store, clock, settings, path) -> None:
    """A morning standup through the configured model, or how to hold one."""
    if not settings.model_configured:
        say(
            "a morning standup needs a model: set OPENAI_API_KEY (or OPENAI_BASE_URL for a local "
            f"server) and run `autotrader desk roundtables run --format morning_standup --db "
            f"{path}`"
        )
        return
    from autotrader.cli import desk_conversations_render
    from autotrader.decisions.factory import lazy_model_client
    from autotrader.desk.transcripts import hold_now, transcript

    say("the morning standup, through the configured model:")
    client = lazy_model_client(settings, store, clock)
    held = hold_now(
        store, clock, client, "morning_standup", worker_id="demo", model=settings.desk_model
    )
    desk_conversations_render.transcript(transcript(store, held.roundtable_id))


def _narrated(event: dict) -> bool:
    """Fills, closes, outcomes, promoted memories, strong signals and SCOUT's trade proposals."""
    kind = event["kind"]
    if kind == "signal":
        return "high_confidence" in event["tags"]
    if kind == "proposal":
        return event["agent_id"] == "scout"
    return kind in _NARRATED
