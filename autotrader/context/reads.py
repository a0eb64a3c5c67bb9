"""As-of reads the context builder needs that ``market.repo`` and ``prop.repo`` do not offer yet.

Every query here takes ``until_ms`` and returns nothing newer, so a replay clock never sees its
future. They seek by primary-key prefixes (source, symbol, …) and never scan a whole table.

These belong in ``autotrader/market/repo.py`` and ``autotrader/prop/repo.py`` (the only SQL for
their tables); they live here until those modules' owners adopt them, and moving them is a
rename with no behaviour change.
"""

from __future__ import annotations

from autotrader.core.db import Store
from autotrader.market.models import INDICATOR_COLUMNS
from autotrader.market.repo import SOURCE_PRIORITY

FUNDING_COLUMNS = ("rate", "predicted_rate", "mark_price", "oracle_price", "open_interest")


def indicator_rows(
    store: Store, source: str, symbol: str, timeframe: str, *, until_ms: int, limit: int
) -> list[tuple]:
    """The newest ``limit`` indicator rows opened by ``until_ms``, ascending:
    ``(open_time, *INDICATOR_COLUMNS)``."""
    rows = store.execute(
        f"SELECT open_time, {', '.join(INDICATOR_COLUMNS)} FROM indicators"
        " WHERE source = ? AND symbol = ? AND timeframe = ? AND open_time <= ?"
        " ORDER BY open_time DESC LIMIT ?",
        (source, symbol, timeframe, until_ms, limit),
    ).fetchall()
    return rows[::-1]


def funding_rows(store: Store, symbol: str, *, until_ms: int, limit: int) -> list[tuple]:
    """The newest ``limit`` funding observations of ``symbol`` at or before ``until_ms`` over
    every known source, ascending by (time, source): ``(time, source, *FUNDING_COLUMNS)``."""
    rows: list[tuple] = []
    for source in SOURCE_PRIORITY:
        rows += store.execute(
            f"SELECT time, source, {', '.join(FUNDING_COLUMNS)} FROM funding_rates"
            " WHERE source = ? AND symbol = ? AND time <= ? ORDER BY time DESC LIMIT ?",
            (source, symbol, until_ms, limit),
        ).fetchall()
    rows.sort(key=lambda r: (r[0], SOURCE_PRIORITY.index(r[1])))
    return rows[-limit:] if limit > 0 else []


_MARKET_COLUMNS = (
    "market_id, slug, question, event_slug, end_time, volume, liquidity, tags, outcomes"
)


def prediction_markets_for(
    store: Store, scope: str, target: str, *, until_ms: int, limit: int
) -> list[dict]:
    """Active, unclosed Polymarket markets first seen by ``until_ms`` that match ``target``:
    scope ``market`` by slug or market id, ``event`` by event slug, ``topic`` by a
    case-insensitive substring of the question, slug or tags. Ordered by volume (largest
    first, unknown last), then market id; at most ``limit``.

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
    return store.query(
        f"SELECT {_MARKET_COLUMNS} FROM prediction_markets"
        f" WHERE active = 1 AND closed = 0 AND first_seen_at <= ? AND {where}"
        " ORDER BY volume IS NULL, volume DESC, market_id LIMIT ?",
        [until_ms, *params, limit],
    )


def prediction_prices_at(store: Store, market_id: str, *, until_ms: int) -> tuple[int, dict]:
    """``(time, {outcome: price})`` of a market's newest price observation at or before
    ``until_ms``; ``(0, {})`` when none."""
    rows = store.execute(
        "SELECT outcome, price, time FROM prediction_prices WHERE market_id = ? AND time = ("
        " SELECT MAX(time) FROM prediction_prices WHERE market_id = ? AND time <= ?)",
        (market_id, market_id, until_ms),
    ).fetchall()
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
    exact = store.execute(
        "SELECT 1 FROM macro_observations WHERE scope = ? AND subject = ? LIMIT 1",
        (scope, subject),
    ).fetchone()
    if exact is None:
        row = store.execute(
            "SELECT subject FROM macro_observations WHERE scope = ? AND subject = ? COLLATE NOCASE"
            " ORDER BY subject LIMIT 1",
            (scope, subject),
        ).fetchone()
        if row is None:
            return subject, []
        stored = row[0]
    # SQLite takes the bare ``value`` from the row holding MAX(time).
    rows = store.execute(
        "SELECT metric, MAX(time), value FROM macro_observations"
        " WHERE scope = ? AND subject = ? AND time <= ? GROUP BY metric ORDER BY metric",
        (scope, stored, until_ms),
    ).fetchall()
    return stored, [tuple(r) for r in rows]


def recent_fills(store: Store, account_id: int, *, until_ms: int, limit: int) -> list[dict]:
    """The newest ``limit`` fills of an account booked by ``until_ms``, oldest first, with their
    order's purpose and close trigger. Money columns stay canonical Decimal text."""
    rows = store.query(
        "SELECT f.id, f.created_at, f.symbol, o.purpose, f.side, f.qty, f.price, f.notional,"
        " f.fee, o.trigger FROM prop_fills f JOIN prop_orders o ON o.id = f.order_id"
        " WHERE f.account_id = ? AND f.created_at <= ? ORDER BY f.created_at DESC, f.id DESC"
        " LIMIT ?",
        (account_id, until_ms, limit),
    )
    return rows[::-1]


def recent_rejections(store: Store, account_id: int, *, until_ms: int, limit: int) -> list[dict]:
    """The newest ``limit`` rejected intents of an account made by ``until_ms``, oldest first."""
    rows = store.query(
        "SELECT id, created_at, symbol, action, reject_code FROM prop_intents"
        " WHERE account_id = ? AND status = 'rejected' AND created_at <= ?"
        " ORDER BY created_at DESC, id DESC LIMIT ?",
        (account_id, until_ms, limit),
    )
    return rows[::-1]
