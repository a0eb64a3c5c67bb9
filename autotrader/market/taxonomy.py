"""The curated asset taxonomy: which category and subcategories each market belongs to.

The package ships ``autotrader/data/taxonomy.json`` (versioned, hand-curated). This module
loads and validates it, applies it to registry assets (:func:`categorize`) and resolves an
asset selection made of categories, subcategories and explicit symbols (:func:`select`, used
by the strategy graph's asset-selection node). Everything except :func:`load_taxonomy` is pure.

Lookup rules, in order, for an asset:

1. the perp ticker itself (``"BTC"``, ``"kPEPE"``);
2. the base token (spot ``"PURR/USDC"`` → ``"PURR"``);
3. a Hyperliquid ``k``-prefixed ticker (1000 units, e.g. ``"kPEPE"``) without its prefix,
   when the prefixed name itself is not in the taxonomy.

An asset the taxonomy does not know is ``"uncategorized"`` with no subcategories.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from autotrader.core.errors import InvalidInputError
from autotrader.market.models import AssetInfo

UNCATEGORIZED = "uncategorized"
SUPPORTED_VERSIONS = frozenset({1})
_TOP_LEVEL_KEYS = frozenset({"version", "description", "categories", "assets"})
_ASSET_KEYS = frozenset({"category", "subcategories"})

_Fail = Callable[[str], ValueError]  # builds a one-line ValueError naming the file


@dataclass(frozen=True, slots=True)
class AssetCategory:
    """The taxonomy entry of one ticker."""

    category: str
    subcategories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """A validated taxonomy. Mappings are read-only; ``categories`` keeps the file's order."""

    version: int
    categories: Mapping[str, str]  # name -> human description
    assets: Mapping[str, AssetCategory]  # ticker (no "k" prefix needed) -> entry
    source: str = "<memory>"  # where it was loaded from, for messages

    def lookup(self, asset: AssetInfo) -> AssetCategory | None:
        """The entry for ``asset`` following the module's lookup rules, or None."""
        for name in _candidate_names(asset):
            entry = self.assets.get(name)
            if entry is not None:
                return entry
        return None


class Selection(NamedTuple):
    """One selected asset and why it was selected: ``"category:L1"``,
    ``"subcategory:Dog theme"`` or ``"enabled"``."""

    asset: AssetInfo
    source: str


# -- loading --------------------------------------------------------------------------------------


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load and validate a taxonomy file; the shipped one when ``path`` is None (cached).

    Raises ValueError with a one-line message naming the problem (malformed JSON, wrong
    types, an asset referencing an unknown category, ...).
    """
    if path is None:
        return _load_packaged()
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"taxonomy {file}: cannot read: {exc.strerror or exc}") from exc
    return parse_taxonomy(text, source=str(file))


@lru_cache(maxsize=1)
def _load_packaged() -> Taxonomy:
    resource = resources.files("autotrader").joinpath("data", "taxonomy.json")
    return parse_taxonomy(
        resource.read_text(encoding="utf-8"), source="autotrader/data/taxonomy.json"
    )


def parse_taxonomy(text: str, *, source: str = "<memory>") -> Taxonomy:
    """Validate taxonomy JSON text and build a :class:`Taxonomy` (ValueError, one line)."""

    def fail(message: str) -> ValueError:
        return ValueError(f"taxonomy {source}: {message}")

    try:
        data = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except _DuplicateKeyError as exc:
        raise fail(f"duplicate key {exc.key!r}") from None
    except json.JSONDecodeError as exc:
        raise fail(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None

    if not isinstance(data, dict):
        raise fail(f"top level must be an object, got {_type_name(data)}")
    extra = sorted(set(data) - _TOP_LEVEL_KEYS)
    if extra:
        raise fail(f"unknown top-level keys: {', '.join(extra)}")
    missing = [key for key in ("version", "categories", "assets") if key not in data]
    if missing:
        raise fail(f"missing top-level keys: {', '.join(missing)}")

    version = data["version"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise fail(f"'version' must be an integer, got {_type_name(version)}")
    if version not in SUPPORTED_VERSIONS:
        raise fail(f"unsupported version {version} (supported: {sorted(SUPPORTED_VERSIONS)})")
    if "description" in data and not isinstance(data["description"], str):
        raise fail(f"'description' must be a string, got {_type_name(data['description'])}")

    categories = _parse_categories(data["categories"], fail)
    assets = _parse_assets(data["assets"], categories, fail)
    return Taxonomy(
        version=version,
        categories=MappingProxyType(categories),
        assets=MappingProxyType(assets),
        source=source,
    )


def _parse_categories(raw: Any, fail: _Fail) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise fail(f"'categories' must be an object, got {_type_name(raw)}")
    categories: dict[str, str] = {}
    folded: dict[str, str] = {}
    for name, description in raw.items():
        if not name.strip() or name != name.strip():
            raise fail(f"category name {name!r} is blank or has surrounding spaces")
        if name.casefold() == UNCATEGORIZED:
            raise fail(f"category name {name!r} is reserved")
        if name.casefold() in folded:
            raise fail(f"categories {folded[name.casefold()]!r} and {name!r} differ only in case")
        if not isinstance(description, str):
            raise fail(
                f"category {name!r}: description must be a string, got {_type_name(description)}"
            )
        folded[name.casefold()] = name
        categories[name] = description
    return categories


def _parse_assets(raw: Any, categories: Mapping[str, str], fail: _Fail) -> dict[str, AssetCategory]:
    if not isinstance(raw, dict):
        raise fail(f"'assets' must be an object, got {_type_name(raw)}")
    assets: dict[str, AssetCategory] = {}
    spellings: dict[str, str] = {}  # casefolded subcategory -> first spelling seen
    unknown: list[str] = []
    for ticker, entry in raw.items():
        where = f"asset {ticker!r}"
        if not ticker.strip() or ticker != ticker.strip():
            raise fail(f"{where}: ticker is blank or has surrounding spaces")
        if not isinstance(entry, dict):
            raise fail(f"{where} must be an object, got {_type_name(entry)}")
        extra = sorted(set(entry) - _ASSET_KEYS)
        if extra:
            raise fail(f"{where}: unknown keys: {', '.join(extra)}")
        category = entry.get("category")
        if not isinstance(category, str):
            raise fail(f"{where}: 'category' must be a string, got {_type_name(category)}")
        if category not in categories:
            unknown.append(f"{category!r} (asset {ticker})")
        subs = entry.get("subcategories", [])
        if not isinstance(subs, list):
            raise fail(f"{where}: 'subcategories' must be a list, got {_type_name(subs)}")
        for sub in subs:
            if not isinstance(sub, str) or not sub.strip() or sub != sub.strip():
                raise fail(f"{where}: subcategory {sub!r} must be a non-blank trimmed string")
            first = spellings.setdefault(sub.casefold(), sub)
            if first != sub:
                raise fail(f"{where}: subcategory {sub!r} is spelled {first!r} elsewhere")
        if len(set(subs)) != len(subs):
            raise fail(f"{where}: repeated subcategory")
        assets[ticker] = AssetCategory(category=category, subcategories=tuple(subs))
    if unknown:
        raise fail(f"unknown category referenced: {', '.join(unknown)}")
    return assets


class _DuplicateKeyError(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def _type_name(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), type(value).__name__)


# -- applying -------------------------------------------------------------------------------------


def _candidate_names(asset: AssetInfo) -> list[str]:
    """Ticker names to try for ``asset``, most specific first (see the module docstring)."""
    names: list[str] = []
    if asset.kind == "perp":
        names.append(asset.symbol)
    names.append(asset.base or asset.symbol.split("/", 1)[0])
    if "/" in asset.symbol:
        names.append(asset.symbol.split("/", 1)[0])
    unprefixed = [n[1:] for n in names if len(n) > 1 and n[0] == "k" and not n[1].islower()]
    ordered = [*names, *unprefixed, *(n.upper() for n in names)]
    return list(dict.fromkeys(n for n in ordered if n))


def categorize(asset: AssetInfo, taxonomy: Taxonomy) -> AssetInfo:
    """A copy of ``asset`` with the taxonomy's category and subcategories (or uncategorized)."""
    entry = taxonomy.lookup(asset)
    if entry is None:
        return replace(asset, category=UNCATEGORIZED, subcategories=())
    return replace(asset, category=entry.category, subcategories=entry.subcategories)


def categories(taxonomy: Taxonomy) -> list[tuple[str, str]]:
    """Every (category, description) in the file's curated order."""
    return list(taxonomy.categories.items())


def subcategories(taxonomy: Taxonomy) -> list[str]:
    """Every distinct subcategory label, sorted case-insensitively."""
    return _sorted_labels(s for entry in taxonomy.assets.values() for s in entry.subcategories)


def _sorted_labels(labels: Iterable[str]) -> list[str]:
    return sorted(set(labels), key=lambda s: (s.casefold(), s))


# -- selecting ------------------------------------------------------------------------------------


def select(
    assets: Iterable[AssetInfo],
    *,
    categories: Sequence[str] = (),
    subcategories: Sequence[str] = (),
    enabled: Sequence[str] = (),
    disabled: Sequence[str] = (),
    taxonomy: Taxonomy | None = None,
) -> list[Selection]:
    """Resolve an asset selection over already-categorised ``assets``.

    The result is the union of the assets in ``categories``, the assets carrying any of
    ``subcategories`` and the ``enabled`` symbols, minus the ``disabled`` symbols, sorted by
    symbol (case-insensitively). Each item says why it was selected; when several rules match,
    the first of category, subcategory (in the order given), enabled wins. Names match
    case-insensitively and surrounding spaces and empty names are ignored.

    Category and subcategory names are known when some asset carries them, or, when
    ``taxonomy`` is given, when the taxonomy defines them (so a valid category with no
    registered asset selects nothing instead of failing). Symbols are known when they are
    among ``assets``. Every unknown name is reported at once in one InvalidInputError line,
    e.g. ``unknown categories: Foo; unknown symbols: XYZ``.
    """
    by_symbol: dict[str, AssetInfo] = {}
    for asset in assets:
        by_symbol.setdefault(asset.symbol, asset)

    known_categories = {a.category for a in by_symbol.values()}
    known_subcategories = {s for a in by_symbol.values() for s in a.subcategories}
    if taxonomy is not None:
        known_categories |= {*taxonomy.categories, UNCATEGORIZED}
        known_subcategories |= {s for e in taxonomy.assets.values() for s in e.subcategories}

    wanted_categories, bad_categories = _resolve_names(categories, known_categories)
    wanted_subcategories, bad_subcategories = _resolve_names(subcategories, known_subcategories)
    wanted_enabled, bad_enabled = _resolve_names(enabled, by_symbol, exact_first=True)
    wanted_disabled, bad_disabled = _resolve_names(disabled, by_symbol, exact_first=True)

    problems = [
        (label, names)
        for label, names in (
            ("categories", bad_categories),
            ("subcategories", bad_subcategories),
            ("symbols", list(dict.fromkeys([*bad_enabled, *bad_disabled]))),
        )
        if names
    ]
    if problems:
        raise InvalidInputError(
            "; ".join(f"unknown {label}: {', '.join(names)}" for label, names in problems)
        )

    category_set = {c.casefold() for c in wanted_categories}
    subcategory_order = [s.casefold() for s in wanted_subcategories]
    enabled_set = set(wanted_enabled)
    disabled_set = set(wanted_disabled)

    selected: list[Selection] = []
    for symbol, asset in by_symbol.items():
        if symbol in disabled_set:
            continue
        source = _source(asset, category_set, subcategory_order, symbol in enabled_set)
        if source is not None:
            selected.append(Selection(asset, source))
    selected.sort(key=lambda item: (item.asset.symbol.casefold(), item.asset.symbol))
    return selected


def _source(
    asset: AssetInfo, category_set: set[str], subcategory_order: list[str], enabled: bool
) -> str | None:
    if asset.category.casefold() in category_set:
        return f"category:{asset.category}"
    own = {s.casefold(): s for s in asset.subcategories}
    for wanted in subcategory_order:
        if wanted in own:
            return f"subcategory:{own[wanted]}"
    return "enabled" if enabled else None


def _resolve_names(
    requested: Iterable[str], known: Iterable[str], *, exact_first: bool = False
) -> tuple[list[str], list[str]]:
    """Map user-typed names to known names (case-insensitive); return (resolved, unknown).

    With ``exact_first`` an exact match wins over a case-insensitive one (symbols such as
    ``kPEPE`` are case-sensitive at the exchange, but users may type ``KPEPE``).
    """
    known_list = list(known)
    exact = set(known_list)
    folded: dict[str, str] = {}
    for name in sorted(known_list):
        folded.setdefault(name.casefold(), name)
    resolved: list[str] = []
    unknown: list[str] = []
    for raw in requested:
        name = raw.strip()
        if not name:
            continue
        if exact_first and name in exact:
            match: str | None = name
        else:
            match = folded.get(name.casefold())
        if match is None:
            unknown.append(name)
        else:
            resolved.append(match)
    return list(dict.fromkeys(resolved)), list(dict.fromkeys(unknown))
