"""What ``bench_freqtrade`` hands freqtrade: its data files, a comparable strategy, a config,
a timing runner, and a loopback Hyperliquid answering the markets calls freqtrade makes.

Nothing here imports freqtrade: the bench runs in autotrader's environment and starts
``VENV/bin/python`` on the files written here. freqtrade's formats, read in its 2026.9 source:

- candles: feather files under ``<datadir>/futures/`` named ``<PAIR>-<tf>-futures.feather``
  (``/``, ``:`` → ``_``), columns ``date`` (UTC) ``open high low close volume``
  (``IDataHandler._pair_data_filename``, ``candle_columns.OHLCV_COLUMNS``);
- futures backtests also load mark candles (Hyperliquid's mark price type is ``futures``: the
  1h candle file itself) and funding rates, ``<PAIR>-1h-funding_rate.feather`` with columns
  ``date funding_rate`` — written as zeros, since the bench's bars carry no funding;
- markets: freqtrade loads them through ccxt at start (``Exchange.reload_markets``, always a
  reload, so no ccxt ``markets`` option can stand in), which for Hyperliquid futures is three
  ``POST /info`` calls once ccxt's ``fetchMarkets.types`` is ``["swap", "hip3"]``: ``spotMeta``
  (the currencies), ``metaAndAssetCtxs`` (the perps) and ``perpDexs`` (no builder dexes; ccxt
  4.5.90 fails to copy its markets to freqtrade's sync client when hip3 is never fetched). The
  config points ccxt's URLs at :class:`HyperliquidMarkets`, which answers these three, so the
  run makes no network call.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from autotrader.clones.engine_params import RulesParams
from autotrader.market.models import Candle

STRATEGY_NAME = "TrendMacd"
STAKE_CURRENCY = "USDC"
INFORMATIVE_TIMEFRAME = "1h"  # the bars the rules engine decides on


def pair(symbol: str) -> str:
    """freqtrade's name of the USDC-settled perp of ``symbol``: ``BTC/USDC:USDC``."""
    return f"{symbol}/{STAKE_CURRENCY}:{STAKE_CURRENCY}"


def _file_stem(symbol: str) -> str:
    return pair(symbol).replace("/", "_").replace(":", "_")


def candle_path(datadir: Path, symbol: str, timeframe: str) -> Path:
    return datadir / "futures" / f"{_file_stem(symbol)}-{timeframe}-futures.feather"


def funding_path(datadir: Path, symbol: str) -> Path:
    return datadir / "futures" / f"{_file_stem(symbol)}-1h-funding_rate.feather"


# -- data -----------------------------------------------------------------------------------------


def write_candles(datadir: Path, symbol: str, timeframe: str, candles: Sequence[Candle]) -> Path:
    """``candles`` (ascending) as freqtrade's futures candle file; returns its path."""
    import pandas as pd

    path = candle_path(datadir, symbol, timeframe)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime([c.open_time for c in candles], unit="ms", utc=True),
            "open": [c.open for c in candles],
            "high": [c.high for c in candles],
            "low": [c.low for c in candles],
            "close": [c.close for c in candles],
            "volume": [c.volume for c in candles],
        }
    )
    frame.to_feather(path)
    return path


def write_zero_funding(datadir: Path, symbol: str, hours: Iterable[int]) -> Path:
    """A funding-rate file of zeros at the given hour starts (epoch ms)."""
    import pandas as pd

    path = funding_path(datadir, symbol)
    path.parent.mkdir(parents=True, exist_ok=True)
    times = list(hours)
    frame = pd.DataFrame(
        {"date": pd.to_datetime(times, unit="ms", utc=True), "funding_rate": [0.0] * len(times)}
    )
    frame.to_feather(path)
    return path


# -- the strategy ---------------------------------------------------------------------------------

# The rules engine's trend_macd policy (autotrader/decisions/engines/rules.py) on the 1h bars,
# with the indicator periods of autotrader/market/indicators.py. Decisions happen once per
# cadence on the bars closed by then, as the backtest driver's cadence buckets do; an entry
# waits for the cooldown counted from the previous OPEN, as the exit plan's cooldown_until does.
_STRATEGY = '''\
"""autotrader's rules engine, trend_macd policy, as a freqtrade strategy.

Written by autotrader's bench (bench/_freqtrade.py) for one run; not a product file.
"""

from datetime import timedelta

import talib.abstract as ta
from freqtrade.strategy import IStrategy, merge_informative_pair


class {name}(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = {timeframe!r}
    can_short = {allow_short!r}
    # freqtrade's stop and ROI are fractions of the stake, which leverage multiplies
    stoploss = -{stoploss}
    minimal_roi = {{"0": {roi}}}
    use_exit_signal = True
    exit_profit_only = False
    ignore_roi_if_entry_signal = False
    process_only_new_candles = True
    startup_candle_count = {startup}

    cadence = timedelta(seconds={cadence_s})
    time_exit = {time_exit}
    cooldown = timedelta(minutes={cooldown_minutes})

    def bot_start(self, **kwargs) -> None:
        self.last_open = {{}}

    def informative_pairs(self):
        return [(pair, "{informative}") for pair in self.dp.current_whitelist()]

    def populate_indicators(self, dataframe, metadata):
        bars = self.dp.get_pair_dataframe(metadata["pair"], "{informative}")
        bars["macd_hist"] = ta.MACD(bars, fastperiod=12, slowperiod=26, signalperiod=9)[
            "macdhist"
        ]
        bars["macd_hist_prev"] = bars["macd_hist"].shift(1)
        bars["ema20"] = ta.EMA(bars, timeperiod=20)
        bars["sma20"] = ta.SMA(bars, timeperiod=20)
        dataframe = merge_informative_pair(
            dataframe, bars, self.timeframe, "{informative}", ffill=True
        )
        closes = dataframe["date"] + timedelta(seconds={timeframe_s})
        dataframe["decides"] = closes == closes.dt.floor(self.cadence)
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        d = dataframe
        h0, h1 = d["macd_hist_prev_{informative}"], d["macd_hist_{informative}"]
        close = d["close_{informative}"]
        ema, sma = d["ema20_{informative}"], d["sma20_{informative}"]
        up = (h0 <= 0) & (h1 > 0) & (close > ema) & (close > sma)
        down = (h0 >= 0) & (h1 < 0) & (close < ema) & (close < sma)
        d.loc[d["decides"] & up, "enter_long"] = 1
        if self.can_short:
            d.loc[d["decides"] & down, "enter_short"] = 1
        return d

    def populate_exit_trend(self, dataframe, metadata):
        d = dataframe
        d.loc[d["decides"] & (d["macd_hist_{informative}"] < 0), "exit_long"] = 1
        d.loc[d["decides"] & (d["macd_hist_{informative}"] > 0), "exit_short"] = 1
        return d

    def custom_exit(self, pair, trade, current_time, current_rate, current_profit, **kwargs):
        if self.time_exit is not None and current_time - trade.open_date_utc >= self.time_exit:
            return "time_exit"
        return None

    def confirm_trade_entry(
        self, pair, order_type, amount, rate, time_in_force, current_time, entry_tag, side,
        **kwargs,
    ):
        last = self.last_open.get(pair)
        if last is not None and current_time - last < self.cooldown:
            return False
        self.last_open[pair] = current_time
        return True

    def leverage(self, pair, current_time, current_rate, proposed_leverage, max_leverage,
                 entry_tag, side, **kwargs):
        return {leverage}
'''


def strategy_source(
    params: RulesParams, *, timeframe: str, cadence_s: int, startup_candles: int
) -> str:
    """The freqtrade ``IStrategy`` module for trend_macd with ``params`` (stop, target, time
    exit, cooldown, leverage, shorts) on ``timeframe`` bars, deciding every ``cadence_s``."""
    from autotrader.market.models import TIMEFRAME_MS

    hours = params.time_exit_hours
    return _STRATEGY.format(
        name=STRATEGY_NAME,
        timeframe=timeframe,
        timeframe_s=TIMEFRAME_MS[timeframe] // 1000,
        informative=INFORMATIVE_TIMEFRAME,
        allow_short=params.allow_short,
        stoploss=_plain(params.stop_pct * params.leverage),
        roi=_plain(params.target_pct * params.leverage),
        startup=startup_candles,
        cadence_s=cadence_s,
        time_exit=f"timedelta(hours={_plain(hours)})" if hours else "None",
        cooldown_minutes=_plain(params.cooldown_minutes),
        leverage=params.leverage,
    )


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


# -- config and runner ----------------------------------------------------------------------------


def config(
    *,
    symbols: Sequence[str],
    markets_url: str,
    user_data: Path,
    params: RulesParams,
    fee: Decimal,
    max_open_trades: int,
    wallet: Decimal,
) -> dict[str, Any]:
    """A futures backtest config on Hyperliquid with ccxt pointed at ``markets_url``."""
    ccxt = {
        "urls": {"api": {"public": markets_url, "private": markets_url}},
        "options": {"fetchMarkets": {"types": ["swap", "hip3"]}},
    }
    return {
        "trading_mode": "futures",
        "margin_mode": "isolated",
        "dry_run": True,
        "dry_run_wallet": float(wallet),
        "stake_currency": STAKE_CURRENCY,
        "stake_amount": float(Decimal(params.notional_usd) / params.leverage),
        "max_open_trades": max_open_trades,
        "fee": float(fee),
        "dataformat_ohlcv": "feather",
        "dataformat_trades": "feather",
        "user_data_dir": str(user_data),
        "datadir": str(user_data / "data" / "hyperliquid"),
        "strategy": STRATEGY_NAME,
        "strategy_path": str(user_data / "strategies"),
        "exchange": {
            "name": "hyperliquid",
            "pair_whitelist": [pair(s) for s in symbols],
            "ccxt_config": ccxt,
            "ccxt_async_config": ccxt,
        },
        "pairlists": [{"method": "StaticPairList"}],
        # autotrader's paper fills are market orders, at the taker fee
        "order_types": {
            "entry": "market",
            "exit": "market",
            "stoploss": "market",
            "stoploss_on_exchange": False,
        },
        "entry_pricing": {"price_side": "other"},
        "exit_pricing": {"price_side": "other"},
        "internals": {"verbosity": "error"},
    }


# Runs the real ``freqtrade backtesting`` command (freqtrade.main.main) and records how long its
# two phases took (the loop in CPU time too): freqtrade prints no duration of its own.
RUNNER = '''\
"""Run `freqtrade backtesting` and time its phases (written by autotrader's bench)."""

import json
import sys
import time

from freqtrade.optimize.backtesting import Backtesting

timings = {"analyze_s": 0.0, "loop_s": 0.0, "loop_cpu_s": 0.0, "bars": 0, "trades": []}
_analyze, _loop = Backtesting.backtest_one_strategy, Backtesting.backtest


def backtest_one_strategy(self, strat, data, timerange):
    started = time.perf_counter()
    try:
        return _analyze(self, strat, data, timerange)
    finally:
        timings["analyze_s"] += time.perf_counter() - started - timings["loop_s"]


def backtest(self, processed, start_date, end_date):
    started, cpu = time.perf_counter(), time.process_time()
    result = _loop(self, processed, start_date, end_date)
    timings["loop_s"] += time.perf_counter() - started
    timings["loop_cpu_s"] += time.process_time() - cpu
    timings["trades"] += [
        [t.pair.split("/")[0], int(t.open_date.timestamp() * 1000), bool(t.is_short), t.exit_reason]
        for t in result["results"].itertuples()
    ]
    timings["bars"] += sum(
        int(((df["date"] >= start_date) & (df["date"] <= end_date)).sum())
        for df in processed.values()
    )
    return result


Backtesting.backtest_one_strategy = backtest_one_strategy
Backtesting.backtest = backtest

from freqtrade.main import main  # noqa: E402

try:
    main(sys.argv[2:])
finally:
    with open(sys.argv[1], "w") as out:
        json.dump(timings, out)
'''


# -- markets --------------------------------------------------------------------------------------


def meta_and_asset_ctxs(prices: dict[str, float]) -> list[Any]:
    """Hyperliquid's ``metaAndAssetCtxs`` answer for perps of ``prices`` (symbol → mark price),
    in the shape of the real payload in tests/data/ccxt/hyperliquid_info_fixtures.json."""
    universe = [
        {"szDecimals": 2, "name": s, "maxLeverage": 20, "onlyIsolated": False} for s in prices
    ]
    contexts = [
        {
            "funding": "0.0",
            "openInterest": "0.0",
            "prevDayPx": repr(p),
            "dayNtlVlm": "0.0",
            "premium": "0.0",
            "oraclePx": repr(p),
            "markPx": repr(p),
            "midPx": repr(p),
            "impactPxs": [repr(p), repr(p)],
        }
        for p in prices.values()
    ]
    return [{"universe": universe}, contexts]


# The settlement token, as the real ``spotMeta`` lists it (tests/data/ccxt/): ccxt reads the
# currencies from that call before the markets.
_USDC = {"name": "USDC", "szDecimals": 8, "weiDecimals": 8, "index": 0,
         "tokenId": "0x6d1e7cde53ba9467b783cb7c530ce054", "isCanonical": True,
         "evmContract": None, "fullName": None}  # fmt: skip


class _InfoHandler(BaseHTTPRequestHandler):
    server: _MarketsServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        kind = json.loads(self.rfile.read(length) or b"{}").get("type")
        answer = self.server.answers.get(kind)
        body = json.dumps(answer).encode()
        self.send_response(200 if answer is not None else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _MarketsServer(ThreadingHTTPServer):
    daemon_threads = True
    answers: dict[str, Any]


class HyperliquidMarkets:
    """A loopback ``POST /info`` answering ``spotMeta`` (USDC alone), ``metaAndAssetCtxs`` (the
    given perps) and ``perpDexs`` (the main dex alone) until ``close()``; ``url`` is what
    ccxt's ``urls.api`` gets. Any other request type is a 400, so a call freqtrade starts
    making shows up as a failed run, never as a call to the real exchange."""

    def __init__(self, prices: dict[str, float]) -> None:
        answer = meta_and_asset_ctxs(prices)
        self._server = _MarketsServer(("127.0.0.1", 0), _InfoHandler)
        self._server.answers = {
            "spotMeta": {"universe": [], "tokens": [_USDC]},
            "metaAndAssetCtxs": answer,
            "perpDexs": [None],
        }
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> HyperliquidMarkets:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
