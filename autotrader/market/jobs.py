"""The ingest job: fetch what is new from each source, derive, and apply retention."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from autotrader.core.errors import TemporaryError
from autotrader.core.worker import TickContext, TickReport
from autotrader.market.models import HYPERLIQUID_CHANNELS, SOURCES

if TYPE_CHECKING:
    from autotrader.core.jobs import JobEnv
    from autotrader.market.ingest import Ingestor


class IngestJob:
    """One pass of ingest over a fixed selection. A looping worker also prunes each tick and
    fails the tick only when every channel failed (one source down is reported, not fatal)."""

    def __init__(
        self,
        service: Ingestor,
        *,
        sources: Sequence[str],
        symbols: Sequence[str],
        channels: Sequence[str],
        prune: bool,
    ) -> None:
        self.service = service
        self.sources, self.symbols, self.channels = list(sources), list(symbols), list(channels)
        self.prune = prune

    def __call__(self, ctx: TickContext) -> TickReport:
        report = self.service.run_once(
            sources=self.sources, symbols=self.symbols, channels=self.channels
        )
        summary = report.summary()
        if self.prune:
            pruned = sum(self.service.prune().values())
            summary += f", {pruned} pruned"
        if self.prune and report.results and len(report.failed) == len(report.results):
            raise TemporaryError(f"every channel failed; first: {report.failed[0].error}")
        written = sum(r.written for r in report.results)
        return TickReport(
            summary=summary,
            counts={"written": written, "failed_channels": len(report.failed)},
            idle=written == 0,
            result=report,
        )


def ingest_job(env: JobEnv) -> IngestJob:
    """Options: ``sources``, ``symbols``, ``channels`` (lists; default every source, the
    settings' symbols, both channels), ``once`` (a one-shot pass: fetch everything asked, no
    pruning)."""
    from autotrader.market.factory import build_ingestor
    from autotrader.market.registry import ensure_assets

    sources = list(env.option("sources", SOURCES))
    once = bool(env.option("once", False))
    ensure_assets(env.store, env.clock)
    service = build_ingestor(
        env.settings, env.store, env.clock, sources=tuple(sources), worker=not once
    )
    return IngestJob(
        service,
        sources=sources,
        symbols=env.option("symbols", env.settings.symbol_list),
        channels=env.option("channels", HYPERLIQUID_CHANNELS),
        prune=not once,
    )
