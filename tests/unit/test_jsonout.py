"""The CLI's JSON: Decimals and floats as decimal text, integers and booleans as numbers."""

from __future__ import annotations

import json
from decimal import Decimal

from autotrader.core.jsonout import cli_dumps


def test_floats_are_written_as_their_shortest_decimal_text_without_an_exponent():
    data = {"rate": 1.25e-05, "close": 46809.0, "rsi": 55.123456789, "tiny": -0.0}
    assert json.loads(cli_dumps(data)) == {
        "rate": "0.0000125",
        "close": "46809",
        "rsi": "55.123456789",
        "tiny": "0",
    }


def test_decimals_keep_their_canonical_text_and_integers_and_booleans_stay_numbers():
    data = [Decimal("10.500"), 1_700_000_000_000, True, None, "BTC"]
    assert json.loads(cli_dumps(data)) == ["10.5", 1_700_000_000_000, True, None, "BTC"]


def test_a_non_finite_float_is_null_so_the_output_stays_valid_json():
    text = cli_dumps({"nan": float("nan"), "inf": float("inf")})
    assert json.loads(text) == {"nan": None, "inf": None}
    assert "NaN" not in text
    assert "Infinity" not in text


def test_nested_records_are_converted_all_the_way_down():
    data = {"rows": [[1_700_000_000_000, 0.1, {"score": 0.3}]], "ids": (1, 2)}
    assert json.loads(cli_dumps(data)) == {
        "rows": [[1_700_000_000_000, "0.1", {"score": "0.3"}]],
        "ids": [1, 2],
    }
