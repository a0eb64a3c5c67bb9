"""Market memory records: what sources produce and the store keeps. No I/O here.

Candle prices and volumes are floats (analytics); a price taken from a candle for a fill is
converted once with ``core.money.from_float``. Times are UTC epoch milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

from autotrader.core.clock import HOUR_MS, MINUTE_MS

Timeframe = Literal["1m", "5m", "1h"]
AssetKind = Literal["perp", "spot"]
ASSET_KINDS: tuple[str, ...] = get_args(AssetKind)
# What a market symbol looks like ("BTC", "PURR/USDC", "BTC/USDC:USDC"): ASCII, upper case.
SYMBOL_PATTERN = r"^[A-Z0-9/:_-]{1,32}$"

SOURCES = ("hyperliquid", "polymarket", "defillama")  # the live sources ingest fetches
HYPERLIQUID_CHANNELS = ("ohlcv", "funding")
DEFILLAMA_CHANNELS = ("chains", "protocols", "dex", "fees", "stablecoins", "open_interest")
TIMEFRAME_MS: dict[str, int] = {"1m": MINUTE_MS, "5m": 5 * MINUTE_MS, "1h": HOUR_MS}
# The indicators stored per bar (TA-Lib: Wilder RSI 14, Bollinger 20/2σ, SMA/EMA 20, MACD 12/26/9).
INDICATOR_COLUMNS: tuple[str, ...] = (
    "rsi14",
    "bb_upper",
    "bb_middle",
    "bb_lower",
    "sma20",
    "ema20",
    "macd",
    "macd_signal",
    "macd_hist",
)


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLCV bar that opens at ``open_time`` (epoch ms, UTC)."""

    symbol: str  # the asset's base name as users type it: "BTC", "ETH", "PURR/USDC"
    timeframe: str
    open_time: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True, slots=True)
class Rejection:
    """A source row that was not stored, and why (counted and logged, never fatal)."""

    index: int  # position of the row in its batch
    reason: str  # short machine-friendly reason, e.g. "high<low", "nan", "duplicate_time"
    detail: str = ""


@dataclass(frozen=True, slots=True)
class FundingRate:
    """A perp's hourly funding rate observed at ``time`` (rates are fractions, 0.0001 = 0.01 %)."""

    symbol: str
    time: int
    rate: float
    predicted_rate: float | None = None
    mark_price: float | None = None
    oracle_price: float | None = None
    open_interest: float | None = None


@dataclass(frozen=True, slots=True)
class AssetInfo:
    """One tradable market as the registry knows it (from ccxt's market structure)."""

    symbol: str  # "BTC" for the BTC/USDC:USDC perp, "PURR/USDC" for spot
    ccxt_symbol: str  # "BTC/USDC:USDC"
    kind: AssetKind
    base: str
    quote: str
    settle: str | None
    amount_step: str | None  # Decimal text, e.g. "0.00001"
    price_tick: str | None
    min_notional: str | None  # Decimal text in quote currency
    max_leverage: int | None
    active: bool = True
    channels: tuple[str, ...] = ("ohlcv",)  # "ohlcv", "funding"
    category: str = "uncategorized"
    subcategories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PredictionOutcome:
    name: str
    price: float | None
    token_id: str | None = None


@dataclass(frozen=True, slots=True)
class PredictionMarket:
    """A Polymarket market observation (compact: no raw payload)."""

    market_id: str
    slug: str
    question: str
    event_slug: str | None
    outcomes: tuple[PredictionOutcome, ...]
    volume: float | None
    liquidity: float | None
    end_time: int | None  # epoch ms
    active: bool
    closed: bool
    observed_at: int
    tags: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class MacroObservation:
    """A DefiLlama metric at a time: ``scope`` is global/chain/protocol/stablecoin."""

    scope: str
    subject: str  # "all", a chain name, a protocol slug, a stablecoin symbol
    metric: str  # "tvl", "tvl_change_1d", "tvl_change_7d", "dex_volume_24h", "fees_24h", ...
    time: int
    value: float
