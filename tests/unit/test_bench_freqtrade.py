"""The freqtrade comparison bench, without freqtrade: the files it writes in freqtrade's
formats, the strategy it generates, the markets it serves to ccxt, and its skip and error lines.
"""

from __future__ import annotations

import ast
from decimal import Decimal

import ccxt
import pandas as pd
import pytest

from autotrader.decisions.engines.rules import parse_rules_params
from autotrader.market.models import Candle
from bench import _freqtrade as ft
from bench.__main__ import main as bench_main
from bench.bench_freqtrade import FREQTRADE_ENV, Trade, exits, match_entries

T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC
CANDLES = [
    Candle("SYN0", "1m", T0, 100.0, 101.5, 99.25, 100.75, 12.5),
    Candle("SYN0", "1m", T0 + 60_000, 100.75, 100.8, 98.0, 98.125, 0.0),
    Candle("SYN0", "1m", T0 + 120_000, 98.125, 99.0, 97.5, 98.5, 3.0625),
]


def _class_constants(source: str) -> dict[str, object]:
    """The literal class attributes of the generated strategy (``stoploss``, ``timeframe``...)."""
    tree = ast.parse(source)
    strategy = next(node for node in tree.body if isinstance(node, ast.ClassDef))
    constants = {}
    for node in strategy.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue  # a timedelta(...) call, not a literal
    return constants


def test_candles_written_for_freqtrade_read_back_equal_to_ours(tmp_path):
    path = ft.write_candles(tmp_path, "SYN0", "1m", CANDLES)

    assert path == tmp_path / "futures" / "SYN0_USDC_USDC-1m-futures.feather"
    frame = pd.read_feather(path)
    assert list(frame.columns) == ["date", "open", "high", "low", "close", "volume"]
    assert str(frame["date"].dt.tz) == "UTC"
    millis = frame["date"].dt.as_unit("ms").astype("int64")
    rows = frame[["open", "high", "low", "close", "volume"]].itertuples(index=False)
    read_back = [
        Candle("SYN0", "1m", int(t), *map(float, row)) for t, row in zip(millis, rows, strict=True)
    ]
    assert read_back == CANDLES


def test_funding_file_holds_a_zero_rate_at_each_hour(tmp_path):
    hours = [T0, T0 + 3_600_000]
    path = ft.write_zero_funding(tmp_path, "BTC", hours)

    assert path == tmp_path / "futures" / "BTC_USDC_USDC-1h-funding_rate.feather"
    frame = pd.read_feather(path)
    assert list(frame.columns) == ["date", "funding_rate"]
    assert frame["date"].dt.as_unit("ms").astype("int64").tolist() == hours
    assert frame["funding_rate"].tolist() == [0.0, 0.0]


def test_generated_strategy_is_python_with_the_rules_parameters_on_the_leveraged_stake():
    params, _ = parse_rules_params(
        {"policies": ["trend_macd"], "stop_pct": 0.015, "target_pct": 0.03, "leverage": 2}
    )
    source = ft.strategy_source(params, timeframe="1m", cadence_s=3600, startup_candles=48)

    compile(source, "trend_macd.py", "exec")
    constants = _class_constants(source)
    assert constants["timeframe"] == "1m"
    assert constants["stoploss"] == -0.03
    assert constants["minimal_roi"] == {"0": 0.06}
    assert constants["can_short"] is True
    assert constants["startup_candle_count"] == 48
    assert "return 2\n" in source  # the leverage callback


def test_strategy_without_time_exit_or_shorts_says_so():
    params, _ = parse_rules_params(
        {"policy": "trend_macd", "time_exit_hours": None, "allow_short": False}
    )
    source = ft.strategy_source(params, timeframe="5m", cadence_s=300, startup_candles=0)

    compile(source, "trend_macd.py", "exec")
    assert _class_constants(source)["can_short"] is False
    assert "time_exit = None" in source


def test_config_stakes_the_margin_of_the_rules_notional(tmp_path):
    params, _ = parse_rules_params({"notional_usd": "1000", "leverage": 2})
    config = ft.config(
        symbols=("BTC", "ETH"),
        markets_url="http://127.0.0.1:9",
        user_data=tmp_path,
        params=params,
        fee=Decimal("0.00045"),
        max_open_trades=5,
        wallet=Decimal(10_000),
    )

    assert config["stake_amount"] == 500.0
    assert config["exchange"]["pair_whitelist"] == ["BTC/USDC:USDC", "ETH/USDC:USDC"]
    assert config["exchange"]["ccxt_config"]["urls"]["api"]["public"] == "http://127.0.0.1:9"
    assert config["datadir"] == str(tmp_path / "data" / "hyperliquid")


def test_real_ccxt_loads_the_served_perps_from_the_loopback_markets():
    with ft.HyperliquidMarkets({"SYN0": 100.5, "SYN1": 42.0}) as markets:
        exchange = ccxt.hyperliquid(
            {
                "urls": {"api": {"public": markets.url, "private": markets.url}},
                "options": {"fetchMarkets": {"types": ["swap", "hip3"]}},
            }
        )
        loaded = exchange.load_markets()

    assert sorted(loaded) == ["SYN0/USDC:USDC", "SYN1/USDC:USDC"]
    market = loaded["SYN0/USDC:USDC"]
    assert market["swap"] is True
    assert market["settle"] == "USDC"


def test_entries_match_on_pair_and_side_within_one_bar_each_at_most_once():
    bar = 60_000
    ours = [
        Trade("BTC", False, T0, "stop"),
        Trade("BTC", False, T0 + 10 * bar, "target"),
        Trade("ETH", True, T0, "signal"),
    ]
    theirs = [
        Trade("BTC", False, T0 + bar, "stop"),  # one bar later: the same entry
        Trade("BTC", True, T0 + 10 * bar, "target"),  # the other side: not the same
        Trade("ETH", True, T0 + 2 * bar, "signal"),  # two bars later: not the same
    ]

    assert match_entries(ours, theirs, within_ms=bar) == (1, 2, 2)
    assert match_entries(ours, ours + ours, within_ms=bar) == (3, 0, 3)


def test_exits_are_counted_most_common_first():
    trades = [Trade("BTC", False, T0, name) for name in ("stop", "signal", "stop", "open")]

    assert exits(trades) == "stop 2, signal 1, open 1"
    assert exits([]) == "none"


def test_bench_without_a_freqtrade_environment_skips_with_a_line(monkeypatch, capsys):
    monkeypatch.setenv(FREQTRADE_ENV, "")

    assert bench_main(["freqtrade"]) == 0

    out = capsys.readouterr().out
    assert "skipped: no freqtrade environment" in out
    assert FREQTRADE_ENV in out


def test_bench_refuses_a_folder_without_freqtrade_in_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv(FREQTRADE_ENV, "")

    with pytest.raises(SystemExit) as stopped:
        bench_main(["freqtrade", "--against-freqtrade", str(tmp_path)])

    assert str(stopped.value) == f"no freqtrade at {tmp_path / 'bin' / 'freqtrade'}"
