"""Compile a clone's strategy graph into strategies with universes and per-asset read plans.

Each trading prompt becomes one :class:`~autotrader.clones.plan.CompiledStrategy`:

- **universe** — the union of its connected asset selections, each symbol with the rule that
  selected it (when two selections pick the same symbol, the one with the smaller node id names
  the source), sorted by symbol case-insensitively;
- **read plans** — for each universe symbol, the blocks of every data stream upstream of the
  selections *that picked that symbol*, resolved by the precedence in
  :mod:`autotrader.clones.profiles`. ``asset: "same"`` reads the decided symbol; a named asset
  is a cross-asset read (``context_symbol`` differs from ``symbol``). Hyperliquid channels an
  asset lacks (funding on spot) are dropped and listed in ``skipped`` as ``"funding:PURR/USDC"``.
  Two streams asking for the same read (source, channel, subject, granularity, scope) are
  merged: the longer lookback wins (ties: smaller node id) and it goes into the prompt if either
  asked. Reads are ordered by source (hyperliquid, polymarket, defillama), channel (in the
  order the plan module lists them), context symbol, granularity (1m, 5m, 1h), scope.

The compiler expects a graph that passed :func:`autotrader.clones.validation.validate_pipeline`:
edges outside ``data_stream → asset_selection → trading_prompt`` are ignored, and names the
registry does not know raise InvalidInputError. Layout metadata never reaches it. Pure: inputs
are passed in, nothing is read from the store.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from autotrader.clones.graph import (
    SAME_ASSET,
    DataStreamNode,
    DefiLlamaBlock,
    HyperliquidBlock,
    PipelineGraph,
    PolymarketBlock,
    TradingPromptNode,
    parse_pipeline,
)
from autotrader.clones.plan import (
    DEFILLAMA_CHANNELS,
    GRANULARITIES,
    HYPERLIQUID_CHANNELS,
    CandidatePolicy,
    CompiledPipeline,
    CompiledStrategy,
    ReadItem,
    UniverseEntry,
)
from autotrader.clones.profiles import choose_profile, effective_definition, resolve_block
from autotrader.clones.universe import SymbolIndex, resolve_selection, unsupported_reason
from autotrader.clones.variants import merged_params, merged_prompt
from autotrader.clones.vocabulary import Variant
from autotrader.core.errors import InvalidInputError
from autotrader.market.models import AssetInfo
from autotrader.market.taxonomy import Taxonomy

MAX_CANDIDATES = 25
ALLOWED_EDGES = frozenset(
    {("data_stream", "asset_selection"), ("asset_selection", "trading_prompt")}
)
CATEGORY_PREFIX = "category:"

_SOURCE_ORDER = {"hyperliquid": 0, "polymarket": 1, "defillama": 2}
_CHANNEL_ORDER = {
    c: i for i, c in enumerate((*HYPERLIQUID_CHANNELS, "markets", *DEFILLAMA_CHANNELS))
}
_GRANULARITY_ORDER = {g: i for i, g in enumerate(GRANULARITIES)}


@dataclass(frozen=True, slots=True)
class SkippedRead:
    """A block read dropped because the asset lacks the channel; ``path`` locates the block."""

    node_id: str
    path: tuple[str | int, ...]
    channel: str
    symbol: str
    reason: str

    @property
    def label(self) -> str:
        return f"{self.channel}:{self.symbol}"


class _Topology:
    """Node lookup (first occurrence of an id wins) and the allowed edges, sorted by id."""

    def __init__(self, graph: PipelineGraph) -> None:
        self.nodes: dict[str, Any] = {}
        self.index: dict[str, int] = {}
        for i, node in enumerate(graph.nodes):
            if node.id not in self.nodes:
                self.nodes[node.id], self.index[node.id] = node, i
        upstream: dict[str, set[str]] = {}
        for edge in graph.edges:
            source, target = self.nodes.get(edge.source), self.nodes.get(edge.target)
            if source and target and (source.type, target.type) in ALLOWED_EDGES:
                upstream.setdefault(target.id, set()).add(source.id)
        self.upstream = {k: sorted(v) for k, v in upstream.items()}

    def of_type(self, node_type: str) -> list[Any]:
        return sorted((n for n in self.nodes.values() if n.type == node_type), key=lambda n: n.id)


@dataclass(slots=True)
class _Stream:
    """A data stream node with its per-asset keys resolved against the registry."""

    node: DataStreamNode
    index: int
    overrides: dict[str, str]  # symbol → assetOverrides key
    asset_profiles: dict[str, str]  # symbol → profile
    group_profiles: dict[str, str]  # casefolded category → profile


def _stream(node: DataStreamNode, index: int, symbols: SymbolIndex, strict: bool) -> _Stream:
    unknown: list[str] = []
    overrides: dict[str, str] = {}
    for key in node.asset_overrides:
        symbol = symbols.resolve(key)
        if symbol is None:
            unknown.append(key)
        else:
            overrides.setdefault(symbol, key)
    asset_profiles: dict[str, str] = {}
    group_profiles: dict[str, str] = {}
    for key, profile in node.asset_profiles.items():
        if key.startswith(CATEGORY_PREFIX):
            # Category names are checked by validation (they need the taxonomy); an unknown
            # one simply matches no asset here.
            group_profiles.setdefault(key[len(CATEGORY_PREFIX) :].strip().casefold(), profile)
        elif (symbol := symbols.resolve(key)) is not None:
            asset_profiles.setdefault(symbol, profile)
        else:
            unknown.append(key)
    if unknown and strict:
        raise InvalidInputError(f"data stream {node.id!r}: unknown symbols: {', '.join(unknown)}")
    return _Stream(node, index, overrides, asset_profiles, group_profiles)


def _stream_reads(
    stream: _Stream, asset: AssetInfo, symbols: SymbolIndex, strict: bool
) -> tuple[list[ReadItem], list[SkippedRead]]:
    """The reads one data stream contributes to decisions on ``asset``."""
    node = stream.node
    override_key = stream.overrides.get(asset.symbol)
    override = node.asset_overrides[override_key] if override_key is not None else None
    profile, profile_origin = choose_profile(
        per_asset=override.profile if override else None,
        asset=stream.asset_profiles.get(asset.symbol),
        group=stream.group_profiles.get(asset.category.casefold()),
        stream=node.profile,
    )
    definition, customised = effective_definition(profile, node.profile_definitions.get(profile))
    reads: list[ReadItem] = []
    skipped: list[SkippedRead] = []
    for source in ("hyperliquid", "polymarket", "defillama"):
        replaced = getattr(override.sources, source) if override and override.sources else None
        if replaced is not None:
            blocks, block_origin = replaced, "per-asset"
            where: tuple[str | int, ...] = ("assetOverrides", override_key or "", "sources")
        else:
            blocks, block_origin = getattr(node.sources, source), "data-stream"
            where = ("sources",)
        for j, block in enumerate(blocks):
            path = ("nodes", stream.index, *where, source, j)
            settings = resolve_block(
                block,
                definition=definition,
                customised=customised,
                profile_origin=profile_origin,
                block_origin=block_origin,  # type: ignore[arg-type]
            )
            common = {
                "symbol": asset.symbol,
                "lookback": settings.lookback,
                "profile": profile,
                "origin": settings.origin,
                "node_id": node.id,
                "include_in_prompt": block.include_in_prompt,
            }
            if isinstance(block, PolymarketBlock):
                specific = {"source": "polymarket", "channel": "markets", "scope": block.scope,
                            "context_symbol": block.target}  # fmt: skip
            elif isinstance(block, DefiLlamaBlock):
                specific = {"source": "defillama", "channel": block.channel, "scope": block.scope,
                            "context_symbol": block.context_subject}  # fmt: skip
            else:
                target = _hyperliquid_target(block, asset, symbols, strict, node.id)
                if target is None:
                    continue
                reason = unsupported_reason(target, block.channel)
                if reason is not None:
                    skip = SkippedRead(node.id, path, block.channel, target.symbol, reason)
                    skipped.append(skip)
                    continue
                specific = {"source": "hyperliquid", "channel": block.channel,
                            "context_symbol": target.symbol,
                            "granularity": settings.granularity}  # fmt: skip
            reads.append(ReadItem(**common, **specific))
    return reads, skipped


def _hyperliquid_target(
    block: HyperliquidBlock, asset: AssetInfo, symbols: SymbolIndex, strict: bool, node_id: str
) -> AssetInfo | None:
    """The asset a block reads (None: unknown and tolerant)."""
    if block.asset == SAME_ASSET:
        return asset
    resolved = symbols.resolve(block.asset)
    if resolved is None:
        if strict:
            raise InvalidInputError(f"data stream {node_id!r}: unknown symbols: {block.asset}")
        return None
    return symbols.assets[resolved]


def _read_key(read: ReadItem) -> tuple[Any, ...]:
    return (
        _SOURCE_ORDER.get(read.source, 9),
        _CHANNEL_ORDER.get(read.channel, 99),
        read.context_symbol,
        _GRANULARITY_ORDER.get(read.granularity or "", -1),
        read.scope or "",
    )


def _merge(reads: Iterable[ReadItem]) -> tuple[ReadItem, ...]:
    """One read per (source, channel, subject, granularity, scope), in the stable order."""
    groups: dict[tuple[Any, ...], list[ReadItem]] = {}
    for read in reads:
        groups.setdefault(_read_key(read), []).append(read)
    merged = []
    for key in sorted(groups):
        group = groups[key]
        best = min(group, key=lambda r: (-r.lookback, r.node_id))
        include = any(r.include_in_prompt for r in group)
        merged.append(dataclasses.replace(best, include_in_prompt=include))
    return tuple(merged)


def compile_strategies(
    graph: PipelineGraph,
    *,
    assets: Sequence[AssetInfo],
    taxonomy: Taxonomy | None,
    strict: bool = True,
    variant: Variant | None = None,
) -> tuple[list[CompiledStrategy], list[SkippedRead]]:
    """Every trading prompt's strategy (sorted by node id) and every skipped read.

    ``strict=False`` leaves unknown names out instead of raising (validation uses this to keep
    checking a graph that already has reported problems). ``variant`` (the clone's) applies to
    trading prompts that name none (see ``clones.variants`` for how a variant merges).
    """
    assets = list(assets)
    symbols = SymbolIndex(assets)
    topology = _Topology(graph)
    selections = {
        n.id: resolve_selection(n, assets, taxonomy, strict=strict)
        for n in topology.of_type("asset_selection")
    }
    streams = {
        n.id: _stream(n, topology.index[n.id], symbols, strict)
        for n in topology.of_type("data_stream")
    }
    strategies: list[CompiledStrategy] = []
    all_skipped: dict[tuple[Any, ...], SkippedRead] = {}
    for prompt in topology.of_type("trading_prompt"):
        picked: dict[str, tuple[str, list[str]]] = {}  # symbol → (source, selection node ids)
        for selection_id in topology.upstream.get(prompt.id, []):
            for item in selections[selection_id]:
                _, via = picked.setdefault(item.asset.symbol, (item.source, []))
                via.append(selection_id)
        order = sorted(picked, key=lambda s: (s.casefold(), s))
        read_plans: dict[str, tuple[ReadItem, ...]] = {}
        skipped: set[str] = set()
        for symbol in order:
            stream_ids = sorted(
                {d for a in picked[symbol][1] for d in topology.upstream.get(a, [])}
            )
            reads: list[ReadItem] = []
            for stream_id in stream_ids:
                got, dropped = _stream_reads(
                    streams[stream_id], symbols.assets[symbol], symbols, strict
                )
                reads.extend(got)
                for skip in dropped:
                    skipped.add(skip.label)
                    all_skipped.setdefault((skip.path, skip.symbol), skip)
            read_plans[symbol] = _merge(reads)
        strategy = _strategy(prompt, order, picked, read_plans, skipped, symbols, variant)
        strategies.append(strategy)
    return strategies, list(all_skipped.values())


def _strategy(
    prompt: TradingPromptNode,
    order: list[str],
    picked: Mapping[str, tuple[str, list[str]]],
    read_plans: dict[str, tuple[ReadItem, ...]],
    skipped: set[str],
    symbols: SymbolIndex,
    clone_variant: Variant | None,
) -> CompiledStrategy:
    variant = Variant(prompt.variant) if prompt.variant else clone_variant
    asset_prompts: dict[str, str] = {}
    for key, override in prompt.asset_overrides.items():
        symbol = symbols.resolve(key)
        if symbol in picked:
            asset_prompts.setdefault(symbol, merged_prompt(variant, override.prompt))
    policy = prompt.candidate_policy
    return CompiledStrategy(
        strategy_id=prompt.id,
        enabled=prompt.enabled,
        engine=prompt.engine,
        cadence_s=prompt.decision_cadence_sec,
        behavior_prompt=merged_prompt(variant, prompt.custom_behavior_prompt),
        coverage_mode=prompt.coverage_mode,
        candidate_policy=CandidatePolicy(
            max_candidates=min(policy.max_candidates, MAX_CANDIDATES), prefilter=policy.prefilter
        ),
        universe=tuple(UniverseEntry(s, picked[s][0]) for s in order),
        read_plans=read_plans,
        asset_prompts={s: asset_prompts[s] for s in order if s in asset_prompts},
        engine_params=merged_params(variant, prompt.engine_params, prompt.engine),
        variant=variant.value if variant else None,
        skipped=tuple(sorted(skipped)),
    )


def compile_pipeline(
    graph: PipelineGraph | Mapping[str, Any] | str,
    *,
    clone_id: int,
    version: int,
    assets: Sequence[AssetInfo],
    taxonomy: Taxonomy | None,
    variant: Variant | None = None,
) -> CompiledPipeline:
    """Compile a (validated) graph against the registry's already-categorised ``assets``;
    ``variant`` is the clone's, for trading prompts that name none.

    Deterministic: the same inputs give an equal result. Raises InvalidInputError when the
    document is malformed or names an unknown symbol, category or subcategory.
    """
    if not isinstance(graph, PipelineGraph):
        graph = parse_pipeline(graph)
    strategies, _ = compile_strategies(graph, assets=assets, taxonomy=taxonomy, variant=variant)
    return CompiledPipeline(clone_id=clone_id, version=version, strategies=tuple(strategies))


def select_candidates(
    strategy: CompiledStrategy,
    *,
    open_position_symbols: Iterable[str],
    metrics: Mapping[str, float],
    max_candidates: int | None = None,
) -> list[str]:
    """The symbols to decide this run, in decision order, at most the cap (policy default,
    ``max_candidates`` when given, never above 25).

    Only universe symbols the coverage mode gives a prompt are candidates; a disabled strategy
    has none. Open positions come first (by symbol), then the rest of the universe: in universe
    order with prefilter ``none``, else by ``metrics`` (volatility or volume per symbol)
    descending, ties and missing or non-finite values resolved by universe order.
    """
    if not strategy.enabled:
        return []
    cap = strategy.candidate_policy.max_candidates if max_candidates is None else max_candidates
    cap = max(0, min(cap, MAX_CANDIDATES))
    covered = [e.symbol for e in strategy.universe if strategy.prompt_for(e.symbol) is not None]
    held = set(open_position_symbols)
    first = [s for s in covered if s in held]
    rest = [s for s in covered if s not in held]
    if strategy.candidate_policy.prefilter != "none":
        rank = {s: i for i, s in enumerate(rest)}

        def score(symbol: str) -> tuple[int, float, int]:
            value = metrics.get(symbol)
            ok = isinstance(value, int | float) and math.isfinite(value)
            return (0 if ok else 1, -float(value) if ok else 0.0, rank[symbol])  # type: ignore[arg-type]

        rest.sort(key=score)
    return [*first, *rest][:cap]


def compiled_to_dict(pipeline: CompiledPipeline) -> dict[str, Any]:
    """The compiled pipeline as plain JSON-ready data (snake_case keys, tuples as lists)."""
    return dataclasses.asdict(pipeline)
