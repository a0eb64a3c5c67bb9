"""Built-in data-stream profiles and how one block's effective settings are resolved.

A profile is a named retrieval depth: how many bars, at which granularity, each channel reads
when a block does not say. Three are built in (values chosen to fit the hot retention of
market memory: 24 h of 1m candles, 7 days of 1h candles):

==========================  ========  ==========  ========
field                       fast      balanced    deep
==========================  ========  ==========  ========
ohlcvGranularity            1m        1h          1h
ohlcvLookback (bars)        60        24          168
indicatorsGranularity       1m        1m          1h
indicatorsLookback (bars)   15        60          48
fundingLookback (obs.)      4         24          72
polymarketLimit (markets)   3         5           10
defillamaLookback (obs.)    1         3           7
==========================  ========  ==========  ========

Precedence, highest first, for a block read on behalf of decided asset ``S``:

1. **per-asset** — ``assetOverrides[S]`` of the data stream: its block lists replace the node's
   for that asset, and its ``profile`` picks the profile;
2. **asset-profile** — ``assetProfiles[S]``, then ``assetProfiles["category:<S's category>"]``;
3. **data-stream** — the node's ``profile`` (and its ``profileDefinitions`` edits);
4. **built-in** — the default profile (``balanced``) with the built-in values above.

An explicit block field (``lookback``, ``granularity``, ``limit``) always wins over the profile's
default; it belongs to the level of the block that holds it (per-asset for a block inside
``assetOverrides``, data-stream otherwise). A read's ``origin`` is the highest level that set
any of its resolved fields. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from types import MappingProxyType
from typing import Literal

from autotrader.clones.graph import (
    DefiLlamaBlock,
    HyperliquidBlock,
    PolymarketBlock,
    ProfileDefinitionPatch,
)
from autotrader.clones.plan import Profile

Origin = Literal["per-asset", "asset-profile", "data-stream", "built-in"]
ORIGIN_RANK: dict[str, int] = {"built-in": 0, "data-stream": 1, "asset-profile": 2, "per-asset": 3}
DEFAULT_PROFILE: Profile = "balanced"


@dataclass(frozen=True, slots=True)
class ProfileDefinition:
    """What a profile reads by default, channel by channel (lookbacks are counts, not time)."""

    ohlcv_granularity: str
    ohlcv_lookback: int
    indicators_granularity: str
    indicators_lookback: int
    funding_lookback: int
    polymarket_limit: int
    defillama_lookback: int


BUILTIN_PROFILES: MappingProxyType[str, ProfileDefinition] = MappingProxyType(
    {
        "fast": ProfileDefinition("1m", 60, "1m", 15, 4, 3, 1),
        "balanced": ProfileDefinition("1h", 24, "1m", 60, 24, 5, 3),
        "deep": ProfileDefinition("1h", 168, "1h", 48, 72, 10, 7),
    }
)


@dataclass(frozen=True, slots=True)
class ResolvedSettings:
    """A block's effective settings and the precedence level that set them."""

    lookback: int
    granularity: str | None
    origin: Origin


def effective_definition(
    profile: str, patch: ProfileDefinitionPatch | None = None
) -> tuple[ProfileDefinition, frozenset[str]]:
    """The built-in definition of ``profile`` with a data stream's edits applied, and the names
    of the fields the edits changed. Raises KeyError for an unknown profile name."""
    base = BUILTIN_PROFILES[profile]
    if patch is None:
        return base, frozenset()
    edits = {f.name: getattr(patch, f.name) for f in fields(base)}
    edits = {name: value for name, value in edits.items() if value is not None}
    return replace(base, **edits), frozenset(edits)


def choose_profile(
    *,
    per_asset: str | None = None,
    asset: str | None = None,
    group: str | None = None,
    stream: str | None = None,
) -> tuple[Profile, Origin]:
    """The profile for one decided asset and the level that chose it, by precedence:
    per-asset override > asset assignment > group (category) assignment > stream default >
    the built-in default."""
    if per_asset is not None:
        return per_asset, "per-asset"  # type: ignore[return-value]
    if asset is not None:
        return asset, "asset-profile"  # type: ignore[return-value]
    if group is not None:
        return group, "asset-profile"  # type: ignore[return-value]
    if stream is not None:
        return stream, "data-stream"  # type: ignore[return-value]
    return DEFAULT_PROFILE, "built-in"


def _pick(
    explicit: int | str | None,
    block_origin: Origin,
    default: int | str,
    field_name: str,
    customised: frozenset[str],
    profile_origin: Origin,
) -> tuple[int | str, Origin]:
    if explicit is not None:
        return explicit, block_origin
    # An edited definition field was set by the data stream even when the profile itself is
    # the built-in default, so it can raise a "built-in" origin to "data-stream".
    if field_name in customised and ORIGIN_RANK[profile_origin] < ORIGIN_RANK["data-stream"]:
        return default, "data-stream"
    return default, profile_origin


def _highest(*origins: Origin) -> Origin:
    return max(origins, key=ORIGIN_RANK.__getitem__)


def resolve_block(
    block: HyperliquidBlock | PolymarketBlock | DefiLlamaBlock,
    *,
    definition: ProfileDefinition,
    customised: frozenset[str] = frozenset(),
    profile_origin: Origin = "built-in",
    block_origin: Origin = "data-stream",
) -> ResolvedSettings:
    """Effective lookback/granularity of ``block`` under a profile definition.

    ``profile_origin`` is the level that chose the profile (:func:`choose_profile`),
    ``block_origin`` the level of the block itself (``per-asset`` or ``data-stream``).
    Funding, Polymarket and DefiLlama reads have no granularity (None).
    """
    pick = _pick
    if isinstance(block, PolymarketBlock):
        limit, origin = pick(
            block.limit,
            block_origin,
            definition.polymarket_limit,
            "polymarket_limit",
            customised,
            profile_origin,
        )
        return ResolvedSettings(int(limit), None, origin)
    if isinstance(block, DefiLlamaBlock):
        lookback, origin = pick(
            block.lookback,
            block_origin,
            definition.defillama_lookback,
            "defillama_lookback",
            customised,
            profile_origin,
        )
        return ResolvedSettings(int(lookback), None, origin)
    if block.channel == "funding":
        lookback, origin = pick(
            block.lookback,
            block_origin,
            definition.funding_lookback,
            "funding_lookback",
            customised,
            profile_origin,
        )
        return ResolvedSettings(int(lookback), None, origin)
    prefix = block.channel  # "ohlcv" | "indicators"
    lookback, lookback_origin = pick(
        block.lookback,
        block_origin,
        getattr(definition, f"{prefix}_lookback"),
        f"{prefix}_lookback",
        customised,
        profile_origin,
    )
    granularity, granularity_origin = pick(
        block.granularity,
        block_origin,
        getattr(definition, f"{prefix}_granularity"),
        f"{prefix}_granularity",
        customised,
        profile_origin,
    )
    return ResolvedSettings(
        int(lookback), str(granularity), _highest(lookback_origin, granularity_origin)
    )
