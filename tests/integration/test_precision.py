"""ccxt's Hyperliquid precision over the registry, with the registry's steps as the fallback."""

from dataclasses import replace
from decimal import Decimal

from autotrader.market import repo as market_repo
from autotrader.market.registry import ensure_assets
from autotrader.prop.precision import CcxtPrecision


def test_prices_follow_hyperliquids_significant_digits_and_amounts_never_grow(store, clock):
    ensure_assets(store, clock)
    precision = CcxtPrecision(store)
    assert precision.price("BTC", Decimal("58923.456789")) == Decimal("58923")
    # ccxt's own amount_to_precision would round 0.123456789 up to 0.12346; an order never grows.
    assert precision.amount("BTC", Decimal("0.123456789")) == Decimal("0.12345")
    assert precision.amount("BTC", Decimal("0.000006")) == Decimal("0")


def test_a_registry_asset_ccxt_does_not_list_uses_the_registry_steps(store, clock):
    ensure_assets(store, clock)
    btc = market_repo.get_asset(store, "BTC")
    extra = replace(btc, symbol="NEWCOIN", ccxt_symbol="NEWCOIN/USDC:USDC", base="NEWCOIN",
                    amount_step="0.1", price_tick="0.001")  # fmt: skip
    with store.atomic():
        market_repo.upsert_assets(store, [extra], now_ms=clock.now_ms())
    precision = CcxtPrecision(store)
    assert precision.amount("NEWCOIN", Decimal("12.37")) == Decimal("12.3")
    assert precision.price("NEWCOIN", Decimal("1.23456")) == Decimal("1.235")
