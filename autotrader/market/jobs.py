"""The ingest jobs: the poller (fetch what is new from each source, derive, apply retention)
and the stream (store the 1m candles Hyperliquid pushes, backfilling over REST after each
connection)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from autotrader.core.errors import OperationalError, TemporaryError
from autotrader.core.worker import TickContext, TickReport
from autotrader.market.ingest import IngestReport
from autotrader.market.models import HYPERLIQUID_CHANNELS, SOURCES
from autotrader.market.repo import cursors

if TYPE_CHECKING:
    from autotrader.core.jobs import JobEnv
    from autotrader.market.ingest import Ingestor
    from autotrader.market.sources.hyperliquid_stream import CandleStream, StreamBatch


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


@dataclass(frozen=True)
class StreamTick:
    """What one stream tick did: the REST backfill's and the stores' results, and the batch of
    pushes it stored (with the stream's reconnect waits and connection state)."""

    report: IngestReport
    batch: StreamBatch


class StreamJob:
    """``ingest stream``: each tick stores the 1m candles Hyperliquid pushed since the last one.

    When a connection goes live (the first one included) each symbol's newest stored bar is
    noted, and the tick fetches from it to now over REST (:meth:`Ingestor.catch_up`): the
    minutes the stream was down for, and the bar that was trading when it dropped. That answer
    is stored after the pushes the tick drained (it was asked for after they arrived), and a
    push never replaces a later version of its bar (:meth:`Ingestor.store_pushed`): a bar that
    closed meanwhile ends up as it closed, never as a push left it. A symbol whose fetch failed
    is fetched again next tick, from the same bar. The stream reconnects by itself; a tick
    never fails for being disconnected (its summary says so, ``ingest status`` shows the lag).
    """

    def __init__(self, service: Ingestor, stream: CandleStream, *, symbols: Sequence[str]) -> None:
        self.service = service
        self.stream = stream
        self.symbols = list(symbols)
        self._started = False
        self._gaps: dict[str, int | None] = {}  # symbol → the bar to fetch from over REST

    def __call__(self, ctx: TickContext) -> TickReport:
        if not self._started:
            self.stream.start()
            self._started = True
        return self._store(self.stream.drain())

    def close(self) -> None:
        """Stop the stream (closing its ccxt client), store the pushes it still held, and raise
        ``OperationalError`` when no connection was ever subscribed: a stream that did no work.
        A gap still open is left to the next run's first fetch, so stopping never waits on
        REST."""
        self.stream.close()
        if not self._started:
            return
        self._store(self.stream.drain(), backfill=False)
        if not self.stream.ever_connected:
            raise OperationalError(
                "ingest stream: no connection was ever subscribed; check "
                "AUTOTRADER_HYPERLIQUID_WS_URL and the network"
            )

    def _store(self, batch: StreamBatch, *, backfill: bool = True) -> TickReport:
        if batch.connections:
            for symbol in self.symbols:
                self._gaps.setdefault(symbol, self._newest_stored(symbol))
        pushed = IngestReport()
        for symbol in self.symbols:
            candles, refused = batch.candles.get(symbol, []), batch.rejections.get(symbol, [])
            if candles or refused:
                pushed.results.append(self.service.store_pushed(symbol, candles, refused))
        fetched = self._fetch_gaps() if backfill and self._gaps else IngestReport()
        counts = {
            "written": sum(r.written for r in pushed.results),
            "rejected": sum(r.rejected for r in pushed.results),
            "malformed": batch.malformed,
            "backfilled": sum(r.written for r in fetched.results if r.channel == "ohlcv"),
            "connections": batch.connections,
            "reconnect_waits": len(batch.delays),
        }
        summary = (
            f"{counts['written']} pushed bars written, {counts['rejected']} rejected, "
            f"{counts['malformed']} malformed"
        )
        if fetched.results:
            summary += f"; {counts['backfilled']} bars backfilled over REST"
        if fetched.failed:
            first = fetched.failed[0].error
            summary += f" ({len(fetched.failed)} failed, tried again next tick: {first})"
        if not batch.connected:
            summary += f"; disconnected ({batch.error or 'connecting'})"
        return TickReport(
            summary=summary,
            counts=counts,
            idle=counts["written"] == 0 and counts["backfilled"] == 0,
            result=StreamTick(IngestReport(pushed.results + fetched.results), batch),
        )

    def _fetch_gaps(self) -> IngestReport:
        # The registry and REST markets first, daily as the poller does: a symbol listed since
        # the packaged snapshot is then known to the REST client too.
        report = self.service.run_once(sources=("hyperliquid",), symbols=(), channels=())
        for symbol, since in list(self._gaps.items()):
            result = self.service.catch_up(symbol, since_ms=since)
            report.results.append(result)
            if result.error is None:
                del self._gaps[symbol]
        return report

    def _newest_stored(self, symbol: str) -> int | None:
        state = cursors.cursor(self.service.store, "hyperliquid", "ohlcv", symbol)
        return state["newest_time"] if state else None


def stream_job(env: JobEnv) -> StreamJob:
    """Options: ``symbols`` (default the settings' symbols)."""
    from autotrader.market.factory import build_candle_stream, build_ingestor
    from autotrader.market.registry import ensure_assets

    symbols = list(env.option("symbols", env.settings.symbol_list))
    ensure_assets(env.store, env.clock)
    stream = build_candle_stream(env.settings, env.store, symbols)
    service = build_ingestor(env.settings, env.store, env.clock, sources=("hyperliquid",))
    return StreamJob(service, stream, symbols=symbols)
