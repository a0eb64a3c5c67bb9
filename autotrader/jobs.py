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
            name="alerts",
            summary="fills, exits, frozen accounts, unhealthy workers → apprise channels",
            interval=30.0,
            builder="autotrader.alerts.jobs:alerts_job",
            commands=("alerts run-once", "alerts worker"),
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
