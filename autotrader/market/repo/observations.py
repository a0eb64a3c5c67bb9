"""The only SQL for market observations other than candles: funding rates, Polymarket
markets and prices, DefiLlama metrics. Idempotent upserts; callers group writes in
``store.atomic()``."""

from __future__ import annotations

import json
from collections.abc import Iterable

from autotrader.core.db import Store
from autotrader.market.models import FundingRate, MacroObservation, PredictionMarket
from autotrader.market.repo import SOURCE_PRIORITY


def upsert_funding(store: Store, source: str, rates: Iterable[FundingRate]) -> int:
    written = store.executemany(
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
    return written


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
        store.executemany(
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
    written = store.executemany(
        "INSERT INTO macro_observations (scope, subject, metric, time, value)"
        " VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (scope, subject, metric, time) DO UPDATE SET value = excluded.value",
        ((o.scope, o.subject, o.metric, o.time, o.value) for o in observations),
    )
    return written


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
        total += store.scalar(
            "SELECT COUNT(*) FROM macro_observations"
            " WHERE scope = ? AND metric LIKE ? AND time >= ?",
            (scope, f"{prefix}%", since_ms),
        )
    return total


# -- as-of reads for context packets (never newer than ``until_ms``) ----------------------

FUNDING_COLUMNS = ("rate", "predicted_rate", "mark_price", "oracle_price", "open_interest")


def funding_rows(store: Store, symbol: str, *, until_ms: int, limit: int) -> list[tuple]:
    """The newest ``limit`` funding observations of ``symbol`` at or before ``until_ms`` over
    every known source, ascending by (time, source): ``(time, source, *FUNDING_COLUMNS)``."""
    rows: list[tuple] = []
    for source in SOURCE_PRIORITY:
        rows += list(
            store.tuples(
                f"SELECT time, source, {', '.join(FUNDING_COLUMNS)} FROM funding_rates"
                " WHERE source = ? AND symbol = ? AND time <= ? ORDER BY time DESC LIMIT ?",
                (source, symbol, until_ms, limit),
            )
        )
    rows.sort(key=lambda r: (r[0], SOURCE_PRIORITY.index(r[1])))
    return rows[-limit:] if limit > 0 else []


_MARKET_COLUMNS = (
    "market_id, slug, question, event_slug, end_time, volume, liquidity, tags, outcomes"
)


def prediction_markets_for(
    store: Store, scope: str, target: str, *, until_ms: int, limit: int, soonest: bool = False
) -> list[dict]:
    """Active, unclosed Polymarket markets first seen by ``until_ms`` that match ``target``:
    scope ``market`` by slug or market id, ``event`` by event slug, ``topic`` by a
    case-insensitive substring of the question, slug or tags. Ordered by volume (largest
    first, unknown last), then market id; at most ``limit``. With ``soonest``, only markets
    that end after ``until_ms``, the one ending first first (the topic's immediate market).

    Active/closed are the markets' current flags (the table keeps no history of them).
    """
    if scope == "market":
        where, params = "(slug = ? OR market_id = ?)", [target, target]
    elif scope == "event":
        where, params = "event_slug = ?", [target]
    else:
        needle = target.lower()
        where = (
            "(instr(lower(question), ?) > 0 OR instr(lower(slug), ?) > 0"
            " OR instr(lower(tags), ?) > 0)"
        )
        params = [needle, needle, needle]
    order = "volume IS NULL, volume DESC, market_id"
    if soonest:
        where += " AND end_time > ?"
        params.append(until_ms)
        order = "end_time, market_id"
    return store.query(
        f"SELECT {_MARKET_COLUMNS} FROM prediction_markets"
        f" WHERE active = 1 AND closed = 0 AND first_seen_at <= ? AND {where}"
        f" ORDER BY {order} LIMIT ?",
        [until_ms, *params, limit],
    )


def prediction_prices_at(store: Store, market_id: str, *, until_ms: int) -> tuple[int, dict]:
    """``(time, {outcome: price})`` of a market's newest price observation at or before
    ``until_ms``; ``(0, {})`` when none."""
    rows = list(
        store.tuples(
            "SELECT outcome, price, time FROM prediction_prices WHERE market_id = ? AND time = ("
            " SELECT MAX(time) FROM prediction_prices WHERE market_id = ? AND time <= ?)",
            (market_id, market_id, until_ms),
        )
    )
    if not rows:
        return 0, {}
    return rows[0][2], {outcome: price for outcome, price, _ in rows}


def macro_latest(
    store: Store, scope: str, subject: str, *, until_ms: int
) -> tuple[str, list[tuple[str, int, float]]]:
    """The newest value at or before ``until_ms`` of every metric of one DefiLlama subject:
    ``(subject as stored, [(metric, time, value)])`` sorted by metric. The subject matches
    exactly, else case-insensitively (the first such subject in byte order)."""
    stored = subject
    exact = next(
        store.tuples(
            "SELECT 1 FROM macro_observations WHERE scope = ? AND subject = ? LIMIT 1",
            (scope, subject),
        ),
        None,
    )
    if exact is None:
        row = next(
            store.tuples(
                "SELECT subject FROM macro_observations WHERE scope = ? AND subject = ?"
                " COLLATE NOCASE"
                " ORDER BY subject LIMIT 1",
                (scope, subject),
            ),
            None,
        )
        if row is None:
            return subject, []
        stored = row[0]
    # SQLite takes the bare ``value`` from the row holding MAX(time).
    rows = list(
        store.tuples(
            "SELECT metric, MAX(time), value FROM macro_observations"
            " WHERE scope = ? AND subject = ? AND time <= ? GROUP BY metric ORDER BY metric",
            (scope, stored, until_ms),
        )
    )
    return stored, [tuple(r) for r in rows]
