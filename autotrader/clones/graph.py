"""The clone strategy graph as stored JSON: pydantic models, parsing, layout, canonical form.

A pipeline document is ``{"version": 1, "nodes": [...], "edges": [...], "layout": {...}}`` with
camelCase keys (``examples/pipelines/README.md`` documents every field). ``nodes`` and
``edges`` are the executable graph ``data_stream → asset_selection → trading_prompt``;
``layout`` is canvas metadata (node positions, the visual Trading Clone Block) that is stored
next to the graph but never changes trading behaviour, so :func:`split_layout` separates it
before anything else looks at the graph.

Models are strict (a JSON string is not an integer, ``true`` is not ``1``) and reject unknown
keys, so a typo is a located error instead of a silently ignored setting. This module checks the
*shape* of a document only; whether the graph is well connected and names known assets is
:mod:`autotrader.clones.validation`'s job. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from autotrader.clones.plan import CoverageMode, Engine, EngineName, Profile
from autotrader.clones.vocabulary import Variant
from autotrader.core.errors import InvalidInputError
from autotrader.core.jsonload import load_json

GRAPH_VERSION = 1
LAYOUT_KEY = "layout"
SAME_ASSET = "same"  # a Hyperliquid block's ``asset`` meaning "the asset being decided"
NODE_TYPES = ("data_stream", "asset_selection", "trading_prompt")

NodeId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Granularity = Literal["1m", "5m", "1h"]
Lookback = Annotated[int, Field(ge=1, le=5_000)]
HyperliquidChannel = Literal["ohlcv", "indicators", "funding"]
PolymarketScope = Literal["market", "event", "topic"]
DefiLlamaChannel = Literal["tvl", "flows", "dex", "fees", "stablecoins", "open_interest"]
DefiLlamaScope = Literal["global", "chain", "protocol", "stablecoin"]
Prefilter = Literal["none", "volatility", "volume"]
# The variant names as a Literal for the strict schema (derived from the enum, never listed twice).
VariantName = Literal[tuple(v.value for v in Variant)]  # type: ignore[valid-type]


class _Model(BaseModel):
    # strict: JSON types must match exactly; forbid: unknown keys are errors, not ignored.
    # Keys are camelCase only (no snake_case aliases), so one spelling is stored.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, alias_generator=to_camel)


# -- data stream ----------------------------------------------------------------------------------


class HyperliquidBlock(_Model):
    """Read one Hyperliquid channel of one asset (``"same"``: the asset being decided)."""

    channel: HyperliquidChannel
    asset: Name = SAME_ASSET
    lookback: Lookback | None = None  # bars (funding: observations); None → profile default
    granularity: Granularity | None = None  # ohlcv / indicators only; None → profile default
    include_in_prompt: bool = True

    @model_validator(mode="after")
    def _funding_has_no_granularity(self) -> HyperliquidBlock:
        if self.channel == "funding" and self.granularity is not None:
            raise ValueError("granularity does not apply to the funding channel (hourly rates)")
        return self


class PolymarketBlock(_Model):
    """Read prediction markets: one market or event by slug, or markets matching a topic."""

    scope: PolymarketScope
    target: Annotated[str, Field(min_length=1, max_length=200)]
    limit: Annotated[int, Field(ge=1, le=50)] | None = None  # None → profile default
    include_in_prompt: bool = True


class DefiLlamaBlock(_Model):
    """Read a DefiLlama macro channel for a scope (``subject``: chain, protocol or stablecoin)."""

    channel: DefiLlamaChannel
    scope: DefiLlamaScope
    subject: Name | None = None
    lookback: Annotated[int, Field(ge=1, le=365)] | None = None  # observations per metric
    include_in_prompt: bool = True

    @model_validator(mode="after")
    def _subject_fits_scope(self) -> DefiLlamaBlock:
        if self.scope in ("chain", "protocol") and self.subject is None:
            raise ValueError(f"a {self.scope} scope needs a subject (e.g. 'Ethereum', 'aave')")
        if self.scope == "global" and self.subject not in (None, "all"):
            raise ValueError("the global scope has no subject (or 'all')")
        return self

    @property
    def context_subject(self) -> str:
        """The memory subject read: the subject, or ``"all"`` for global/all stablecoins."""
        return self.subject or "all"


class Sources(_Model):
    hyperliquid: list[HyperliquidBlock] = Field(default_factory=list)
    polymarket: list[PolymarketBlock] = Field(default_factory=list)
    defillama: list[DefiLlamaBlock] = Field(default_factory=list)


class SourcesOverride(_Model):
    """Per-asset block lists; a present list replaces the node's list for that source."""

    hyperliquid: list[HyperliquidBlock] | None = None
    polymarket: list[PolymarketBlock] | None = None
    defillama: list[DefiLlamaBlock] | None = None


class ProfileDefinitionPatch(_Model):
    """A power user's edits to a built-in profile; unset fields keep the built-in value."""

    ohlcv_granularity: Granularity | None = None
    ohlcv_lookback: Lookback | None = None
    indicators_granularity: Granularity | None = None
    indicators_lookback: Lookback | None = None
    funding_lookback: Lookback | None = None
    polymarket_limit: Annotated[int, Field(ge=1, le=50)] | None = None
    defillama_lookback: Annotated[int, Field(ge=1, le=365)] | None = None


class StreamAssetOverride(_Model):
    """Per-asset configuration of a data stream: the highest precedence level."""

    profile: Profile | None = None
    sources: SourcesOverride | None = None


class DataStreamNode(_Model):
    type: Literal["data_stream"]
    id: NodeId
    profile: Profile | None = None  # None → the built-in default profile
    sources: Sources = Field(default_factory=Sources)
    profile_definitions: dict[Profile, ProfileDefinitionPatch] = Field(default_factory=dict)
    asset_profiles: dict[Name, Profile] = Field(default_factory=dict)  # symbol | "category:X"
    asset_overrides: dict[Name, StreamAssetOverride] = Field(default_factory=dict)


# -- asset selection and trading prompt -----------------------------------------------------------


class AssetSelectionNode(_Model):
    type: Literal["asset_selection"]
    id: NodeId
    high_level_categories: list[Name] = Field(default_factory=list)
    subcategories: list[Name] = Field(default_factory=list)
    explicitly_enabled_symbols: list[Name] = Field(default_factory=list)
    explicitly_disabled_symbols: list[Name] = Field(default_factory=list)


class CandidatePolicyModel(_Model):
    max_candidates: Annotated[int, Field(ge=1, le=25)] = 10
    prefilter: Prefilter = "none"


class PromptOverride(_Model):
    prompt: Annotated[str, Field(max_length=20_000)]


class TradingPromptNode(_Model):
    type: Literal["trading_prompt"]
    id: NodeId
    enabled: bool = True
    custom_behavior_prompt: Annotated[str, Field(max_length=20_000)] = ""
    decision_cadence_sec: Annotated[int, Field(ge=30, le=86_400)] = 300
    engine: Engine = EngineName.HOLD.value  # the safe no-op engine unless the user picks one
    engine_params: dict[str, Any] = Field(default_factory=dict)
    variant: VariantName | None = None  # a built-in persona; None → the clone's variant, if any
    candidate_policy: CandidatePolicyModel = Field(default_factory=CandidatePolicyModel)
    coverage_mode: CoverageMode = "global"
    asset_overrides: dict[Name, PromptOverride] = Field(default_factory=dict)
    # Legacy compatibility fields: accepted and stored, never enforced (see the seed, part D).
    max_assets_per_run: Any = None
    trader_type: Any = None
    analysis_timeframe: Any = None
    market_momentum_sensitivity: Any = None


Node = Annotated[
    DataStreamNode | AssetSelectionNode | TradingPromptNode, Field(discriminator="type")
]


class Edge(_Model):
    source: Annotated[str, Field(min_length=1, alias="from")]
    target: Annotated[str, Field(min_length=1, alias="to")]
    id: str | None = None  # canvas edge id, kept for the UI


class PipelineGraph(_Model):
    """The executable graph (no layout). Shape-checked only: see ``validation`` for the rest."""

    version: int
    nodes: list[Node]
    edges: list[Edge] = Field(default_factory=list)

    @field_validator("version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != GRAPH_VERSION:
            raise ValueError(f"unsupported version {value} (supported: {GRAPH_VERSION})")
        return value

    def node(self, node_id: str) -> DataStreamNode | AssetSelectionNode | TradingPromptNode | None:
        """The first node with ``node_id`` (ids are unique in a valid graph)."""
        return next((n for n in self.nodes if n.id == node_id), None)


# -- layout ---------------------------------------------------------------------------------------


class Position(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    x: float
    y: float


class StrategyCloneLayout(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, alias_generator=to_camel)
    position: Position | None = None
    connected_prompt_node_ids: list[str] = Field(default_factory=list)


class Layout(BaseModel):
    """Canvas metadata. Extra keys (viewport, zoom...) are kept: the UI owns this object."""

    model_config = ConfigDict(extra="allow", strict=True, alias_generator=to_camel)
    nodes: dict[str, Position] = Field(default_factory=dict)  # node id → canvas position
    strategy_clone: StrategyCloneLayout | None = None


NODE_ADAPTER: TypeAdapter[Any] = TypeAdapter(Node)
EDGE_ADAPTER: TypeAdapter[Edge] = TypeAdapter(Edge)


# -- parsing and serialising ----------------------------------------------------------------------


def load_document(data: Mapping[str, Any] | str | bytes) -> Any:
    """``data`` decoded from JSON text, or ``data`` itself; InvalidInputError on bad JSON (and
    on nesting too deep to walk, see :mod:`autotrader.core.jsonload`)."""
    if isinstance(data, str | bytes | bytearray):
        return load_json(bytes(data) if isinstance(data, bytearray) else data, what="pipeline")
    return data


def split_layout(data: Mapping[str, Any] | str | bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(graph, layout)``: a shallow copy of the document without ``layout``, and the layout
    (``{}`` when absent). Raises InvalidInputError when the document or the layout is not a
    JSON object."""
    document = load_document(data)
    if not isinstance(document, Mapping):
        raise InvalidInputError("pipeline must be a JSON object")
    graph = {k: v for k, v in document.items() if k != LAYOUT_KEY}
    layout = document.get(LAYOUT_KEY, {})
    if not isinstance(layout, Mapping):
        raise InvalidInputError("pipeline layout must be a JSON object")
    return graph, dict(layout)


def parse_pipeline(data: Mapping[str, Any] | str | bytes) -> PipelineGraph:
    """Parse a pipeline document (text or decoded JSON), ignoring its layout.

    Checks the shape only. Raises InvalidInputError naming every schema error with its JSON
    path, e.g. ``nodes[2].decisionCadenceSec: Input should be less than or equal to 86400``.
    """
    graph, _ = split_layout(data)
    try:
        return PipelineGraph.model_validate(graph)
    except ValidationError as exc:
        lines = [f"{path or 'pipeline'}: {msg}" for path, msg in error_locations(exc, graph)]
        raise InvalidInputError("invalid pipeline: " + "; ".join(lines)) from None


def parse_layout(layout: Mapping[str, Any]) -> Layout:
    """Parse layout metadata (InvalidInputError with JSON paths when malformed)."""
    try:
        return Layout.model_validate(layout)
    except ValidationError as exc:
        lines = [f"layout.{p}: {m}" if p else m for p, m in error_locations(exc, layout)]
        raise InvalidInputError("invalid layout: " + "; ".join(lines)) from None


def dump_graph(graph: PipelineGraph) -> dict[str, Any]:
    """The graph as its JSON object: camelCase keys, defaults filled in, unset options left out."""
    return graph.model_dump(mode="json", by_alias=True, exclude_none=True)


def canonical_json(value: PipelineGraph | Layout | Mapping[str, Any]) -> str:
    """Canonical storage text: sorted keys, no whitespace, UTF-8 kept, finite numbers only.

    The same graph always gives the same bytes, so stored versions can be compared and hashed.
    Raises ValueError for NaN/infinite numbers (not JSON).
    """
    if isinstance(value, PipelineGraph):
        value = dump_graph(value)
    elif isinstance(value, Layout):
        value = value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


# -- locating errors ------------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def json_path(parts: list[str | int]) -> str:
    """Path parts as text: ``["nodes", 2, "assetOverrides", "PURR/USDC"]`` →
    ``nodes[2].assetOverrides["PURR/USDC"]``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


def schema_errors(
    exc: ValidationError, raw: Any, prefix: list[str | int] | None = None
) -> list[tuple[list[str | int], str, str]]:
    """``(path parts, pydantic error type, message)`` for each error of ``exc``, with paths in
    the document's terms (``raw`` is the validated input, ``prefix`` its path)."""
    found = []
    for err in exc.errors(include_url=False):
        parts = [*(prefix or []), *loc_parts(err["loc"], raw)]
        if err["type"].startswith("union_tag"):
            parts.append("type")  # the node's type is missing or unknown
        found.append((parts, err["type"], err["msg"].removeprefix("Value error, ")))
    return found


def error_locations(
    exc: ValidationError, raw: Any, prefix: list[str | int] | None = None
) -> list[tuple[str, str]]:
    """``(json path, message)`` for each pydantic error (see :func:`schema_errors`)."""
    return [(json_path(parts), msg) for parts, _, msg in schema_errors(exc, raw, prefix)]


def loc_parts(loc: tuple[Any, ...], raw: Any) -> list[str | int]:
    """Turn a pydantic ``loc`` into document path parts by walking ``raw`` alongside it.

    Pydantic inserts the discriminator tag (``"trading_prompt"``) and ``"[key]"`` markers that
    are not in the document; both are dropped so the path points at what the user wrote.
    """
    parts: list[str | int] = []
    current = raw
    for item in loc:
        if item == "[key]":
            continue
        if isinstance(current, Mapping) and item not in current and current.get("type") == item:
            continue  # the union tag of a node
        parts.append(item)
        current = _child(current, item)
    return parts


def _child(container: Any, key: Any) -> Any:
    if isinstance(container, list) and isinstance(key, int) and 0 <= key < len(container):
        return container[key]
    if isinstance(container, Mapping) and key in container:
        return container[key]
    return None
