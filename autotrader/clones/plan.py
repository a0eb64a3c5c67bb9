"""The compiled form of a clone's strategy graph: what the decision loop and the context builder
consume. No I/O here.

A clone's graph ``data_stream → asset_selection → trading_prompt`` compiles into one
``CompiledStrategy`` per trading prompt: its effective asset universe (each symbol with the rule
that selected it) and, per decided asset, a read plan — the exact rows of market memory its
context may read. ``symbol`` is the asset being decided; ``context_symbol`` is the subject read
from memory (a BTC decision may read ETH candles, a DefiLlama chain, a Polymarket topic).
Retrieval is deterministic: no model decides what data a strategy sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

Source = Literal["hyperliquid", "polymarket", "defillama"]


class EngineName(StrEnum):
    """The decision engines a trading prompt can name (implemented in ``decisions/engines``)."""

    HOLD = "hold"  # the safe no-op
    RULES = "rules"
    LLM = "llm"
    COMMITTEE = "committee"


# The same set as a Literal, for the strict pydantic graph schema (derived, never listed twice).
Engine = Literal[tuple(name.value for name in EngineName)]  # type: ignore[valid-type]
MODEL_ENGINES = frozenset({EngineName.LLM, EngineName.COMMITTEE})
"""The engines whose decisions call a model (their runs count in a model's runtime stats)."""


CoverageMode = Literal["global", "global_with_asset_overrides", "asset_specific_only"]
Profile = Literal["fast", "balanced", "deep"]

HYPERLIQUID_CHANNELS = ("ohlcv", "indicators", "funding")
POLYMARKET_SCOPES = ("market", "event", "topic")
DEFILLAMA_CHANNELS = ("tvl", "flows", "dex", "fees", "stablecoins", "open_interest")
DEFILLAMA_SCOPES = ("global", "chain", "protocol", "stablecoin")
GRANULARITIES = ("1m", "5m", "1h")


@dataclass(frozen=True, slots=True)
class ReadItem:
    """One block of market memory a decision on ``symbol`` reads.

    - hyperliquid: ``channel`` ohlcv | indicators | funding; ``context_symbol`` the asset read;
      ``granularity`` 1m | 5m | 1h; ``lookback`` bars (funding: observations).
    - polymarket: ``channel`` "markets"; ``scope`` market | event | topic; ``context_symbol`` the
      market slug, event slug or topic text; ``lookback`` how many markets at most.
    - defillama: ``channel`` tvl | flows | dex | fees | stablecoins | open_interest; ``scope``
      global | chain | protocol | stablecoin; ``context_symbol`` the subject ("all",
      "Ethereum", "aave", "USDT").
    """

    source: Source
    channel: str
    symbol: str
    context_symbol: str
    lookback: int
    granularity: str | None = None
    scope: str | None = None
    include_in_prompt: bool = True
    profile: str = "balanced"
    origin: str = "built-in"  # per-asset | asset-profile | data-stream | built-in (precedence)
    node_id: str = ""  # the data_stream node it came from


@dataclass(frozen=True, slots=True)
class UniverseEntry:
    """One asset in a strategy's universe and why it is there."""

    symbol: str
    selected_by: str  # "category:L1", "subcategory:Meme", "enabled"


@dataclass(frozen=True, slots=True)
class CandidatePolicy:
    """How a strategy narrows its universe to the assets decided each run.

    Assets with open positions come first, then the enabled universe, then deterministic
    prefilters over stored indicators; at most ``max_candidates`` (10 by default, 25 at most).
    """

    max_candidates: int = 10
    prefilter: Literal["none", "volatility", "volume"] = "none"


@dataclass(frozen=True, slots=True)
class CompiledStrategy:
    """One trading prompt expanded over its assets."""

    strategy_id: str  # the trading_prompt node id
    enabled: bool
    engine: str
    cadence_s: int
    behavior_prompt: str
    coverage_mode: str
    candidate_policy: CandidatePolicy
    universe: tuple[UniverseEntry, ...]
    read_plans: dict[str, tuple[ReadItem, ...]]  # decided symbol → its reads, in a stable order
    asset_prompts: dict[str, str] = field(default_factory=dict)  # per-asset prompt overrides
    engine_params: dict = field(default_factory=dict)  # e.g. rules policy parameters
    variant: str | None = None  # the built-in variant merged in (clones.variants), if any
    skipped: tuple[str, ...] = ()  # unsupported (channel, asset) pairs dropped at compile

    def prompt_for(self, symbol: str) -> str | None:
        """The behaviour prompt for ``symbol`` under the coverage mode (None: not covered)."""
        override = self.asset_prompts.get(symbol)
        if self.coverage_mode == "asset_specific_only":
            return override
        if self.coverage_mode == "global_with_asset_overrides" and override:
            return override
        return self.behavior_prompt


@dataclass(frozen=True, slots=True)
class CompiledPipeline:
    clone_id: int
    version: int
    strategies: tuple[CompiledStrategy, ...]

    def strategy(self, strategy_id: str) -> CompiledStrategy | None:
        return next((s for s in self.strategies if s.strategy_id == strategy_id), None)
