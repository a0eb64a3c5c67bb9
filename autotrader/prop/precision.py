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


class CcxtPrecision:
    """The gates' ``Precision`` protocol over a ccxt Hyperliquid instance (no network)."""

    def __init__(self, store: Store) -> None:
        import ccxt

        self._ccxt = ccxt
        self._exchange = ccxt.hyperliquid()
        self._exchange.set_markets(stored_markets(store))
        self._store = store
        self._ccxt_symbols: dict[str, str] = {}

    def _symbol(self, symbol: str) -> str:
        if symbol not in self._ccxt_symbols:
            asset = market_repo.get_asset(self._store, symbol)
            if asset is None or asset.ccxt_symbol not in self._exchange.markets:
                raise KeyError(symbol)
            self._ccxt_symbols[symbol] = asset.ccxt_symbol
        return self._ccxt_symbols[symbol]

    def amount(self, symbol: str, value: Decimal) -> Decimal:
        market = self._exchange.market(self._symbol(symbol))
        text = self._ccxt.decimal_to_precision(
            str(value),
            rounding_mode=self._ccxt.TRUNCATE,
            precision=market["precision"]["amount"],
            counting_mode=self._exchange.precisionMode,
            padding_mode=self._ccxt.NO_PADDING,
        )
        return Decimal(text)

    def price(self, symbol: str, value: Decimal) -> Decimal:
        return Decimal(self._exchange.price_to_precision(self._symbol(symbol), str(value)))
