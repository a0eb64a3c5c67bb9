"""``ingest status``: per source and channel, is the data arriving, complete and fresh?"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from autotrader.core.clock import DAY_MS, Clock, iso_utc
from autotrader.core.db import Store
from autotrader.market import repo
from autotrader.market.models import TIMEFRAME_MS
from autotrader.market.repo import cursors, observations

# Which stored DefiLlama observations each ingest channel writes: (scope, metric prefix).
MACRO_METRICS = {
    "chains": (("chain", "tvl"), ("global", "tvl")),
    "protocols": (("protocol", "tvl"),),
    "dex": (("protocol", "dex_"), ("global", "dex_")),
    "fees": tuple((scope, m) for scope in ("protocol", "global") for m in ("fees_", "revenue_")),
    "stablecoins": (("stablecoin", "supply"),),
    "open_interest": (("protocol", "open_interest"), ("global", "open_interest")),
}
# How old the newest point of a channel may be before it is stale (price channels use the
# setting; these are the slower ones).
STALE_AFTER_S = {
    "funding": 2 * 3600,
    "markets": 3 * 3600,
    "assets": 7 * 86400,
    "default": 2 * 86400,
}


@dataclass(frozen=True)
class ChannelHealth:
    source: str
    channel: str
    subjects: int
    last_success: str
    last_error: str
    last_error_at: str
    failing: bool  # the last attempt failed
    rows_24h: int
    coverage_pct: float | None  # candles present vs expected over the last 24 h (ohlcv only)
    lag_s: float | None  # now minus the newest data point
    stale: bool
    rejected_total: int


def _coverage(store: Store, source: str, now_ms: int) -> tuple[int, float | None]:
    """Rows in the last 24 h and coverage % across this source's candle series."""
    present = expected = 0
    rows = 0
    for s in repo.series(store):
        if s.source != source or s.timeframe == "1h":
            continue
        step = TIMEFRAME_MS[s.timeframe]
        window_start = max(now_ms - DAY_MS, s.first_time)
        have = repo.count_rows_since(
            store,
            "candles",
            "open_time",
            window_start,
            source=source,
            symbol=s.symbol,
            timeframe=s.timeframe,
        )
        rows += have
        present += have
        expected += max(1, (now_ms - window_start) // step)
    return rows, (round(100 * min(present, expected) / expected, 1) if expected else None)


def _attempted_since(cursor: dict, since_ms: int) -> bool:
    return max(cursor["last_success_at"] or 0, cursor["last_error_at"] or 0) >= since_ms


def channel_health(
    store: Store, clock: Clock, *, price_stale_after_s: float
) -> list[ChannelHealth]:
    now = clock.now_ms()
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in cursors.cursors(store):
        groups[(row["source"], row["channel"])].append(row)
    report = []
    for (source, channel), all_rows in sorted(groups.items()):
        # A subject nobody has tried to fetch for a day (a symbol dropped from the worker) is
        # history, not a stale feed; if that leaves nothing, the channel is stale as a whole.
        rows = [r for r in all_rows if _attempted_since(r, now - DAY_MS)] or all_rows
        successes = [r["last_success_at"] for r in rows if r["last_success_at"]]
        errors = [r for r in rows if r["last_error_at"]]
        last_error = max(errors, key=lambda r: r["last_error_at"]) if errors else None
        failing = any(
            r["last_error_at"] and (r["last_success_at"] or 0) < r["last_error_at"] for r in rows
        )
        newest_points = [r["newest_time"] for r in rows if r["newest_time"]]
        if channel == "ohlcv":
            rows_24h, coverage = _coverage(store, source, now)
            # A bar is data as of its close; the channel is as late as its most lagging series.
            active = {r["subject"] for r in rows}
            lag_points = [
                s.newest_time + TIMEFRAME_MS[s.timeframe]
                for s in repo.series(store)
                if s.source == source and s.timeframe != "1h" and s.symbol in active
            ] or newest_points
        else:
            table = {
                ("hyperliquid", "funding"): "funding_rates",
                ("polymarket", "markets"): "prediction_prices",
            }.get((source, channel))
            if table:
                rows_24h = repo.count_rows_since(store, table, "time", now - DAY_MS)
            elif source == "defillama":
                rows_24h = observations.count_macro_since(
                    store, MACRO_METRICS[channel], now - DAY_MS
                )
            else:
                rows_24h = len(rows)  # the registry: assets refreshed
            coverage = None
            lag_points = newest_points
        lag = (now - min(lag_points)) / 1000 if lag_points else None
        limit = (
            price_stale_after_s
            if channel == "ohlcv"
            else STALE_AFTER_S.get(channel, STALE_AFTER_S["default"])
        )
        report.append(
            ChannelHealth(
                source=source,
                channel=channel,
                subjects=len(rows),
                last_success=iso_utc(max(successes)) if successes else "never",
                last_error=(last_error["last_error"] or "") if last_error else "",
                last_error_at=iso_utc(last_error["last_error_at"]) if last_error else "",
                failing=failing,
                rows_24h=rows_24h,
                coverage_pct=coverage,
                lag_s=round(lag, 1) if lag is not None else None,
                stale=failing or lag is None or lag > limit,
                rejected_total=sum(r["rows_rejected"] for r in rows),
            )
        )
    return report
