"""The backtest's float pre-check never hides an exit: whenever ``find_exit`` closes a
position on a bar, the pre-check sent that bar to it."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from autotrader.backtest.exits import ExitWatch
from autotrader.backtest.history import SourceSeries
from autotrader.prop.mtm import find_exit

MINUTE = 60_000
prices = st.decimals(min_value="50", max_value="150", places=2)


def _series(bar: tuple[float, float, float, float]) -> SourceSeries:
    open_, high, low, close = bar
    return SourceSeries("synthetic", "1m", [0], [MINUTE], [open_], [high], [low], [close])


@st.composite
def bars(draw):
    low, high = sorted(draw(st.lists(prices, min_size=2, max_size=2)))
    open_ = draw(st.decimals(min_value=low, max_value=high, places=2))
    close = draw(st.decimals(min_value=low, max_value=high, places=2))
    return float(open_), float(high), float(low), float(close)


@given(
    side=st.sampled_from(["LONG", "SHORT"]),
    stop=st.none() | prices,
    target=st.none() | prices,
    liquidation=st.none() | prices,
    invalidation=st.none() | prices,
    bar=bars(),
)
def test_the_pre_check_passes_every_bar_that_triggers_an_exit(
    side, stop, target, liquidation, invalidation, bar
):
    position = {
        "side": side,
        "stop": stop,
        "target": target,
        "liquidation_price": liquidation,
        "invalidation_price": invalidation,
        "time_exit": None,
        "last_mark_price": Decimal(100),
        "entry_price": Decimal(100),
    }
    series = _series(bar)
    if find_exit(position, [series.candle("SYN", 0)], MINUTE) is not None:
        assert ExitWatch(position).may_exit(series, 0, 1)


def test_a_bar_inside_every_level_is_skipped():
    position = {"side": "LONG", "stop": Decimal(90), "target": Decimal(110),
                "liquidation_price": Decimal(60), "invalidation_price": Decimal(95)}  # fmt: skip
    assert not ExitWatch(position).may_exit(_series((100.0, 101.0, 99.0, 100.5)), 0, 1)
