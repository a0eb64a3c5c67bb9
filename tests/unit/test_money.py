from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autotrader.core.errors import InvalidInputError
from autotrader.core.money import (
    format_money,
    from_float,
    quantize_places,
    quantize_step,
    to_decimal,
    to_text,
)


def test_parses_decimal_strings_ints_and_decimals():
    assert to_decimal(" 1_000.50 ") == Decimal("1000.50")
    assert to_decimal(7) == Decimal(7)
    assert to_decimal(Decimal("0.1")) == Decimal("0.1")


@pytest.mark.parametrize("bad", ["", "abc", "NaN", "inf", "-Infinity", "1.2.3"])
def test_rejects_text_that_is_not_a_finite_number(bad):
    with pytest.raises(InvalidInputError):
        to_decimal(bad, field="notional")


@pytest.mark.parametrize(
    "bad",
    [
        "\u0665",  # Arabic-Indic five: Decimal() reads it, nobody typing money means it
        "1\u0660\u0660",
        "\uff15",  # fullwidth five
        "1e999999",
        "1e-400",
        "9" * 16,
        "0." + "0" * 18 + "1",
        "Infinity",
        "sNaN",
        "0x10",
        "1,000",
        "--1",
    ],
)
def test_refuses_other_scripts_and_magnitudes_no_amount_has(bad):
    with pytest.raises(InvalidInputError, match=r"^price: "):
        to_decimal(bad, field="price")


def test_accepts_the_widest_plain_amounts():
    assert to_decimal("9" * 15) == Decimal("9" * 15)
    assert to_decimal("0." + "0" * 17 + "1") == Decimal("1e-18")
    assert to_decimal("-2.5e3") == Decimal("-2500")
    assert to_decimal("1E+2") == Decimal(100)


def test_a_refused_value_is_echoed_short():
    with pytest.raises(InvalidInputError) as caught:
        to_decimal("x" * 10_000, field="price")
    assert len(str(caught.value)) < 100


@pytest.mark.parametrize("value", [0.1, True])
def test_refuses_floats_and_bools_in_money_paths(value):
    with pytest.raises(TypeError, match="from_float"):
        to_decimal(value)


def test_from_float_uses_the_shortest_repr_not_the_binary_expansion():
    assert from_float(0.1) == Decimal("0.1")
    assert from_float(58923.456789) == Decimal("58923.456789")


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_from_float_rejects_non_finite_values(bad):
    with pytest.raises(InvalidInputError):
        from_float(bad)


def test_quantize_step_rounds_towards_zero_and_keeps_the_step_exponent():
    assert quantize_step(Decimal("0.123456789"), Decimal("0.00001")) == Decimal("0.12345")
    assert quantize_step(Decimal("-0.129"), Decimal("0.01")) == Decimal("-0.12")
    assert quantize_step(Decimal("58923.456"), Decimal("1")) == Decimal("58923")


def test_quantize_step_refuses_a_non_positive_step():
    with pytest.raises(ValueError, match="positive"):
        quantize_step(Decimal(1), Decimal(0))


def test_quantize_places_uses_bankers_rounding():
    assert quantize_places(Decimal("2.675"), 2) == Decimal("2.68")
    assert quantize_places(Decimal("2.665"), 2) == Decimal("2.66")


def test_canonical_text_has_no_exponent_and_no_trailing_zeros():
    assert to_text(Decimal("1E+3")) == "1000"
    assert to_text(Decimal("10.500")) == "10.5"
    assert to_text(Decimal("-0.000")) == "0"
    assert to_text(Decimal("0.00000001")) == "0.00000001"


def test_format_money_groups_thousands_and_can_show_the_sign():
    assert format_money(Decimal("-1234.5")) == "-1,234.50"
    assert format_money(Decimal("12"), sign=True) == "+12.00"


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=8, min_value=-(10**12), max_value=10**12
    )
)
def test_canonical_text_round_trips_exactly(value):
    assert to_decimal(to_text(value)) == value


@given(
    st.decimals(allow_nan=False, allow_infinity=False, places=9, min_value=0, max_value=10**9),
    st.sampled_from([Decimal("0.1"), Decimal("0.001"), Decimal("0.00001"), Decimal("5")]),
)
def test_quantized_values_are_multiples_of_the_step_and_never_larger(value, step):
    result = quantize_step(value, step)
    assert result % step == 0
    assert result <= value
    assert value - result < step


def test_decimal_places_are_counted_exactly_not_after_rounding():
    with pytest.raises(InvalidInputError, match="more than 18 decimal places"):
        to_decimal("123456789012345.0000000000000000001")
    assert to_decimal("1.500000000000000000000000") == Decimal("1.5")
