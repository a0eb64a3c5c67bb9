"""The only SQL for market observations other than candles: funding rates, Polymarket
markets and prices, DefiLlama metrics. Idempotent upserts; callers group writes in
``store.atomic()``."""

from __future__ import annotations

import json
from collections.abc import Iterable

from autotrader.core.db import Store
from autotrader.market.models import FundingRate, MacroObservation, PredictionMarket


def upsert_funding(store: Store, source: str, rates: Iterable[FundingRate]) -> int:
    cursor = store.conn.executemany(
        """
        INSERT INTO funding_rates (source, symbol, time, rate, predicted_rate, mark_price,
            oracle_price, open_interest)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (source, symbol, time) DO UPDATE SET
            rate = excluded.rate, predicted_rate = excluded.predicted_rate,
            mark_price = excluded.mark_price, oracle_price = excluded.oracle_price,
            open_interest = excluded.open_interest
        """,
        (
            (
                source,
                r.symbol,
                r.time,
                r.rate,
                r.predicted_rate,
                r.mark_price,
                r.oracle_price,
                r.open_interest,
            )
            for r in rates
        ),
    )
    return cursor.rowcount


def funding_between(store: Store, symbol: str, since_ms: int, until_ms: int) -> list[dict]:
    """Funding observations of ``symbol`` in ``[since_ms, until_ms]``, ascending, any source."""
    return store.query(
        "SELECT * FROM funding_rates WHERE symbol = ? AND time >= ? AND time <= ? ORDER BY time",
        (symbol, since_ms, until_ms),
    )


def latest_funding(store: Store, symbol: str) -> dict | None:
    return store.query_one(
        "SELECT * FROM funding_rates WHERE symbol = ? ORDER BY time DESC LIMIT 1", (symbol,)
    )


def upsert_prediction_markets(store: Store, markets: Iterable[PredictionMarket]) -> int:
    written = 0
    for m in markets:
        outcomes = json.dumps([{"name": o.name, "token_id": o.token_id} for o in m.outcomes])
        store.execute(
            """
            INSERT INTO prediction_markets (market_id, slug, question, event_slug, end_time, active,
                closed, volume, liquidity, tags, outcomes, first_seen_at, observed_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (market_id) DO UPDATE SET
                slug = excluded.slug, question = excluded.question,
                event_slug = excluded.event_slug, end_time = excluded.end_time,
                active = excluded.active, closed = excluded.closed, volume = excluded.volume,
                liquidity = excluded.liquidity, tags = excluded.tags, outcomes = excluded.outcomes,
                observed_at = MAX(prediction_markets.observed_at, excluded.observed_at)
            """,
            (
                m.market_id,
                m.slug,
                m.question,
                m.event_slug,
                m.end_time,
                int(m.active),
                int(m.closed),
                m.volume,
                m.liquidity,
                json.dumps(list(m.tags)),
                outcomes,
                m.observed_at,
                m.observed_at,
            ),
        )
        store.conn.executemany(
            "INSERT OR REPLACE INTO prediction_prices (market_id, outcome, time, price)"
            " VALUES (?, ?, ?, ?)",
            [
                (m.market_id, o.name, m.observed_at, o.price)
                for o in m.outcomes
                if o.price is not None
            ],
        )
        written += 1
    return written


def prediction_markets(store: Store, *, active_only: bool = True, limit: int = 100) -> list[dict]:
    sql = "SELECT * FROM prediction_markets"
    if active_only:
        sql += " WHERE active = 1 AND closed = 0"
    return store.query(sql + " ORDER BY end_time IS NULL, end_time, market_id LIMIT ?", (limit,))


def latest_prediction_prices(store: Store, market_id: str) -> dict[str, float]:
    rows = store.query(
        "SELECT outcome, price FROM prediction_prices p WHERE market_id = ? AND time ="
        " (SELECT MAX(time) FROM prediction_prices WHERE market_id = p.market_id)",
        (market_id,),
    )
    return {row["outcome"]: row["price"] for row in rows}


def upsert_macro(store: Store, observations: Iterable[MacroObservation]) -> int:
    cursor = store.conn.executemany(
        "INSERT INTO macro_observations (scope, subject, metric, time, value)"
        " VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (scope, subject, metric, time) DO UPDATE SET value = excluded.value",
        ((o.scope, o.subject, o.metric, o.time, o.value) for o in observations),
    )
    return cursor.rowcount


def latest_macro(store: Store, scope: str, subject: str) -> dict[str, tuple[int, float]]:
    """The newest value of every metric of one subject: ``{metric: (time, value)}``."""
    rows = store.query(
        "SELECT metric, MAX(time) AS time, value FROM macro_observations"
        " WHERE scope = ? AND subject = ? GROUP BY metric ORDER BY metric",
        (scope, subject),
    )
    return {row["metric"]: (row["time"], row["value"]) for row in rows}


def count_macro_since(store: Store, kinds: Iterable[tuple[str, str]], since_ms: int) -> int:
    """DefiLlama observations newer than ``since_ms`` whose (scope, metric prefix) is in
    ``kinds``."""
    total = 0
    for scope, prefix in kinds:
        total += store.execute(
            "SELECT COUNT(*) FROM macro_observations"
            " WHERE scope = ? AND metric LIKE ? AND time >= ?",
            (scope, f"{prefix}%", since_ms),
        ).fetchone()[0]
    return total
