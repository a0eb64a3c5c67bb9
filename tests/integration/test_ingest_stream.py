"""``ingest stream`` end to end on a real SQLite file: real ccxt.pro against a loopback fake of
Hyperliquid's WebSocket, real ccxt REST against the HTTP fake for markets and backfills, a
simulated clock. What the stream stores must be what the REST poller stores."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from autotrader.bootstrap import open_store
from autotrader.core.clock import SimulatedClock
from autotrader.core.errors import OperationalError
from autotrader.core.worker import TickContext, TickReport
from autotrader.market.ingest import Ingestor
from autotrader.market.jobs import StreamJob
from autotrader.market.registry import ensure_assets
from autotrader.market.repo import cursors
from autotrader.market.sources.hyperliquid import HyperliquidSource
from autotrader.market.sources.hyperliquid_stream import CandleStream, ReconnectBackoff
from tests.fakes.hyperliquid_server import FakeHyperliquid, make_candle_rows
from tests.fakes.hyperliquid_ws import FakeHyperliquidWs

MINUTE = 60_000
START = 1_700_000_040_000 - 30 * MINUTE  # the first bar the exchange has, on the 1m grid
BASE, CAP = 0.05, 0.15  # reconnect back-off (s): 0.05, 0.1, then capped at 0.15

pytestmark = pytest.mark.slow  # connections, reconnects and back-off waits take a second or two


def _rows(count: int) -> list[dict[str, Any]]:
    return make_candle_rows("BTC", "1m", START, count)


@pytest.fixture
def rest() -> Iterator[FakeHyperliquid]:
    with FakeHyperliquid() as server:
        yield server


@pytest.fixture
def ws() -> Iterator[FakeHyperliquidWs]:
    with FakeHyperliquidWs() as server:
        yield server


def _ingestor(store, clock: SimulatedClock, rest: FakeHyperliquid) -> Ingestor:
    source = HyperliquidSource(base_url=rest.url, rate_limit_ms=1, max_retries=0, clock=clock)
    return Ingestor(store, clock, hyperliquid=source)


@pytest.fixture
def make_job(store, clock, rest, ws) -> Iterator[Callable[..., StreamJob]]:
    jobs: list[StreamJob] = []

    def build(*, url: str | None = None, symbols: tuple[str, ...] = ("BTC",)) -> StreamJob:
        ensure_assets(store, clock)
        stream = CandleStream(
            {symbol: f"{symbol}/USDC:USDC" for symbol in symbols},
            ws_url=url or ws.url,
            rest_url=rest.url,
            backoff=ReconnectBackoff(BASE, CAP),
            timeout_ms=2_000,
            rng=random.Random(7),
        )
        jobs.append(StreamJob(_ingestor(store, clock, rest), stream, symbols=list(symbols)))
        return jobs[-1]

    yield build
    for job in jobs:
        job.stream.close()


def _tick(job: StreamJob, store, clock) -> TickReport:
    return job(TickContext(store, clock, "test-stream", 1, lambda: False))


def _tick_until(job, store, clock, done: Callable[[], bool], timeout: float = 15.0) -> list:
    """Tick every 20 ms until ``done()``; the reports of every tick."""
    reports = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reports.append(_tick(job, store, clock))
        if done():
            return reports
        time.sleep(0.02)
    raise AssertionError(f"not done within {timeout} s; last: {reports[-1].summary}")


def _bars(store, timeframe: str = "1m", symbol: str = "BTC") -> list[tuple]:
    return [
        tuple(row.values())
        for row in store.query(
            "SELECT open_time, open, high, low, close, volume FROM candles"
            " WHERE source = 'hyperliquid' AND symbol = ? AND timeframe = ?"
            " ORDER BY open_time",
            (symbol, timeframe),
        )
    ]


def _indicators(store, timeframe: str) -> list[tuple]:
    return [
        tuple(row.values())
        for row in store.query(
            "SELECT open_time, rsi14, sma20, ema20, macd FROM indicators"
            " WHERE source = 'hyperliquid' AND symbol = 'BTC' AND timeframe = ?"
            " ORDER BY open_time",
            (timeframe,),
        )
    ]


def _forming(row: dict[str, Any]) -> dict[str, Any]:
    """``row``'s bar early in its minute: one trade at the open."""
    return dict(row, c=row["o"], h=row["o"], l=row["o"], v="0.5")


def _as_stored(row: dict[str, Any]) -> tuple:
    return (row["t"], *(float(row[k]) for k in "ohlcv"))


def _open_times(store) -> list[int]:
    return [bar[0] for bar in _bars(store)]


def test_pushed_candles_are_stored_as_the_rest_poller_stores_them(
    store, clock, rest, ws, make_job, settings, tmp_path
) -> None:
    rows = _rows(31)
    clock.set(rows[-1]["t"] + 30_000)  # half way through the last bar, which is still trading
    rest.set_candles("BTC", "1m", rows[:26])  # the exchange's history when the stream connects
    job = make_job()
    _tick(job, store, clock)
    ws.wait_for_subscribers("BTC")
    for row in rows[26:-1]:
        ws.push("BTC", row)
    forming = _forming(rows[-1])
    ws.push("BTC", forming)
    _tick_until(job, store, clock, lambda: len(_bars(store)) == 31)
    assert _bars(store)[-1][1:] == (float(forming["o"]),) * 4 + (0.5,)  # as it traded so far
    ws.push("BTC", rows[-1])  # the bar trades on: the next push carries it further
    _tick_until(job, store, clock, lambda: _bars(store)[-1][5] == float(rows[-1]["v"]))

    # The REST poller, given the same history, stores the same bars, rollups and indicators.
    polled = open_store(settings, path=tmp_path / "polled.db")
    ensure_assets(polled, clock)
    rest.set_candles("BTC", "1m", rows)
    _ingestor(polled, clock, rest).run_once(sources=["hyperliquid"], symbols=["BTC"])
    assert _bars(store) == _bars(polled)
    assert _bars(store, "1h") == _bars(polled, "1h")
    assert _indicators(store, "1m") == _indicators(polled, "1m")
    assert _indicators(store, "1h") == _indicators(polled, "1h")
    state = cursors.cursor(store, "hyperliquid", "ohlcv", "BTC")
    assert state["newest_time"] == rows[-1]["t"]


def test_after_a_drop_the_stream_reconnects_with_back_off_and_backfills_the_gap(
    store, clock, rest, ws, make_job
) -> None:
    rows = _rows(20)
    clock.set(rows[9]["t"] + 30_000)
    rest.set_candles("BTC", "1m", [*rows[:9], _forming(rows[9])])  # bar 9 is trading
    job = make_job()
    _tick(job, store, clock)
    ws.wait_for_subscribers("BTC")
    ws.push("BTC", _forming(rows[9]))
    _tick_until(job, store, clock, lambda: len(_bars(store)) == 10)
    assert _bars(store)[-1] == _as_stored(_forming(rows[9]))

    # The connection drops while bar 9 trades, two handshakes are refused, ten minutes pass.
    ws.refuse_next(2)
    dropped_at = time.monotonic()
    ws.drop_connections()
    rest.set_candles("BTC", "1m", rows)
    clock.set(rows[19]["t"] + 30_000)
    ws.wait_for_subscribers("BTC")
    ws.push("BTC", rows[19])  # the new connection only carries the bar trading now
    reports = _tick_until(job, store, clock, lambda: len(_bars(store)) == 20)

    assert _open_times(store) == [row["t"] for row in rows]  # none missing, none twice
    # The bar that was trading at the drop is stored as it closed, not as it was left.
    assert _bars(store) == [_as_stored(row) for row in rows]
    delays = [d for report in reports for d in report.result.batch.delays]
    assert delays == [BASE, 2 * BASE, CAP]  # doubled, then capped (no jitter here)
    attempts = [*ws.refused_at, ws.connected_at[-1]]
    waited = [b - a for a, b in zip([dropped_at, *attempts], attempts, strict=False)]
    assert all(w >= d for w, d in zip(waited, delays, strict=True)), waited
    # From the newest stored bar (it may have been trading when stored) through the bar of now.
    assert sum(r.counts["backfilled"] for r in reports) == len(rows[9:])


def test_a_backfill_that_fails_is_tried_again_next_tick_from_the_same_bar(
    store, clock, rest, ws, make_job
) -> None:
    rows = _rows(6)
    clock.set(rows[-1]["t"] + 30_000)
    rest.set_candles("BTC", "1m", rows)
    rest.fail_next(1, 500, request_type="candleSnapshot")  # the exchange's REST API hiccups
    job = make_job()
    _tick(job, store, clock)
    ws.wait_for_subscribers("BTC")
    ws.push("BTC", rows[-1])

    reports = _tick_until(job, store, clock, lambda: len(_bars(store)) == 6)

    failed = [r for r in reports if "failed, tried again next tick" in r.summary]
    assert len(failed) == 1, [r.summary for r in reports]
    assert _bars(store) == [_as_stored(row) for row in rows]


def test_a_push_older_than_the_stored_bar_never_replaces_it(store, clock, rest, ws, make_job):
    rows = _rows(3)
    clock.set(rows[-1]["t"] + 30_000)
    rest.set_candles("BTC", "1m", rows)
    job = make_job()
    _tick(job, store, clock)
    ws.wait_for_subscribers("BTC")
    _tick_until(job, store, clock, lambda: len(_bars(store)) == 3)  # the backfill's answer

    # A push of bar 1 from before it closed (sent before the answer was asked for, say), then
    # bar 2 trading on.
    ws.push("BTC", _forming(rows[1]))
    later = dict(rows[2], c="104.0", h="104.5", v="13.0")  # more trades: more volume
    ws.push("BTC", later)
    _tick_until(job, store, clock, lambda: _bars(store)[2] == _as_stored(later))

    assert _bars(store)[1] == _as_stored(rows[1])  # as it closed


def test_every_symbol_shares_one_connection_and_is_backfilled_once_it_is_subscribed(
    store, clock, rest, ws, make_job
) -> None:
    btc, eth = _rows(5), make_candle_rows("ETH", "1m", START, 5, base_price=2_000.0)
    clock.set(btc[-1]["t"] + 30_000)
    rest.set_candles("BTC", "1m", btc)
    rest.set_candles("ETH", "1m", eth[:-1])
    job = make_job(symbols=("BTC", "ETH"))
    _tick(job, store, clock)
    ws.wait_for_subscribers("BTC")
    ws.wait_for_subscribers("ETH")

    # Nothing is pushed yet: the acknowledged subscriptions alone start the backfill.
    _tick_until(job, store, clock, lambda: len(_bars(store, symbol="ETH")) == 4)
    ws.push("ETH", eth[-1])
    _tick_until(job, store, clock, lambda: len(_bars(store, symbol="ETH")) == 5)

    assert _bars(store) == [_as_stored(row) for row in btc]
    assert _bars(store, symbol="ETH") == [_as_stored(row) for row in eth]
    assert len(ws.connected_at) == 1
    assert sorted(sub["coin"] for sub in ws.subscriptions) == ["BTC", "ETH"]  # each once
    assert {sub["interval"] for sub in ws.subscriptions} == {"1m"}


def test_a_malformed_push_is_counted_and_skipped_and_the_stream_goes_on(
    store, clock, rest, ws, make_job
) -> None:
    rows = _rows(3)
    clock.set(rows[-1]["t"] + 30_000)
    rest.set_candles("BTC", "1m", rows[:1])
    job = make_job()
    _tick(job, store, clock)
    ws.wait_for_subscribers("BTC")
    ws.push_raw("BTC", {"channel": "candle", "data": "garbage"})
    ws.push_raw("BTC", "not json {")
    ws.push("BTC", dict(rows[1], o="abc"))
    ws.push("BTC", dict(rows[1], h="1.0"))  # high below low
    ws.push("BTC", rows[2])
    reports = _tick_until(job, store, clock, lambda: len(_bars(store)) == 2)

    assert _open_times(store) == [rows[0]["t"], rows[2]["t"]]
    assert sum(r.counts["malformed"] for r in reports) == 2
    assert sum(r.counts["rejected"] for r in reports) == 2
    state = cursors.cursor(store, "hyperliquid", "ohlcv", "BTC")
    assert "not_a_number" in state["last_rejection"] or "high<low" in state["last_rejection"]


def test_closing_a_stream_that_never_connected_is_an_operational_error(
    store, clock, make_job
) -> None:
    job = make_job(url="ws://127.0.0.1:9/ws")  # nothing listens there
    _tick(job, store, clock)

    with pytest.raises(OperationalError, match="no connection was ever subscribed"):
        job.close()
