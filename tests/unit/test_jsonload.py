import json

import pytest

from autotrader.core.errors import InvalidInputError, NotFoundError
from autotrader.core.jsonload import MAX_DEPTH, load_json, read_json_file


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_reads_ordinary_json_as_python_does():
    text = '{"nodes": [{"id": "a", "n": 1.5}], "nan": NaN}'
    loaded = load_json(text, what="doc")
    assert loaded["nodes"] == [{"id": "a", "n": 1.5}]
    assert loaded["nan"] != loaded["nan"]  # NaN is left for the caller to locate


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 900, 100_000])
def test_refuses_nesting_deeper_than_the_limit_in_one_line(depth):
    with pytest.raises(InvalidInputError, match=r"^doc: JSON nested deeper than 64 levels$"):
        load_json(nested(depth), what="doc")


def test_accepts_nesting_up_to_the_limit():
    assert load_json(nested(MAX_DEPTH), what="doc") == json.loads(nested(MAX_DEPTH))


def test_deep_objects_count_like_deep_arrays():
    text = '{"a":' * 500 + "1" + "}" * 500
    with pytest.raises(InvalidInputError, match="nested deeper"):
        load_json(text, what="doc")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b"\xff\xfe\x00binary", "not a UTF-8 text file"),
        ("{\n  'single': 1}", "invalid JSON at line 2 column 3"),
        ("1" * 5000, "invalid JSON"),
    ],
)
def test_malformed_text_is_one_line_naming_the_document(text, reason):
    with pytest.raises(InvalidInputError, match=f"^doc: {reason}"):
        load_json(text, what="doc")


def test_a_file_that_is_missing_a_folder_or_too_large_is_one_line(tmp_path):
    with pytest.raises(NotFoundError):
        read_json_file(tmp_path / "missing.json")
    with pytest.raises(InvalidInputError, match="not a file"):
        read_json_file(tmp_path)
    big = tmp_path / "big.json"
    big.write_text("[" + "1," * 100 + "1]")
    with pytest.raises(InvalidInputError, match="larger than 100 bytes"):
        read_json_file(big, max_bytes=100)
    assert len(read_json_file(big)) == 101
