"""Market memory at a price path of the test's choosing: registry, candles and funding rates.

The prop engine reads prices only from stored candles as of the clock
(``market.view.execution_price``), so a test controls every fill price by seeding bars. Closes are
floats that convert to Decimal exactly as they print (``2.1`` → ``Decimal('2.1')``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.market.ingest import Ingestor
from autotrader.market.models import TIMEFRAME_MS, Candle, FundingRate
from autotrader.market.registry import ensure_assets
from autotrader.market.repo import observations

MINUTE = 60_000
HOUR = 3_600_000


def ensure_registry(store: Store, clock: Clock) -> None:
    """Seed the asset registry (BTC, ETH, SOL, ADA, MEME, PURR/USDC) from the packaged snapshot."""
    ensure_assets(store, clock)


def bar(
    symbol: str,
    open_time: int,
    open: float,
    high: float,
    low: float,
    close: float,
    *,
    timeframe: str = "1m",
    volume: float = 1.0,
) -> Candle:
    """One explicit OHLC bar (for stops, targets and gaps)."""
    return Candle(symbol, timeframe, open_time, open, high, low, close, volume)


def path_bars(
    symbol: str, closes: Sequence[float], start_ms: int, timeframe: str = "1m"
) -> list[Candle]:
    """Consecutive bars whose closes are ``closes``: each opens at the previous close (the first
    at its own close) and its wicks are exactly the open and the close (no extra range)."""
    step = TIMEFRAME_MS[timeframe]
    candles, previous = [], None
    for i, close in enumerate(closes):
        open_ = close if previous is None else previous
        candles.append(
            bar(
                symbol,
                start_ms + i * step,
                open_,
                max(open_, close),
                min(open_, close),
                close,
                timeframe=timeframe,
            )
        )
        previous = close
    return candles


def seed_candles(store: Store, clock: Clock, candles: Iterable[Candle]) -> None:
    """Store ``candles`` (one symbol and timeframe) as source ``synthetic``, registry included."""
    ensure_registry(store, clock)
    Ingestor(store, clock).store_synthetic(list(candles))


def seed_prices(
    store: Store,
    clock: Clock,
    symbol: str,
    closes: Sequence[float],
    start_ms: int,
    timeframe: str = "1m",
) -> list[Candle]:
    """Store bars with the given closes from ``start_ms`` on (see :func:`path_bars`)."""
    candles = path_bars(symbol, closes, start_ms, timeframe)
    seed_candles(store, clock, candles)
    return candles


def seed_funding(
    store: Store,
    symbol: str,
    rates: Iterable[tuple[int, float, float | None]],
    *,
    source: str = "hyperliquid",
) -> int:
    """Store funding observations ``(time_ms, hourly_rate, oracle_price)`` for ``symbol``."""
    rows = [
        FundingRate(symbol=symbol, time=time, rate=rate, oracle_price=oracle, mark_price=oracle)
        for time, rate, oracle in rates
    ]
    with store.atomic():
        return observations.upsert_funding(store, source, rows)


# -- what the prop engine wrote (for "nothing changed" assertions) ------------------------------

PROP_TABLES = (
    "prop_accounts",
    "prop_intents",
    "prop_orders",
    "prop_fills",
    "positions",
    "ledger_entries",
    "account_snapshots",
)


def prop_counts(store: Store) -> dict[str, int]:
    """Row count of every prop table."""
    return {t: store.scalar(f"SELECT COUNT(*) FROM {t}") for t in PROP_TABLES}


def dump_prop_tables(store: Store) -> dict[str, list[tuple]]:
    """Every row of every prop table, in id order (compare two dumps for "nothing changed")."""
    return {
        t: [tuple(row) for row in list(store.tuples(f"SELECT * FROM {t} ORDER BY id"))]
        for t in PROP_TABLES
    }
