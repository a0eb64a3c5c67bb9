from enum import StrEnum
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, create_model

from autotrader.core.jsonschema import strict_json_schema
from autotrader.prop.models import TradeIntent, intent_json_schema
from tests.conftest import examples

_ALLOWED_KEYWORDS = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "anyOf",
    "enum",
    "$ref",
    "$defs",
    "description",
    "title",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
}


def _schema_nodes(node: Any, path: str = "#"):
    """Every schema object in ``node`` (properties' names are not schemas themselves)."""
    if not isinstance(node, dict):
        return
    yield path, node
    for name, sub in node.get("properties", {}).items():
        yield from _schema_nodes(sub, f"{path}/properties/{name}")
    for name, sub in node.get("$defs", {}).items():
        yield from _schema_nodes(sub, f"{path}/$defs/{name}")
    if isinstance(node.get("items"), dict):
        yield from _schema_nodes(node["items"], f"{path}/items")
    for i, sub in enumerate(node.get("anyOf", [])):
        yield from _schema_nodes(sub, f"{path}/anyOf/{i}")


def _assert_strict(schema: dict) -> None:
    assert schema["type"] == "object"
    for path, node in _schema_nodes(schema):
        assert set(node) <= _ALLOWED_KEYWORDS, path
        if "$ref" in node:
            assert set(node) == {"$ref"}, f"{path}: $ref with siblings"
            assert node["$ref"].removeprefix("#/$defs/") in schema["$defs"], path
        if node.get("type") == "object" or "properties" in node:
            assert node["additionalProperties"] is False, path
            assert node["required"] == list(node["properties"]), path


def test_the_intent_schema_is_strict_at_every_object_level():
    schema = intent_json_schema()
    _assert_strict(schema)
    assert set(schema["required"]) == set(TradeIntent.model_fields)
    assert set(schema["$defs"]["ExitPlan"]["required"]) == {
        "stop",
        "target",
        "invalidation",
        "invalidation_price",
        "time_exit",
        "cooldown_until",
    }


def test_the_intent_schema_has_no_defaults_and_optional_fields_are_nullable():
    schema = intent_json_schema()
    assert '"default"' not in str(schema).replace("'", '"')
    for name in ("side", "qty", "notional_usd", "exit_plan", "confidence", "hypothesis"):
        assert {"type": "null"} in schema["properties"][name]["anyOf"], name
    # leverage has a non-None default: the model must give a number, null would not validate.
    assert schema["properties"]["leverage"]["type"] == "integer"


def test_the_intent_schema_documents_every_field_for_the_model():
    properties = intent_json_schema()["properties"]
    assert all(sub.get("description") for sub in properties.values())
    assert properties["action"]["enum"] == ["OPEN", "CLOSE", "HOLD", "UPDATE_EXIT_PLAN"]


def test_a_valid_intent_dumps_to_an_object_with_exactly_the_schema_keys():
    schema = intent_json_schema()
    intent = TradeIntent(action="OPEN", symbol="BTC", side="LONG", qty="1", exit_plan={})
    dumped = intent.model_dump(mode="json")
    assert list(dumped) == schema["required"]
    assert list(dumped["exit_plan"]) == schema["$defs"]["ExitPlan"]["required"]


class _Color(StrEnum):
    RED = "red"
    BLUE = "blue"


class _Leaf(BaseModel):
    name: str = Field(max_length=20, description="A name.")
    score: float | None = None


class _Tree(BaseModel):
    color: _Color = Field(description="The color.")
    kind: Literal["tree"] = "tree"
    leaves: list[_Leaf] = Field(default_factory=list, max_length=5)
    best: _Leaf | None = None


def test_strict_schema_inlines_refs_with_siblings_and_keeps_bare_refs_in_defs():
    schema = strict_json_schema(_Tree)
    _assert_strict(schema)
    assert schema["properties"]["color"]["enum"] == ["red", "blue"]
    assert schema["properties"]["color"]["description"] == "The color."
    assert set(schema["$defs"]) == {"_Leaf"}  # the inlined enum's def is pruned


def test_strict_schema_turns_const_into_enum_and_length_limits_into_words():
    schema = strict_json_schema(_Tree)
    assert schema["properties"]["kind"]["enum"] == ["tree"]
    name = schema["$defs"]["_Leaf"]["properties"]["name"]
    assert "maxLength" not in name
    assert name["description"] == "A name. Length: at most 20 characters."


def test_strict_schema_refuses_free_form_objects():
    class Bag(BaseModel):
        tags: dict[str, int]

    with pytest.raises(ValueError, match="free-form object"):
        strict_json_schema(Bag)


def test_strict_schema_refuses_models_that_allow_extra_keys():
    class Loose(BaseModel):
        model_config = ConfigDict(extra="allow")
        a: int

    with pytest.raises(ValueError, match="free-form object"):
        strict_json_schema(Loose)


def test_strict_schema_does_not_change_the_models_own_schema():
    before = _Tree.model_json_schema()
    strict_json_schema(_Tree)
    assert _Tree.model_json_schema() == before


# -- any model built from supported parts comes out strict ---------------------------------------

_leaf_types = st.sampled_from([str, int, float, bool, _Color, Literal["a", "b"]])


@st.composite
def _models(draw, depth: int = 0):
    fields = {}
    for i in range(draw(st.integers(1, 4))):
        if depth < 2 and draw(st.booleans()):
            annotation: Any = draw(_models(depth=depth + 1))
        else:
            annotation = draw(_leaf_types)
        if draw(st.booleans()):
            annotation = list[annotation]
        if draw(st.booleans()):
            fields[f"f{i}"] = (annotation | None, Field(None, description=f"field {i}"))
        else:
            fields[f"f{i}"] = (annotation, ...)
    return create_model(f"M{depth}_{draw(st.integers(0, 10_000))}", **fields)


@settings(max_examples=examples(40), deadline=None)
@given(_models())
def test_every_object_of_a_generated_model_is_closed_and_fully_required(model):
    _assert_strict(strict_json_schema(model))
