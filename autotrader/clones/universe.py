"""Resolving names against the asset registry: selections, symbols, channel support.

Shared by the compiler and save-time validation so both read a graph the same way. Pure: the
registry's (already categorised) assets and the taxonomy are passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from autotrader.clones.graph import AssetSelectionNode
from autotrader.core.errors import InvalidInputError
from autotrader.market.models import AssetInfo
from autotrader.market.taxonomy import Selection, Taxonomy, select

SELECTION_FIELDS = (  # node attribute, JSON key, taxonomy.select keyword
    ("high_level_categories", "highLevelCategories", "categories"),
    ("subcategories", "subcategories", "subcategories"),
    ("explicitly_enabled_symbols", "explicitlyEnabledSymbols", "enabled"),
    ("explicitly_disabled_symbols", "explicitlyDisabledSymbols", "disabled"),
)


def unsupported_reason(asset: AssetInfo, channel: str) -> str | None:
    """Why ``asset`` cannot serve a Hyperliquid ``channel`` (None: it can). The registry's
    channel list is the source of truth; indicators are derived from ohlcv candles."""
    if channel == "funding":
        if asset.kind != "perp":
            return f"funding rates exist for perps only; {asset.symbol} is {asset.kind}"
        if "funding" not in asset.channels:
            return f"{asset.symbol} has no funding channel in the registry"
        return None
    if "ohlcv" not in asset.channels:
        return f"{asset.symbol} has no ohlcv channel in the registry"
    return None


class SymbolIndex:
    """Registry symbols by name: an exact match first, then a case-insensitive one (the rule
    ``taxonomy.select`` applies to symbols)."""

    def __init__(self, assets: Iterable[AssetInfo]) -> None:
        self.assets: dict[str, AssetInfo] = {}
        for asset in assets:
            self.assets.setdefault(asset.symbol, asset)
        self._folded: dict[str, str] = {}
        for symbol in sorted(self.assets):
            self._folded.setdefault(symbol.casefold(), symbol)

    def resolve(self, name: str) -> str | None:
        name = name.strip()
        return name if name in self.assets else self._folded.get(name.casefold())


def known_names(
    names: Sequence[str], keyword: str, assets: Sequence[AssetInfo], taxonomy: Taxonomy | None
) -> list[bool]:
    """For each name, whether ``taxonomy.select`` knows it as a ``keyword`` (categories,
    subcategories, enabled or disabled symbol)."""
    flags = []
    for name in names:
        try:
            select(assets, taxonomy=taxonomy, **{keyword: [name]})
        except InvalidInputError:
            flags.append(False)
        else:
            flags.append(True)
    return flags


def resolve_selection(
    node: AssetSelectionNode,
    assets: Sequence[AssetInfo],
    taxonomy: Taxonomy | None,
    *,
    strict: bool = True,
) -> list[Selection]:
    """The assets ``node`` selects. Unknown names raise InvalidInputError naming the node, or
    with ``strict=False`` are left out (validation reports them on their own)."""
    kwargs = {keyword: list(getattr(node, attr)) for attr, _, keyword in SELECTION_FIELDS}
    try:
        return select(assets, taxonomy=taxonomy, **kwargs)
    except InvalidInputError as exc:
        if strict:
            raise InvalidInputError(f"asset selection {node.id!r}: {exc}") from None
    # Tolerant: keep the names the registry knows, one by one.
    for keyword, names in kwargs.items():
        flags = known_names(names, keyword, assets, taxonomy)
        kwargs[keyword] = [name for name, ok in zip(names, flags, strict=True) if ok]
    return select(assets, taxonomy=taxonomy, **kwargs)
