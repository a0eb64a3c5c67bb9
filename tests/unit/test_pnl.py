from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autotrader.prop import pnl
from autotrader.prop.models import MarginMode, Side

# -- the freqtrade reference case (data README): 30 units, 2.0 → 2.1, 0.25 % each side ----------


def test_long_fee_exact_pnl_matches_the_freqtrade_reference():
    fee = D("0.0025")
    assert pnl.open_value(Side.LONG, D(30), D("2.0"), fee) == D("60.15")
    assert pnl.close_value(Side.LONG, D(30), D("2.1"), fee) == D("62.8425")
    assert pnl.fee_exact_pnl(Side.LONG, D(30), D("2.0"), D("2.1"), fee) == D("2.6925")


def test_short_fee_exact_pnl_mirrors_the_reference():
    fee = D("0.0025")
    # Short 30 at 2.1, cover at 2.0: receive 63·(1−fee), pay 60·(1+fee).
    assert pnl.open_value(Side.SHORT, D(30), D("2.1"), fee) == D("62.8425")
    assert pnl.close_value(Side.SHORT, D(30), D("2.0"), fee) == D("60.15")
    assert pnl.fee_exact_pnl(Side.SHORT, D(30), D("2.1"), D("2.0"), fee) == D("2.6925")


def test_losing_trades_are_negative_on_both_sides():
    fee = D("0.0025")
    assert pnl.fee_exact_pnl(Side.LONG, D(30), D("2.1"), D("2.0"), fee) < 0
    assert pnl.fee_exact_pnl(Side.SHORT, D(30), D("2.0"), D("2.1"), fee) < 0


def test_gross_pnl_minus_both_fees_is_the_fee_exact_pnl_of_the_reference():
    fee = D("0.0025")
    gross = pnl.gross_pnl(Side.LONG, D(30), D("2.0"), D("2.1"))
    open_fee = pnl.fee(pnl.notional(D(30), D("2.0")), fee)
    close_fee = pnl.fee(pnl.notional(D(30), D("2.1")), fee)
    assert gross == D("3.0")
    assert gross - open_fee - close_fee == D("2.6925")


_qty = st.decimals(min_value=D("0.00001"), max_value=D(1000), places=5)
_price = st.decimals(min_value=D("0.01"), max_value=D(100_000), places=2)
_rate = st.decimals(min_value=D(0), max_value=D("0.01"), places=5)


@given(st.sampled_from(Side), _qty, _price, _price, _rate, _rate)
def test_ledger_split_of_gross_pnl_and_fees_is_fee_exact(side, qty, entry, exit_, r_open, r_close):
    gross = pnl.gross_pnl(side, qty, entry, exit_)
    fees = pnl.fee(pnl.notional(qty, entry), r_open) + pnl.fee(pnl.notional(qty, exit_), r_close)
    assert gross - fees == pnl.fee_exact_pnl(side, qty, entry, exit_, r_open, r_close)


# -- fills, fees, margin ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "is_open", "expected"),
    [
        (Side.LONG, True, D("100.05")),  # buy
        (Side.SHORT, False, D("100.05")),  # buy back
        (Side.LONG, False, D("99.95")),  # sell
        (Side.SHORT, True, D("99.95")),  # sell short
    ],
)
def test_fill_price_moves_against_the_trader(side, is_open, expected):
    assert pnl.fill_price(D(100), side, is_open, D(5)) == expected


def test_fee_notional_and_isolated_margin():
    value = pnl.notional(D("0.5"), D(60_000))
    assert value == D(30_000)
    assert pnl.fee(value, D("0.00045")) == D("13.5")
    assert pnl.initial_margin(value, 10) == D(3000)


def test_required_margin_covers_margin_open_fee_and_a_closing_fee():
    assert pnl.required_margin(D(100), D(1000), D("0.001")) == D(102)


def test_free_margin_counts_unrealized_losses_but_not_gains():
    assert pnl.free_margin(D(1000), D(900), D(200)) == D(700)
    assert pnl.free_margin(D(1000), D(1500), D(200)) == D(800)


def test_weighted_entry_of_an_added_position():
    assert pnl.weighted_entry(D(1), D(100), D(3), D(200)) == D(175)
    with pytest.raises(ValueError, match="positive"):
        pnl.weighted_entry(D(0), D(100), D(0), D(200))


def test_unrealized_pnl_is_signed_by_side():
    assert pnl.unrealized_pnl(Side.LONG, D(2), D(100), D(110)) == D(20)
    assert pnl.unrealized_pnl(Side.SHORT, D(2), D(100), D(110)) == D(-20)


def test_maintenance_margin_is_half_the_initial_margin_at_max_leverage():
    # 60,000 of BTC at max leverage 40: initial 1,500, maintenance 750.
    assert pnl.maintenance_margin(D(60_000), 40) == D(750)


# -- liquidation price, by hand ------------------------------------------------------------------


def _close(a: D, b: D) -> bool:
    return abs(a - b) < D("1e-18")


def test_liquidation_price_of_an_isolated_10x_long():
    # 1 BTC long at 60,000, 10x isolated → margin 6,000; max leverage 40 → maintenance 750,
    # l = 1/80. liq = 60,000 − 5,250 / (1 − 1/80) = 60,000 − 420,000/79 = 4,320,000/79
    # ≈ 54,683.54. Check: equity there, 6,000 + (liq − 60,000), equals liq/80.
    liq = pnl.liquidation_price(Side.LONG, D(60_000), D(1), D(6000), 40, MarginMode.ISOLATED)
    assert liq is not None
    assert _close(liq, D(4_320_000) / D(79))
    assert _close(D(6000) + liq - D(60_000), liq / D(80))


def test_liquidation_price_of_an_isolated_10x_short():
    # Mirror: liq = 60,000 + 5,250 / (1 + 1/80) = 60,000 + 420,000/81 = 5,280,000/81 ≈ 65,185.19.
    liq = pnl.liquidation_price(Side.SHORT, D(60_000), D(1), D(6000), 40, MarginMode.ISOLATED)
    assert liq is not None
    assert _close(liq, D(5_280_000) / D(81))
    assert _close(D(6000) - (liq - D(60_000)), liq / D(80))


def test_an_unlevered_long_cannot_be_liquidated():
    # 1x: margin 60,000, available 59,250, 59,250 / (79/80) = 60,000 → liq 0 → none.
    assert pnl.liquidation_price(Side.LONG, D(60_000), D(1), D(60_000), 40) is None


def test_liquidation_price_in_cross_margin_uses_the_account_value():
    # 2 ETH long at 3,000, account value 1,000, max leverage 25: maintenance 6,000/25/2 = 120,
    # l = 1/50. liq = 3,000 − 880 / 2 / 0.98 = 125,000/49 ≈ 2,551.02.
    liq = pnl.liquidation_price(
        Side.LONG, D(3000), D(2), D(0), 25, MarginMode.CROSS, account_value=D(1000)
    )
    assert liq is not None
    assert _close(liq, D(125_000) / D(49))


def test_cross_liquidation_needs_the_account_value():
    with pytest.raises(ValueError, match="account value"):
        pnl.liquidation_price(Side.LONG, D(3000), D(2), D(0), 25, MarginMode.CROSS)


@given(st.sampled_from(Side), _qty, _price, st.integers(1, 40), st.integers(3, 50))
def test_liquidation_is_on_the_losing_side_of_entry_when_margin_exceeds_maintenance(
    side, qty, entry, leverage, max_leverage
):
    leverage = min(leverage, max_leverage)
    margin = pnl.initial_margin(qty * entry, leverage)
    liq = pnl.liquidation_price(side, entry, qty, margin, max_leverage)
    if liq is not None:
        assert side.sign * (entry - liq) > 0


# -- funding and drawdown ------------------------------------------------------------------------


def test_longs_pay_a_positive_funding_rate_and_shorts_receive_it():
    assert pnl.funding_payment(Side.LONG, D(2), D(60_000), D("0.0001")) == D(-12)
    assert pnl.funding_payment(Side.SHORT, D(2), D(60_000), D("0.0001")) == D(12)
    assert pnl.funding_payment(Side.LONG, D(2), D(60_000), D("-0.0001")) == D(12)


def test_drawdown_is_the_fraction_below_the_peak():
    assert pnl.drawdown(D(8000), D(10_000)) == D("0.2")
    assert pnl.drawdown(D(12_000), D(10_000)) == 0
    assert pnl.drawdown(D(5), D(0)) == 0
