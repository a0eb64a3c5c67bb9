"""market_snapshot over a real store: the bars an engine sees, and never one from its future."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

from autotrader.decisions.snapshot import market_snapshot
from autotrader.market import repo
from autotrader.market.ingest import Ingestor
from autotrader.market.sources.synthetic import generate

HOUR = 3_600_000
MINUTE = 60_000
NOW = 1_700_000_000_000  # the clock fixture: 2023-11-14T22:13:20Z
THIS_HOUR = NOW // HOUR * HOUR  # 22:00, the hour still forming at NOW
START = THIS_HOUR - 80 * HOUR
INDICATORS = ("rsi14", "bb_upper", "bb_middle", "bb_lower", "sma20", "ema20", "macd", "macd_signal")


def _seed(store, clock, *, until_ms: int) -> list:
    """1m BTC candles from START to ``until_ms`` (exclusive), rolled up with indicators."""
    candles = generate(
        "BTC", start_ms=START, count=(until_ms - START) // MINUTE, seed=3, start_price=37_000
    )
    Ingestor(store, clock).store_synthetic(candles)
    return candles


def test_bars_are_ascending_with_indicators_and_none_opened_after_now(store, clock):
    # Bars run two hours past NOW, as in a replay over stored history.
    candles = _seed(store, clock, until_ms=THIS_HOUR + 2 * HOUR)

    snap = market_snapshot(store, "BTC", now_ms=NOW, granularity="1h", bars=40)

    times = [b.open_time for b in snap.bars]
    assert len(times) == 40
    assert times == sorted(set(times))
    assert all(b - a == HOUR for a, b in pairwise(times))
    assert all(t + HOUR <= NOW for t in times)  # the forming hour was built from the future
    assert times[-1] == THIS_HOUR - HOUR
    for bar in snap.bars:
        assert all(getattr(bar, name) is not None for name in INDICATORS), bar
    last_minute_of_that_hour = next(c for c in candles if c.open_time == THIS_HOUR - MINUTE)
    assert snap.bars[-1].close == last_minute_of_that_hour.close
    # The execution price is the last *closed* minute: the one forming at NOW is the future.
    last_closed = next(c for c in candles if c.open_time == (NOW - MINUTE) // MINUTE * MINUTE)
    assert snap.price == Decimal(repr(last_closed.close))
    assert snap.price_time == last_closed.open_time + MINUTE
    assert (snap.symbol, snap.granularity) == ("BTC", "1h")


def test_a_live_store_keeps_the_forming_bar(store, clock):
    candles = _seed(store, clock, until_ms=NOW // MINUTE * MINUTE + MINUTE)

    snap = market_snapshot(store, "BTC", now_ms=NOW)

    assert len(snap.bars) == 50
    assert snap.bars[-1].open_time == THIS_HOUR
    assert snap.bars[-1].close == candles[-1].close
    # The price is the newest *closed* minute; the one forming at NOW is not a fill price yet.
    assert snap.price == Decimal(repr(candles[-2].close))


def test_an_earlier_replay_clock_sees_only_its_past(store, clock):
    _seed(store, clock, until_ms=THIS_HOUR + 2 * HOUR)
    then = START + 10 * HOUR + 30 * MINUTE

    snap = market_snapshot(store, "BTC", now_ms=then)

    assert [b.open_time for b in snap.bars] == [START + h * HOUR for h in range(10)]
    assert snap.bars[0].rsi14 is None  # too little history for TA-Lib yet
    assert snap.price_time is not None
    assert snap.price_time <= then


def test_minute_bars_come_from_the_minute_series(store, clock):
    _seed(store, clock, until_ms=THIS_HOUR + 2 * HOUR)

    snap = market_snapshot(store, "BTC", now_ms=NOW, granularity="1m", bars=30)

    times = [b.open_time for b in snap.bars]
    assert len(times) == 30
    assert times[-1] == NOW // MINUTE * MINUTE - MINUTE  # 22:13 still forms; 22:12 closed
    assert all(b - a == MINUTE for a, b in pairwise(times))
    assert snap.bars[-1].macd_hist is not None


def test_missing_data_gives_empty_bars_and_no_price(store, clock):
    _seed(store, clock, until_ms=THIS_HOUR)

    unknown = market_snapshot(store, "ETH", now_ms=NOW)
    before_any_data = market_snapshot(store, "BTC", now_ms=START - HOUR)
    odd_granularity = market_snapshot(store, "BTC", now_ms=NOW, granularity="4h")
    no_bars = market_snapshot(store, "BTC", now_ms=NOW, bars=0)

    assert (unknown.bars, unknown.price, unknown.price_time) == ((), None, None)
    assert (before_any_data.bars, before_any_data.price) == ((), None)
    assert odd_granularity.bars == ()
    assert odd_granularity.price is not None
    assert no_bars.bars == ()


def test_reads_the_freshest_source_for_the_timeframe(store, clock):
    _seed(store, clock, until_ms=THIS_HOUR)
    stale = generate("BTC", start_ms=START, count=20, timeframe="1h", seed=9, start_price=1.0)
    with store.atomic():
        repo.upsert_candles(store, "file", stale)

    snap = market_snapshot(store, "BTC", now_ms=NOW)

    assert snap.bars[-1].open_time == THIS_HOUR - HOUR
    assert snap.bars[-1].close > 1_000  # the synthetic series, not the stale file at ~1.0


def test_indicator_reads_stop_at_their_upper_bound_in_sql(store, clock):
    _seed(store, clock, until_ms=THIS_HOUR + 2 * HOUR)

    rows = repo.indicators_between(
        store, "synthetic", "BTC", "1h", THIS_HOUR - 5 * HOUR, until_ms=THIS_HOUR - HOUR
    )

    assert [r["open_time"] for r in rows] == [THIS_HOUR - h * HOUR for h in range(5, 0, -1)]


def test_a_request_builds_only_the_bars_its_engine_declares(store, clock):
    from autotrader.decisions.engines.hold import HoldEngine
    from autotrader.decisions.engines.rules import RulesEngine
    from autotrader.decisions.requests import DEFAULT_BARS, RequestBuilder

    _seed(store, clock, until_ms=THIS_HOUR + 2 * HOUR)
    builder = RequestBuilder(clock)

    def bars_for(engine) -> int:
        declared = getattr(engine, "market_bars", DEFAULT_BARS)
        return len(builder.market(store, "BTC", "1h", NOW, declared).bars)

    class Undeclared:
        name = "undeclared"

    assert bars_for(RulesEngine()) == 2
    assert bars_for(HoldEngine()) == 0
    assert bars_for(Undeclared()) == DEFAULT_BARS
