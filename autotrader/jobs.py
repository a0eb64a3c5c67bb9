"""Every registered job (loop) of the product, in one place.

Each row names a job, says what it does, its default interval (seconds) and the function that
builds it (``module:function``, imported only when the job runs). ``autotrader workers run NAME``
runs any of them and ``workers status`` lists all of them; a feature's own commands (``ingest
worker``, ``prop mark-to-market --loop``, ...) are thin wrappers over the same rows. To add a
loop: write ``<package>/jobs.py`` with a builder, then add its row here (CONTRIBUTING.md).
"""

from __future__ import annotations

from autotrader.core.jobs import JobRegistry, JobSpec

JOBS = JobRegistry(
    (
        JobSpec(
            name="ingest",
            summary="market data: Hyperliquid candles and funding, Polymarket, DefiLlama; "
            "derive and prune",
            interval=60.0,
            builder="autotrader.market.jobs:ingest_job",
            commands=("ingest run-once", "ingest worker"),
        ),
        JobSpec(
            name="decisions",
            summary="due decision runs → engines → safety gates → fills",
            interval=60.0,
            builder="autotrader.decisions.jobs:decisions_job",
            commands=("decisions run-once", "decisions worker", "prop decisions-worker"),
        ),
        JobSpec(
            name="mark-to-market",
            summary="exits (stop/target/time/liquidation), funding, snapshots, drawdown freezes",
            interval=60.0,
            builder="autotrader.prop.jobs:mark_to_market_job",
            commands=("prop mark-to-market",),
        ),
        JobSpec(
            name="ingest-stream",
            summary="Hyperliquid 1m candles pushed over its WebSocket, stored as the poller "
            "stores them; REST backfill after every reconnect",
            interval=5.0,
            builder="autotrader.market.jobs:stream_job",
            commands=("ingest stream",),
        ),
        JobSpec(
            name="desk-heartbeat",
            summary="the desk's heartbeat: triggers, reactions, learning, stale-work recovery",
            interval=300.0,
            builder="autotrader.desk.jobs:heartbeat_job",
            commands=("desk heartbeat",),
        ),
        JobSpec(
            name="desk-trade-executor",
            summary="the desk's execute/scale/close steps → its prop account (gates, fills)",
            interval=15.0,
            builder="autotrader.desk.jobs:trade_executor_job",
            commands=("desk worker trade-executor",),
        ),
        JobSpec(
            name="desk-position-monitor",
            summary="the desk's positions: exits, closes, positions at risk, monitor steps",
            interval=30.0,
            builder="autotrader.desk.jobs:position_monitor_job",
            commands=("desk worker position-monitor",),
        ),
        JobSpec(
            name="desk-signal-analyzer",
            summary="the desk's analyze_signal steps → signals from market memory",
            interval=30.0,
            builder="autotrader.desk.jobs:signal_analyzer_job",
            commands=("desk worker signal-analyzer",),
        ),
        JobSpec(
            name="desk-risk-calculator",
            summary="the desk's risk, performance and health steps",
            interval=30.0,
            builder="autotrader.desk.jobs:risk_calculator_job",
            commands=("desk worker risk-calculator",),
        ),
        JobSpec(
            name="desk-initiative",
            summary="agents' own proposals written by a model (off by default)",
            interval=30.0,
            builder="autotrader.desk.jobs:initiative_job",
            commands=("desk worker initiative",),
        ),
        JobSpec(
            name="lifecycle-auditions",
            summary="evaluate auditions whose window ended (or whose account froze): pass or fail",
            interval=300.0,
            builder="autotrader.lifecycle.jobs:auditions_job",
            commands=("lifecycle auditions run-once", "lifecycle auditions worker"),
        ),
        JobSpec(
            name="lifecycle-arena-entry",
            summary="admit the promotion queue's head into free arena slots",
            interval=300.0,
            builder="autotrader.lifecycle.jobs:arena_entry_job",
            commands=("lifecycle arena-entry run-once", "lifecycle arena-entry worker"),
        ),
        JobSpec(
            name="lifecycle-reconcile",
            summary="pending audition fees: verify the treasury's transfers, expire stale ones",
            interval=300.0,
            builder="autotrader.lifecycle.jobs:reconcile_job",
            commands=("lifecycle fees reconcile",),
        ),
        JobSpec(
            name="arena-races",
            summary="tickets (pay what the treasury received, expire the stale), launch due "
            "races, settle finished ones, Hall of Fame, archive",
            interval=60.0,
            builder="autotrader.arena.jobs:races_job",
            commands=("arena races run-once", "arena races worker"),
        ),
        JobSpec(
            name="live-reconcile",
            summary="live venues: exchange positions and orders vs the store; drift freezes",
            interval=300.0,
            builder="autotrader.live.jobs:reconcile_job",
            commands=("live reconcile",),
        ),
        JobSpec(
            name="agent",
            summary="one clone (agent run): reconcile its live venues, decide, sleep until "
            "its Planner's wake-up",
            interval=30.0,
            builder="autotrader.agent.jobs:agent_job",
            commands=("agent run",),
        ),
        JobSpec(
            name="alerts",
            summary="fills, exits, frozen accounts, unhealthy workers → apprise channels",
            interval=30.0,
            builder="autotrader.alerts.jobs:alerts_job",
            commands=("alerts run-once", "alerts worker"),
        ),
        JobSpec(
            name="desk-roundtable",
            summary="the desk's conversations: scheduled formats, debates, trades on the table",
            interval=30.0,
            builder="autotrader.desk.jobs:roundtable_job",
            commands=("desk worker roundtable",),
        ),
        JobSpec(
            name="housekeeping",
            summary="WAL checkpoint, tick-history retention, forgotten workers",
            interval=300.0,
            builder="autotrader.core.housekeeping:housekeeping_job",
            commands=("workers housekeeping",),
        ),
    )
)
