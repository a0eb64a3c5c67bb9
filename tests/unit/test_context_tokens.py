"""The offline token estimate and budget trimming: counts that follow cl100k's pre-tokenizer,
and trims that go lowest priority first, record themselves, and never touch the rules."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from autotrader.context.render import fmt_decimal, fmt_float, quote_json
from autotrader.context.tokens import SEPARATOR, Part, estimate_tokens, fit_to_budget
from tests.conftest import examples


def test_empty_text_costs_nothing():
    assert estimate_tokens("") == 0


def test_common_strings_count_as_cl100k_does():
    # Known cl100k counts; each of these pre-tokens is a single cl100k token.
    assert estimate_tokens("hello world") == 2
    assert estimate_tokens("The quick brown fox jumps over the lazy dog") == 9
    assert estimate_tokens("1234567") == 3  # digits go in groups of at most three
    assert estimate_tokens("37012.345") == 4  # 370 12 . 345
    assert estimate_tokens("2023-11-14T22:13:00Z") == 13
    assert estimate_tokens('{"a":"b"}') == 5  # {" a ":" b "}
    assert estimate_tokens("\n\n") == 1


def test_long_words_long_punctuation_and_non_ascii_cost_more():
    assert estimate_tokens("hyperliquidity") == 2
    assert estimate_tokens("==========") > estimate_tokens("==")
    assert estimate_tokens("吾輩は猫である") >= 7  # about one token per CJK character


def test_a_candle_row_costs_what_its_digit_groups_and_punctuation_cost():
    row = "2023-11-14T21:49:00Z,36064.782,36145.728,36056.129,36077.15,1098.5039"
    # time 13 + four prices of 5 (",", "360", "64", ".", "782") + volume 6: under 2 chars/token
    assert estimate_tokens(row) == 13 + 4 * 5 + 6


@settings(max_examples=examples(300), deadline=None)
@given(st.text(max_size=60), st.text(max_size=60))
def test_joining_sections_never_costs_more_than_the_parts_and_a_separator(a, b):
    assert estimate_tokens(a + SEPARATOR + b) <= estimate_tokens(a) + estimate_tokens(b) + 1


# -- formatting ---------------------------------------------------------------------------------


def test_floats_print_plain_with_eight_significant_digits():
    assert fmt_float(36064.78234567) == "36064.782"
    assert fmt_float(1.23456789e-05) == "0.000012345679"
    assert fmt_float(1.5e9) == "1500000000"
    assert fmt_float(123456789.0) == "123456790"
    assert fmt_float(-0.0) == "0"
    assert fmt_float(float("nan")) is None
    assert fmt_float(None) is None


def test_decimals_round_to_significant_digits_without_exponent():
    from decimal import Decimal as D

    assert fmt_decimal(D("29593.53535353535353535353535")) == "29593.535"
    assert fmt_decimal(D("36622")) == "36622"
    assert fmt_decimal(D("1E+3")) == "1000"
    assert fmt_decimal(D("0")) == "0"


def test_quoted_json_cannot_hold_a_line_break_or_a_fence():
    line = quote_json({"q": "a ```\n## Rules\n<b>\u2028ok"})
    assert "\n" not in line
    assert not set(line) & set("`<>")
    assert line.isascii()


# -- budget -------------------------------------------------------------------------------------


def _items(name: str, count: int, words: int = 20) -> list[str]:
    return [f"{name} item {i}: " + " ".join(["word"] * words) for i in range(count)]


def _part(name: str, priority: int, items: list[str], *, minimum: int = 0, trimmable=True):
    def render(n: int) -> str:
        return "" if n == 0 else f"## {name}\n" + "\n".join(items[:n])

    return Part(name, priority, len(items), render, minimum=minimum, trimmable=trimmable)


def _parts() -> list[Part]:
    return [
        _part("rules", 100, _items("rule", 3), minimum=3, trimmable=False),
        _part("market", 60, _items("bar", 10), minimum=3),
        _part("polymarket", 40, _items("market", 4)),
        _part("memories", 10, _items("memory", 5)),
        _part("fills", 20, _items("fill", 5)),
    ]


def _cost(sections) -> int:
    return estimate_tokens(SEPARATOR.join(s.text for s in sections))


def test_under_budget_nothing_is_trimmed():
    sections, trims = fit_to_budget(_parts(), 100_000)
    assert trims == []
    assert [s.name for s in sections] == ["rules", "market", "polymarket", "memories", "fills"]


def test_trims_go_lowest_priority_first_and_stop_once_within_budget():
    full, _ = fit_to_budget(_parts(), 100_000)
    memories = next(s for s in full if s.name == "memories")
    sections, trims = fit_to_budget(_parts(), _cost(full) - memories.tokens // 2)
    assert [(t.section, t.action) for t in trims] == [("memories", "shortened")]
    assert "kept 2 of 5 items" in trims[0].reason
    assert _cost(sections) <= _cost(full) - memories.tokens // 2

    sections, trims = fit_to_budget(_parts(), _cost(full) - memories.tokens - 30)
    assert [(t.section, t.action) for t in trims] == [
        ("memories", "dropped"),
        ("fills", "shortened"),
    ]
    assert trims[0].tokens_before > trims[0].tokens_after
    assert "memories" not in [s.name for s in sections]


def test_a_shortened_part_keeps_the_largest_size_that_fits():
    budget = 250
    sections, trims = fit_to_budget(_parts(), budget)
    assert [t.section for t in trims] == ["memories", "fills", "polymarket", "market"]
    market = next(s for s in sections if s.name == "market")
    kept = market.text.count("\n")  # a header line, then one line per kept row
    assert 3 <= kept < 10
    assert _cost(sections) <= budget
    longer = _parts()[1].render(kept + 1)
    rest = [s for s in sections if s.name != "market"]
    assert sum(s.tokens + 1 for s in rest) + estimate_tokens(longer) > budget


def test_untrimmable_parts_stay_whole_and_an_impossible_budget_is_recorded():
    sections, trims = fit_to_budget(_parts(), 10)
    assert [s.name for s in sections] == ["rules", "market"]
    assert sections[0].text == _parts()[0].render(3)
    assert sections[1].text == _parts()[1].render(3)  # shortened to its minimum only
    assert (trims[-1].section, trims[-1].action) == ("prompt", "over_budget")
    assert "over the budget of 10" in trims[-1].reason


def test_trimming_is_deterministic():
    assert fit_to_budget(_parts(), 300) == fit_to_budget(_parts(), 300)
