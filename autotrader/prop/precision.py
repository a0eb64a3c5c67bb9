"""Exchange precision for paper fills, through ccxt's own rules for Hyperliquid.

Prices use ccxt's ``price_to_precision`` (Hyperliquid allows five significant digits and at most
``6 − szDecimals`` decimals for perps). Amounts use ccxt's ``decimal_to_precision`` with the
market's amount step in TRUNCATE mode: ccxt's ``amount_to_precision`` for Hyperliquid rounds to
nearest, which can grow an order past what the trader asked for, and the gates never round a size
up. Markets come from the registry's last exchange sync, else the packaged snapshot.
"""

from __future__ import annotations

from decimal import Decimal

from autotrader.core.db import Store
from autotrader.market import repo as market_repo
from autotrader.market.registry import stored_markets
from autotrader.prop.gate_types import StepPrecision


class CcxtPrecision:
    """The gates' ``Precision`` protocol over a ccxt Hyperliquid instance (no network)."""

    def __init__(self, store: Store) -> None:
        import ccxt

        self._ccxt = ccxt
        self._exchange = ccxt.hyperliquid()
        self._exchange.set_markets(stored_markets(store))
        self._store = store
        self._ccxt_symbols: dict[str, str | None] = {}
        self._fallback: dict[str, StepPrecision] = {}

    def _symbol(self, symbol: str) -> str | None:
        """The ccxt symbol, or None for a registry asset ccxt's markets do not list (then the
        registry's own steps apply)."""
        if symbol not in self._ccxt_symbols:
            asset = market_repo.get_asset(self._store, symbol)
            if asset is None:
                raise KeyError(symbol)
            known = asset.ccxt_symbol in self._exchange.markets
            self._ccxt_symbols[symbol] = asset.ccxt_symbol if known else None
            if not known:
                self._fallback[symbol] = StepPrecision([asset])
        return self._ccxt_symbols[symbol]

    def amount(self, symbol: str, value: Decimal) -> Decimal:
        ccxt_symbol = self._symbol(symbol)
        if ccxt_symbol is None:
            return self._fallback[symbol].amount(symbol, value)
        market = self._exchange.market(ccxt_symbol)
        text = self._ccxt.decimal_to_precision(
            str(value),
            rounding_mode=self._ccxt.TRUNCATE,
            precision=market["precision"]["amount"],
            counting_mode=self._exchange.precisionMode,
            padding_mode=self._ccxt.NO_PADDING,
        )
        return Decimal(text)

    def price(self, symbol: str, value: Decimal) -> Decimal:
        ccxt_symbol = self._symbol(symbol)
        if ccxt_symbol is None:
            return self._fallback[symbol].price(symbol, value)
        return Decimal(self._exchange.price_to_precision(ccxt_symbol, str(value)))
