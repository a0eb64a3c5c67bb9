"""Ingestion: fetch from the sources, validate, store, derive — one symbol or channel per
transaction, each failure recorded on its cursor and reported, never fatal to the others.

Sources are passed in (see ``autotrader.bootstrap.market_sources``), so tests hand in clients
pointed at loopback servers and the demo needs none at all.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autotrader.core.clock import HOUR_MS, Clock, SystemClock
from autotrader.core.db import Store
from autotrader.core.errors import (
    AutotraderError,
    InvalidInputError,
    NotFoundError,
    TemporaryError,
    UserError,
)
from autotrader.market import repo
from autotrader.market.derive import derive, find_gaps
from autotrader.market.models import (
    DEFILLAMA_CHANNELS,
    HYPERLIQUID_CHANNELS,
    SOURCES,
    TIMEFRAME_MS,
    Candle,
    Rejection,
)
from autotrader.market.repo import cursors, observations
from autotrader.market.validation import reject_future

if TYPE_CHECKING:
    from autotrader.market.sources.files import ImportResult

log = logging.getLogger("autotrader.market.ingest")

MARKETS_EVERY_MS = 24 * HOUR_MS  # how often a long-running ingestor reloads the markets
MAX_API_BARS = 5_000  # Hyperliquid serves only the last 5,000 candles per interval


@dataclass
class ChannelResult:
    """What one (source, channel, subject) fetch did."""

    source: str
    channel: str
    subject: str
    written: int = 0
    rejected: int = 0
    error: str | None = None
    rejection_reasons: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data. (``dataclasses.asdict`` rebuilds a Counter from its items, so
        ``{"nan": 2}`` would come out keyed by the tuple ``("nan", 2)``.)"""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["rejection_reasons"] = dict(self.rejection_reasons)
        return data


@dataclass
class IngestReport:
    results: list[ChannelResult] = field(default_factory=list)

    @property
    def failed(self) -> list[ChannelResult]:
        return [r for r in self.results if r.error]

    def summary(self) -> str:
        written = sum(r.written for r in self.results)
        rejected = sum(r.rejected for r in self.results)
        text = f"{len(self.results)} channels, {written} rows written, {rejected} rejected"
        if self.failed:
            text += f", {len(self.failed)} failed"
        return text


@dataclass(frozen=True)
class Retention:
    """How much history each series keeps, counted back from the clock."""

    fine_ms: int = 24 * HOUR_MS  # 1m and 5m candles
    hourly_ms: int = 7 * 24 * HOUR_MS
    observations_ms: int = 7 * 24 * HOUR_MS


def _reasons(rejections: Iterable[Rejection]) -> Counter:
    return Counter(r.reason for r in rejections)


def _describe(reasons: Counter) -> str | None:
    return ", ".join(f"{reason}×{n}" for reason, n in reasons.most_common()) or None


class Ingestor:
    """One pass of ingestion over the given sources, into the shared market store."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        hyperliquid: Any = None,
        polymarket: Any = None,
        defillama: Any = None,
        lookback_ms: int = 24 * HOUR_MS,
        retention: Retention | None = None,
        slow_interval_ms: int = 0,
        wall_clock: Clock | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        # What "the future" is measured against: real time, whatever time a replay runs at (a
        # replay imports history past its own clock and steps through it).
        self.wall_clock = wall_clock or SystemClock()
        self.hyperliquid = hyperliquid
        self.polymarket = polymarket
        self.defillama = defillama
        self.lookback_ms = lookback_ms
        self.retention = retention or Retention()
        # Polymarket and DefiLlama move slowly and their payloads are large: a worker ticking
        # every minute fetches them at most once per this interval (0 = every pass).
        self.slow_interval_ms = slow_interval_ms
        self._markets_loaded_at: int | None = None

    # -- the pass -------------------------------------------------------------------------

    def run_once(
        self,
        *,
        sources: Iterable[str] = SOURCES,
        symbols: Iterable[str] = (),
        channels: Iterable[str] = HYPERLIQUID_CHANNELS,
    ) -> IngestReport:
        """Fetch what is new from each source; one failing channel does not stop the others."""
        report = IngestReport()
        chosen = list(dict.fromkeys(sources))
        wanted = set(channels)
        if "hyperliquid" in chosen:
            report.results.append(self._guard("hyperliquid", "assets", "*", self._load_markets))
            if "ohlcv" in wanted:
                for symbol in symbols:
                    report.results.append(self._guard("hyperliquid", "ohlcv", symbol, self._ohlcv))
            if "funding" in wanted:
                perps = [s for s in symbols if self._has_channel(s, "funding")]
                if perps:
                    # One request serves every perp, so a failure is recorded on each of them
                    # (where their successes are recorded), not on a '*' row nothing clears.
                    report.results.append(
                        self._guard(
                            "hyperliquid",
                            "funding",
                            "*",
                            lambda r: self._funding(r, perps),
                            error_subjects=perps,
                        )
                    )
        if "polymarket" in chosen and self._due("polymarket", "markets"):
            report.results.append(self._guard("polymarket", "markets", "*", self._polymarket))
        if "defillama" in chosen:
            for channel in (c for c in DEFILLAMA_CHANNELS if self._due("defillama", c)):
                report.results.append(
                    self._guard(
                        "defillama", channel, "*", lambda r, c=channel: self._defillama(r, c)
                    )
                )
        return report

    def _due(self, source: str, channel: str) -> bool:
        """Whether a slow channel is due: never fetched, or last fetched an interval ago."""
        if not self.slow_interval_ms:
            return True
        state = cursors.cursor(self.store, source, channel, "*")
        last = state["last_success_at"] if state else None
        return last is None or self.clock.now_ms() - last >= self.slow_interval_ms

    def _guard(
        self,
        source: str,
        channel: str,
        subject: str,
        work: Callable[[ChannelResult], None],
        *,
        error_subjects: Iterable[str] = (),
    ) -> ChannelResult:
        """Run one channel fetch; ``work`` records its success, this records the error on the
        cursors of ``error_subjects`` (default: ``subject``)."""
        result = ChannelResult(source, channel, subject)
        try:
            work(result)
        except AutotraderError as exc:
            result.error = str(exc)
            self._record_error(source, channel, list(error_subjects) or [subject], exc)
            log.warning("ingest %s/%s/%s failed: %s", source, channel, subject, exc)
        return result

    def _record_error(
        self, source: str, channel: str, subjects: list[str], error: AutotraderError
    ) -> None:
        """Put the error on the subjects' cursors; a subject that does not exist gets none, or
        one typo would leave its channel failing in ``ingest status`` for ever."""
        if isinstance(error, NotFoundError):
            return
        with self.store.atomic():
            for subject in subjects:
                cursors.record_error(
                    self.store,
                    source,
                    channel,
                    subject,
                    now_ms=self.clock.now_ms(),
                    error=str(error),
                )

    # -- hyperliquid ------------------------------------------------------------------------

    def _has_channel(self, symbol: str, channel: str) -> bool:
        asset = repo.get_asset(self.store, symbol)
        return asset is not None and channel in asset.channels

    def _require(self, source: Any, name: str) -> Any:
        if source is None:
            raise InvalidInputError(f"the {name} source is not configured")
        return source

    def _load_markets(self, result: ChannelResult) -> None:
        """Refresh the registry from the exchange (new listings, precision) on the first pass
        and then daily, so a long-running worker picks up listings and never shows as stale."""
        now = self.clock.now_ms()
        if self._markets_loaded_at is not None and now - self._markets_loaded_at < MARKETS_EVERY_MS:
            return
        from autotrader.market.registry import sync_assets

        source = self._require(self.hyperliquid, "hyperliquid")
        result.written = sync_assets(self.store, self.clock, source, refresh=True)
        self._markets_loaded_at = now
        # Without a recorded success, one failed load would show as failing forever.
        with self.store.atomic():
            cursors.record_success(
                self.store,
                "hyperliquid",
                "assets",
                "*",
                now_ms=now,
                newest_time=now,
                written=result.written,
            )

    def _ohlcv(self, result: ChannelResult) -> None:
        source = self._require(self.hyperliquid, "hyperliquid")
        symbol = result.subject
        asset = repo.get_asset(self.store, symbol)
        if asset is None:
            raise NotFoundError(f"unknown symbol {symbol!r}; run `autotrader ingest assets sync`")
        now = self.clock.now_ms()
        step = TIMEFRAME_MS["1m"]
        state = cursors.cursor(self.store, "hyperliquid", "ohlcv", symbol)
        api_floor = now - MAX_API_BARS * step
        # Re-fetch the newest stored bar: it may have been the candle still forming.
        since = state["newest_time"] if state and state["newest_time"] else now - self.lookback_ms
        ranges = [(max(since, api_floor), now)]
        if state and state["newest_time"]:
            window_start = max(api_floor, now - self.retention.fine_ms)
            stored = repo.open_times(self.store, "hyperliquid", symbol, "1m", window_start)
            if stored:
                holes = find_gaps(
                    stored, since_ms=max(window_start, stored[0]), until_ms=since, step_ms=step
                )
                ranges = holes + ranges
        for start, end in ranges:
            candles, rejections = source.fetch_candles(
                symbol, since_ms=start, until_ms=end, timeframe="1m"
            )
            self._store_candles("hyperliquid", symbol, "1m", candles, rejections, result)

    def store_pushed(
        self, symbol: str, candles: list[Candle], rejections: list[Rejection]
    ) -> ChannelResult:
        """Store 1m candles Hyperliquid pushed (``ingest stream``) exactly as the REST poller
        stores the ones it fetches: source ``hyperliquid``, the same ``ohlcv`` cursor, the
        future check, rollups and indicators in one transaction. A bar still trading is stored
        as the poller stores it: the newest bar, rewritten by the next push or fetch.

        A push older than the stored version of its bar is left out: a bar's volume only grows
        while it trades, so the version with more volume is the later one. A push that arrived
        before a REST answer was asked for, but is stored after it, never undoes that answer.
        """
        if candles:
            times = [c.open_time for c in candles]
            rows = repo.candle_rows(self.store, "hyperliquid", symbol, "1m", min(times), max(times))
            stored = {row[0]: row[5] for row in rows}
            candles = [c for c in candles if c.volume >= stored.get(c.open_time, 0.0)]
        result = ChannelResult("hyperliquid", "ohlcv", symbol)
        self._store_candles("hyperliquid", symbol, "1m", candles, rejections, result)
        return result

    def _store_candles(
        self,
        source: str,
        symbol: str,
        timeframe: str,
        candles: list[Candle],
        rejections: list[Rejection],
        result: ChannelResult,
    ) -> None:
        # The later of the two clocks: a replay may also run ahead of real time.
        horizon = max(self.clock.now_ms(), self.wall_clock.now_ms())
        candles, future = reject_future(candles, now_ms=horizon)
        rejections = [*rejections, *future]
        reasons = _reasons(rejections)
        # Callers may hand candles over in any order: derive from the oldest, cursor the newest.
        times = [c.open_time for c in candles]
        with self.store.atomic():
            written = repo.upsert_candles(self.store, source, candles) if candles else 0
            if candles:
                derive(self.store, source, symbol, timeframe, min(times))
            cursors.record_success(
                self.store,
                source,
                "ohlcv",
                symbol,
                now_ms=self.clock.now_ms(),
                newest_time=max(times, default=None),
                written=written,
                rejected=len(rejections),
                last_rejection=_describe(reasons),
            )
        result.written += written
        result.rejected += len(rejections)
        result.rejection_reasons.update(reasons)
        if rejections:
            log.warning(
                "%s %s: rejected %d rows (%s)", source, symbol, len(rejections), _describe(reasons)
            )

    def _funding(self, result: ChannelResult, symbols: list[str]) -> None:
        source = self._require(self.hyperliquid, "hyperliquid")
        rates = source.fetch_funding(symbols)
        now = self.clock.now_ms()
        with self.store.atomic():
            written = observations.upsert_funding(self.store, "hyperliquid", rates)
            for rate in rates:
                cursors.record_success(
                    self.store,
                    "hyperliquid",
                    "funding",
                    rate.symbol,
                    now_ms=now,
                    newest_time=rate.time,
                    written=1,
                )
        result.written = written

    # -- polymarket and defillama -------------------------------------------------------------

    def _polymarket(self, result: ChannelResult) -> None:
        source = self._require(self.polymarket, "polymarket")
        markets, rejections = source.discover()
        self._store_observations(
            result,
            "polymarket",
            "markets",
            rejections,
            lambda: observations.upsert_prediction_markets(self.store, markets),
            newest=max((m.observed_at for m in markets), default=None),
        )

    def _defillama(self, result: ChannelResult, channel: str) -> None:
        source = self._require(self.defillama, "defillama")
        fetch = {
            "chains": source.chains,
            "protocols": source.protocols,
            "dex": source.dex_overview,
            "fees": source.fees_overview,
            "stablecoins": source.stablecoins,
            "open_interest": source.open_interest,
        }[channel]
        metrics, rejections = fetch()
        self._store_observations(
            result,
            "defillama",
            channel,
            rejections,
            lambda: observations.upsert_macro(self.store, metrics),
            newest=max((o.time for o in metrics), default=None),
        )

    def _store_observations(
        self,
        result: ChannelResult,
        source: str,
        channel: str,
        rejections: list[Rejection],
        write: Callable[[], int],
        newest: int | None,
    ) -> None:
        reasons = _reasons(rejections)
        with self.store.atomic():
            written = write()
            cursors.record_success(
                self.store,
                source,
                channel,
                "*",
                now_ms=self.clock.now_ms(),
                newest_time=newest,
                written=written,
                rejected=len(rejections),
                last_rejection=_describe(reasons),
            )
        result.written, result.rejected = written, len(rejections)
        result.rejection_reasons.update(reasons)

    # -- backfill, import, prune ------------------------------------------------------------

    def backfill(
        self,
        symbols: Iterable[str],
        *,
        since_ms: int,
        until_ms: int,
        on_window: Callable[[str, int], None] | None = None,
        window_ms: int = 24 * HOUR_MS,
    ) -> IngestReport:
        """Fetch ``[since_ms, until_ms]`` of 1m candles per symbol in day-sized windows.

        ``on_window(symbol, bars_in_window)`` is called after each window (for a progress bar).
        """
        if until_ms <= since_ms:
            raise InvalidInputError("--until must be after --since")
        source = self._require(self.hyperliquid, "hyperliquid")
        report = IngestReport()
        for symbol in symbols:
            result = ChannelResult("hyperliquid", "ohlcv", symbol)
            try:
                if repo.get_asset(self.store, symbol) is None:
                    raise NotFoundError(
                        f"unknown symbol {symbol!r}; run `autotrader ingest assets sync`"
                    )
                start = since_ms
                while start <= until_ms:
                    end = min(start + window_ms - 1, until_ms)
                    candles, rejections = source.fetch_candles(
                        symbol, since_ms=start, until_ms=end, timeframe="1m"
                    )
                    self._store_candles("hyperliquid", symbol, "1m", candles, rejections, result)
                    if on_window:
                        on_window(symbol, (end - start) // TIMEFRAME_MS["1m"] + 1)
                    start = end + 1
            except (TemporaryError, UserError) as exc:
                result.error = str(exc)
                self._record_error("hyperliquid", "ohlcv", [symbol], exc)
            report.results.append(result)
        return report

    def catch_up(self, symbol: str, *, since_ms: int | None) -> ChannelResult:
        """Fetch ``symbol``'s 1m bars from ``since_ms`` to now over REST and store them as
        :meth:`backfill` does: the minutes a stream missed while it was down. ``since_ms`` is
        the newest bar stored when it lost its connection (fetched again: it may have been
        trading then); None reaches back the first fetch's lookback. Never further back than
        the 5,000 bars Hyperliquid serves. A failure is on the result (and the cursor)."""
        now = self.clock.now_ms()
        start = now - self.lookback_ms if since_ms is None else since_ms
        start = max(start, now - MAX_API_BARS * TIMEFRAME_MS["1m"])
        report = self.backfill([symbol], since_ms=min(start, now - 1), until_ms=now)
        return report.results[0]

    def import_file(
        self, path: Path, *, symbol: str, timeframe: str | None = None
    ) -> tuple[ChannelResult, ImportResult]:
        """Import a candle file as source ``file``; returns the result and what the file held
        (layout, timeframe). ``timeframe`` is checked against the file's bar spacing; a
        mismatch raises ``InvalidInputError`` before anything is stored."""
        from autotrader.market.sources.files import read_candle_file

        if timeframe is not None and timeframe not in TIMEFRAME_MS:
            raise InvalidInputError(f"--timeframe must be one of {', '.join(TIMEFRAME_MS)}")
        imported = read_candle_file(path, symbol=symbol, timeframe=timeframe)
        result = ChannelResult("file", "ohlcv", symbol)
        self._store_candles(
            "file", symbol, imported.timeframe, imported.candles, imported.rejections, result
        )
        return result, imported

    def store_synthetic(self, candles: list[Candle]) -> ChannelResult:
        """Store generated candles as source ``synthetic`` (tests, offline runs)."""
        if not candles:
            raise InvalidInputError("no candles to store")
        result = ChannelResult("synthetic", "ohlcv", candles[0].symbol)
        self._store_candles(
            "synthetic", candles[0].symbol, candles[0].timeframe, candles, [], result
        )
        return result

    def prune(self) -> dict[str, int]:
        """Apply retention: delete what is older than the clock minus each kind's window.

        Anchored on the clock, never on a stored row's own time: one bad row dated in the
        future must not make a whole history look old. (A replay clock prunes as of its time.)
        """
        now = self.clock.now_ms()
        fine, hourly = now - self.retention.fine_ms, now - self.retention.hourly_ms
        with self.store.atomic():
            counts = {
                "candles_1m": repo.prune_candles(self.store, "1m", before_ms=fine),
                "candles_5m": repo.prune_candles(self.store, "5m", before_ms=fine),
                "candles_1h": repo.prune_candles(self.store, "1h", before_ms=hourly),
            }
            for table in ("funding_rates", "prediction_prices", "macro_observations"):
                counts[table] = repo.prune_before(
                    self.store, table, now - self.retention.observations_ms
                )
        return counts
