"""The shipped asset taxonomy, categorisation of registry assets and asset selection."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from autotrader.core.errors import InvalidInputError
from autotrader.market.models import AssetInfo
from autotrader.market.taxonomy import (
    UNCATEGORIZED,
    Selection,
    Taxonomy,
    categories,
    categorize,
    load_taxonomy,
    parse_taxonomy,
    select,
    subcategories,
)


def _perp(symbol: str) -> AssetInfo:
    return AssetInfo(
        symbol=symbol,
        ccxt_symbol=f"{symbol}/USDC:USDC",
        kind="perp",
        base=symbol,
        quote="USDC",
        settle="USDC",
        amount_step="0.001",
        price_tick="0.01",
        min_notional="10",
        max_leverage=20,
    )


def _spot(symbol: str) -> AssetInfo:
    base, quote = symbol.split("/")
    return AssetInfo(
        symbol=symbol,
        ccxt_symbol=symbol,
        kind="spot",
        base=base,
        quote=quote,
        settle=None,
        amount_step="1",
        price_tick="0.00001",
        min_notional="10",
        max_leverage=None,
    )


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


@pytest.fixture(scope="module")
def registry(taxonomy: Taxonomy) -> list[AssetInfo]:
    """A small categorised registry, deliberately not in symbol order."""
    symbols = ["SOL", "kPEPE", "BTC", "DOGE", "ETH", "ARB", "WIF", "ZZZNOPE", "ONDO"]
    return [categorize(_perp(s), taxonomy) for s in symbols] + [
        categorize(_spot("PURR/USDC"), taxonomy)
    ]


# -- the shipped file -----------------------------------------------------------------------------


def test_shipped_taxonomy_loads_with_the_expected_shape(taxonomy: Taxonomy) -> None:
    assert taxonomy.version == 1
    names = [name for name, _ in categories(taxonomy)]
    for required in ("L1", "L2", "DeFi", "Meme", "AI", "RWA", "Gaming", "Exchange"):
        assert required in names
    assert all(description for _, description in categories(taxonomy))
    assert len(taxonomy.assets) >= 120
    assert load_taxonomy() is taxonomy  # the packaged file is parsed once


def test_every_shipped_asset_references_a_known_category(taxonomy: Taxonomy) -> None:
    for ticker, entry in taxonomy.assets.items():
        assert entry.category in taxonomy.categories, ticker
        assert isinstance(entry.subcategories, tuple)


@pytest.mark.parametrize(
    ("ticker", "category"),
    [
        ("BTC", "L1"),
        ("ETH", "L1"),
        ("SOL", "L1"),
        ("ARB", "L2"),
        ("OP", "L2"),
        ("DOGE", "Meme"),
        ("PEPE", "Meme"),
        ("FET", "AI"),
        ("TAO", "AI"),
        ("RENDER", "AI"),
        ("ONDO", "RWA"),
        ("HYPE", "Exchange"),
        ("PURR", "Meme"),
        ("LINK", "Infrastructure"),
        ("AAVE", "DeFi"),
    ],
)
def test_well_known_tickers_have_their_category(
    taxonomy: Taxonomy, ticker: str, category: str
) -> None:
    assert taxonomy.assets[ticker].category == category


def test_taxonomy_is_read_only(taxonomy: Taxonomy) -> None:
    with pytest.raises(TypeError):
        taxonomy.assets["NEW"] = taxonomy.assets["BTC"]  # type: ignore[index]


def test_subcategories_are_sorted_and_distinct(taxonomy: Taxonomy) -> None:
    labels = subcategories(taxonomy)
    assert len(labels) == len(set(labels))
    assert labels == sorted(labels, key=lambda s: (s.casefold(), s))
    assert "PoW" in labels
    assert "Store of value" in labels


# -- categorize -----------------------------------------------------------------------------------


def test_categorize_perp(taxonomy: Taxonomy) -> None:
    btc = categorize(_perp("BTC"), taxonomy)
    assert btc.category == "L1"
    assert btc.subcategories == ("Store of value", "PoW")
    assert btc.symbol == "BTC"
    assert btc.max_leverage == 20  # everything else is kept


def test_categorize_spot_uses_the_base(taxonomy: Taxonomy) -> None:
    purr = categorize(_spot("PURR/USDC"), taxonomy)
    assert (purr.symbol, purr.category) == ("PURR/USDC", "Meme")
    assert purr.subcategories == taxonomy.assets["PURR"].subcategories


def test_categorize_k_prefixed_perp_uses_the_unprefixed_ticker(taxonomy: Taxonomy) -> None:
    kpepe = categorize(_perp("kPEPE"), taxonomy)
    assert kpepe.category == "Meme"
    assert kpepe.subcategories == taxonomy.assets["PEPE"].subcategories
    for symbol in ("kSHIB", "kBONK", "kFLOKI"):
        assert categorize(_perp(symbol), taxonomy).category == "Meme"


def test_categorize_prefers_an_exact_k_entry() -> None:
    custom = parse_taxonomy(
        json.dumps(
            {
                "version": 1,
                "categories": {"A": "a", "B": "b"},
                "assets": {
                    "kFOO": {"category": "A", "subcategories": []},
                    "FOO": {"category": "B", "subcategories": []},
                },
            }
        )
    )
    assert categorize(_perp("kFOO"), custom).category == "A"


def test_categorize_unknown_is_uncategorized(taxonomy: Taxonomy) -> None:
    asset = categorize(_perp("ZZZNOPE"), taxonomy)
    assert (asset.category, asset.subcategories) == (UNCATEGORIZED, ())
    # a stale category on the input is cleared, not kept
    stale = replace(_perp("ZZZNOPE"), category="Meme", subcategories=("x",))
    assert categorize(stale, taxonomy).category == UNCATEGORIZED


# -- select ---------------------------------------------------------------------------------------


def _symbols(selection: list[Selection]) -> list[str]:
    return [item.asset.symbol for item in selection]


def test_select_union_of_category_subcategory_and_enabled(registry: list[AssetInfo]) -> None:
    chosen = select(registry, categories=["L1"], subcategories=["dog THEME"], enabled=["ONDO"])
    assert _symbols(chosen) == ["BTC", "DOGE", "ETH", "ONDO", "SOL", "WIF"]
    sources = {item.asset.symbol: item.source for item in chosen}
    assert sources == {
        "BTC": "category:L1",
        "ETH": "category:L1",
        "SOL": "category:L1",
        "DOGE": "subcategory:Dog theme",
        "WIF": "subcategory:Dog theme",
        "ONDO": "enabled",
    }
    assert all(isinstance(item, tuple) and len(item) == 2 for item in chosen)


def test_select_disabled_wins_and_names_are_case_insensitive(registry: list[AssetInfo]) -> None:
    chosen = select(registry, categories=["meme", "l1"], enabled=["ARB"], disabled=["doge", "SOL"])
    assert _symbols(chosen) == ["ARB", "BTC", "ETH", "kPEPE", "PURR/USDC", "WIF"]
    assert dict((i.asset.symbol, i.source) for i in chosen)["kPEPE"] == "category:Meme"


def test_select_source_priority_is_category_then_subcategory_then_enabled(
    registry: list[AssetInfo],
) -> None:
    chosen = select(
        registry, categories=["Meme"], subcategories=["PoW"], enabled=["DOGE", "BTC", "ETH"]
    )
    sources = {item.asset.symbol: item.source for item in chosen}
    assert sources["DOGE"] == "category:Meme"
    assert sources["BTC"] == "subcategory:PoW"
    assert sources["ETH"] == "enabled"


def test_select_order_is_by_symbol_and_independent_of_input_order(
    registry: list[AssetInfo],
) -> None:
    forward = select(registry, categories=["L1", "Meme", "uncategorized"])
    backward = select(list(reversed(registry)), categories=["Meme", "uncategorized", "L1"])
    assert forward == backward
    assert _symbols(forward) == sorted(_symbols(forward), key=lambda s: (s.casefold(), s))
    assert "ZZZNOPE" in _symbols(forward)


def test_select_nothing_requested_selects_nothing(registry: list[AssetInfo]) -> None:
    assert select(registry) == []
    assert select(registry, categories=[" ", ""]) == []


def test_select_reports_every_unknown_name_in_one_line(registry: list[AssetInfo]) -> None:
    with pytest.raises(InvalidInputError) as caught:
        select(
            registry,
            categories=["L1", "Foo", "Bar"],
            subcategories=["Nope"],
            enabled=["XYZ", "BTC"],
            disabled=["QQQ", "XYZ"],
        )
    message = str(caught.value)
    assert "\n" not in message
    assert message == (
        "unknown categories: Foo, Bar; unknown subcategories: Nope; unknown symbols: XYZ, QQQ"
    )


def test_select_with_taxonomy_accepts_categories_without_registered_assets(
    registry: list[AssetInfo], taxonomy: Taxonomy
) -> None:
    with pytest.raises(InvalidInputError, match="unknown categories: Privacy"):
        select(registry, categories=["Privacy"])
    assert select(registry, categories=["Privacy"], taxonomy=taxonomy) == []
    with pytest.raises(InvalidInputError, match=r"unknown categories: Foo$"):
        select(registry, categories=["Privacy", "Foo"], taxonomy=taxonomy)


def test_select_symbols_match_exactly_first_then_case_insensitively(
    registry: list[AssetInfo],
) -> None:
    assert _symbols(select(registry, enabled=["KPEPE", "purr/usdc"])) == ["kPEPE", "PURR/USDC"]


# -- validation of hand-written files -------------------------------------------------------------


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "taxonomy.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _valid() -> dict[str, Any]:
    return {
        "version": 1,
        "categories": {"L1": "Layer-1 chains", "Meme": "Meme coins"},
        "assets": {
            "BTC": {"category": "L1", "subcategories": ["PoW"]},
            "DOGE": {"category": "Meme", "subcategories": ["Dog theme", "PoW"]},
        },
    }


def test_a_valid_hand_written_file_loads(tmp_path: Path) -> None:
    loaded = load_taxonomy(_write(tmp_path, _valid()))
    assert categories(loaded) == [("L1", "Layer-1 chains"), ("Meme", "Meme coins")]
    assert subcategories(loaded) == ["Dog theme", "PoW"]
    assert loaded.source.endswith("taxonomy.json")


def test_unknown_category_is_rejected_naming_it(tmp_path: Path) -> None:
    data = _valid()
    data["assets"]["FOO"] = {"category": "Memez", "subcategories": []}
    with pytest.raises(ValueError, match="unknown category") as caught:
        load_taxonomy(_write(tmp_path, data))
    message = str(caught.value)
    assert "'Memez'" in message
    assert "FOO" in message
    assert "\n" not in message


def _with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    data = _valid()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "top level must be an object"),
        (_with(("version",), "1"), "'version' must be an integer"),
        (_with(("version",), 2), "unsupported version 2"),
        (_with(("categories",), ["L1"]), "'categories' must be an object"),
        (_with(("categories", "L1"), 3), "description must be a string"),
        (_with(("categories", "l1"), "dup"), "differ only in case"),
        (_with(("categories", "Uncategorized"), "x"), "reserved"),
        (_with(("assets",), []), "'assets' must be an object"),
        (_with(("assets", "BTC"), "L1"), "must be an object"),
        (_with(("assets", "BTC", "category"), 1), "'category' must be a string"),
        (_with(("assets", "BTC", "subcategories"), "PoW"), "'subcategories' must be a list"),
        (_with(("assets", "BTC", "subcategories"), [1]), "must be a non-blank trimmed string"),
        (_with(("assets", "BTC", "subcategories"), ["pow"]), "spelled"),
        (_with(("assets", "BTC", "subcategories"), ["PoW", "PoW"]), "repeated subcategory"),
        (_with(("assets", "BTC", "tags"), []), "unknown keys: tags"),
        (_with(("extra",), 1), "unknown top-level keys: extra"),
        ('{"version": 1, "version": 1, "categories": {}, "assets": {}}', "duplicate key"),
        ('{"version": 1, "categories": {}}', "missing top-level keys: assets"),
    ],
)
def test_bad_files_are_rejected_with_one_line(tmp_path: Path, data: Any, expected: str) -> None:
    with pytest.raises(ValueError, match=expected) as caught:
        load_taxonomy(_write(tmp_path, data))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("taxonomy ")


def test_missing_file_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        load_taxonomy(tmp_path / "absent.json")
