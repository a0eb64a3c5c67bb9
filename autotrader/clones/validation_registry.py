"""Registry-dependent checks of a parsed pipeline, mixed into the validator.

Names (symbols, categories, subcategories) are resolved exactly as the compiler resolves them,
and the graph is compiled tolerantly (unknown names left out) to find unsupported channel/asset
pairs, empty or inactive selections and each enabled prompt's universe for the capacity check.
Only nodes whose schema is valid get here; a node with schema errors reports those first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from autotrader.clones.compiler import CATEGORY_PREFIX, compile_strategies
from autotrader.clones.graph import SAME_ASSET, Edge, PipelineGraph
from autotrader.clones.universe import (
    SELECTION_FIELDS,
    SymbolIndex,
    known_names,
    resolve_selection,
)
from autotrader.market.models import AssetInfo
from autotrader.market.taxonomy import Taxonomy

Path = Sequence[str | int]

_UNKNOWN_NAME = {"categories": "unknown_category", "subcategories": "unknown_subcategory"}
# DefiLlama pairs ingestion produces (see market.sources.defillama); others read nothing.
_DEFILLAMA_SCOPES = {
    "tvl": {"global", "chain", "protocol"},
    "flows": {"global", "chain", "protocol"},
    "dex": {"global", "protocol"},
    "fees": {"global", "protocol"},
    "stablecoins": {"global", "stablecoin"},
    "open_interest": {"global", "protocol"},
}


class RegistryChecks:
    """Checks that need the registry. The validator provides ``add``/``warn`` and the state."""

    assets: list[AssetInfo]
    taxonomy: Taxonomy | None
    symbols: SymbolIndex
    parsed: list[tuple[int, Any]]  # (document index, node model), first of each id
    universe: set[str]  # union over enabled trading prompts, filled by ``_compiled``

    def add(self, path: Path, code: str, reason: str, *,
            node_id: str | None = None, severity: str = "error") -> None:  # fmt: skip
        raise NotImplementedError

    def warn(self, path: Path, code: str, reason: str, *,
             node_id: str | None = None) -> None:  # fmt: skip
        raise NotImplementedError

    def _symbol(self, path: Path, name: str, node_id: str) -> str | None:
        symbol = self.symbols.resolve(name)
        if symbol is None:
            self.add(path, "unknown_symbol", f"unknown symbol {name!r}", node_id=node_id)
        return symbol

    def _check_asset_selection(self, i: int, node: Any) -> None:
        for attribute, key, keyword in SELECTION_FIELDS:
            names = getattr(node, attribute)
            for j, (name, ok) in enumerate(
                zip(names, known_names(names, keyword, self.assets, self.taxonomy), strict=True)
            ):
                if not ok:
                    code = _UNKNOWN_NAME.get(keyword, "unknown_symbol")
                    label = code.removeprefix("unknown_")
                    self.add(["nodes", i, key, j], code, f"unknown {label} {name!r}",
                             node_id=node.id)  # fmt: skip
        enabled = {self.symbols.resolve(s) for s in node.explicitly_enabled_symbols}
        for j, name in enumerate(node.explicitly_disabled_symbols):
            if self.symbols.resolve(name) in enabled - {None}:
                self.warn(["nodes", i, "explicitlyDisabledSymbols", j], "conflicting_symbol",
                          f"{name} is both enabled and disabled; disabled wins",
                          node_id=node.id)  # fmt: skip

    def _check_data_stream(self, i: int, node: Any) -> None:
        blocks = [(("sources",), node.sources)]
        seen: dict[str, str] = {}
        for key, override in node.asset_overrides.items():
            symbol = self._symbol(["nodes", i, "assetOverrides", key], key, node.id)
            if symbol is not None and seen.setdefault(symbol, key) != key:
                self.add(["nodes", i, "assetOverrides", key], "duplicate_override",
                         f"{key!r} and {seen[symbol]!r} both name {symbol}",
                         node_id=node.id)  # fmt: skip
            if override.sources is not None:
                blocks.append((("assetOverrides", key, "sources"), override.sources))
        for where, sources in blocks:
            for j, block in enumerate(sources.hyperliquid or []):
                if block.asset != SAME_ASSET:
                    path = ["nodes", i, *where, "hyperliquid", j, "asset"]
                    self._symbol(path, block.asset, node.id)
            for j, block in enumerate(sources.defillama or []):
                if block.scope not in _DEFILLAMA_SCOPES[block.channel]:
                    self.warn(["nodes", i, *where, "defillama", j], "unsupported_scope",
                              f"DefiLlama {block.channel} is not ingested at {block.scope} scope; "
                              "this read will find no rows", node_id=node.id)  # fmt: skip
        for key in node.asset_profiles:
            path = ["nodes", i, "assetProfiles", key]
            if key.startswith(CATEGORY_PREFIX):
                name = key[len(CATEGORY_PREFIX) :]
                if not known_names([name], "categories", self.assets, self.taxonomy)[0]:
                    self.add(path, "unknown_category", f"unknown category {name!r}",
                             node_id=node.id)  # fmt: skip
            else:
                self._symbol(path, key, node.id)
        if not any((node.sources.hyperliquid, node.sources.polymarket, node.sources.defillama)):
            self.warn(["nodes", i, "sources"], "empty_data_stream", "this data stream reads "
                      "nothing (only per-asset overrides, if any)", node_id=node.id)  # fmt: skip

    def _check_trading_prompt(self, i: int, node: Any) -> None:
        seen: dict[str, str] = {}
        for key in node.asset_overrides:
            path = ["nodes", i, "assetOverrides", key]
            symbol = self._symbol(path, key, node.id)
            if symbol is not None and seen.setdefault(symbol, key) != key:
                self.add(path, "duplicate_override", f"{key!r} and {seen[symbol]!r} both name "
                         f"{symbol}", node_id=node.id)  # fmt: skip
        if node.coverage_mode == "global" and node.asset_overrides:
            self.warn(["nodes", i, "assetOverrides"], "override_ignored", "coverage mode "
                      "'global' ignores per-asset prompts", node_id=node.id)  # fmt: skip
        if node.coverage_mode == "asset_specific_only" and not node.asset_overrides:
            self.warn(["nodes", i, "coverageMode"], "no_coverage", "asset_specific_only with no "
                      "per-asset prompt decides no asset", node_id=node.id)  # fmt: skip

    # -- compiled view: universes, skipped reads, capacity ----------------------------------------

    def _compiled(self, allowed: list[Edge]) -> None:
        positions = [i for i, _ in self.parsed]  # compiled node index → document index
        graph = PipelineGraph.model_construct(
            version=1, nodes=[node for _, node in self.parsed], edges=allowed
        )
        strategies, skipped = compile_strategies(
            graph, assets=self.assets, taxonomy=self.taxonomy, strict=False
        )
        for skip in skipped:
            path = ["nodes", positions[int(skip.path[1])], *skip.path[2:]]
            self.warn(path, "unsupported_channel", f"{skip.label} skipped at compile: "
                      f"{skip.reason}", node_id=skip.node_id)  # fmt: skip
        by_id = {node.id: (i, node) for i, node in self.parsed}
        for strategy in strategies:
            symbols = {entry.symbol for entry in strategy.universe}
            if strategy.enabled:
                self.universe |= symbols
            i, node = by_id[strategy.strategy_id]
            if node.coverage_mode == "global":
                continue
            for key in node.asset_overrides:
                if self.symbols.resolve(key) not in symbols | {None}:
                    self.warn(["nodes", i, "assetOverrides", key], "override_unused",
                              f"{key} is not in this prompt's universe",
                              node_id=node.id)  # fmt: skip
        self._selections()

    def _selections(self) -> None:
        for i, node in self.parsed:
            if node.type != "asset_selection":
                continue
            picked = resolve_selection(node, self.assets, self.taxonomy, strict=False)
            if not picked:
                self.warn(["nodes", i], "empty_selection", "this selection selects no asset",
                          node_id=node.id)  # fmt: skip
            inactive = [s.asset.symbol for s in picked if not s.asset.active]
            if inactive:
                names = ", ".join(inactive)
                self.warn(["nodes", i], "inactive_asset", "inactive markets are selected (gates "
                          f"refuse new positions): {names}", node_id=node.id)  # fmt: skip

    def check_capacity(self, limit: int | None) -> None:
        if limit is not None and len(self.universe) > limit:
            self.add(["nodes"], "capacity_exceeded", f"the graph enables {len(self.universe)} "
                     f"active assets; this clone's capacity is {limit}")  # fmt: skip
