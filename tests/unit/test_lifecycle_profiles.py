"""Public profiles pass automatic checks before any human sees them: lengths, hostile unicode,
https-only URLs, the deny-list, and names that read the same as another's."""

from __future__ import annotations

import pytest

from autotrader.core.errors import InvalidInputError
from autotrader.lifecycle.confusables import name_keys
from autotrader.lifecycle.profiles import check_profile, denylist


def check(name="Momentum", bio="Trend rules.", url=None, denied=()):
    return check_profile(name, bio, url, denied=denied)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("Mo\u200bmentum", "invisible formatting character"),  # zero-width space
        ("Mom\u202eentum", "invisible formatting character"),  # right-to-left override
        ("Mom\u2066entum", "invisible formatting character"),  # left-to-right isolate
        ("Mo\x07mentum", "control character"),
        ("Mo\u3164mentum", "invisible character"),  # Hangul filler
        ("Mo\ue000mentum", "private-use character"),
        ("Mo\nmentum", "control character"),
        ("M", "2–32 characters"),
        ("x" * 33, "2–32 characters"),
    ],
)
def test_refuses_hostile_or_out_of_bounds_names(name, why):
    with pytest.raises(InvalidInputError, match=why):
        check(name=name)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://example.com/a.png", "must be an https:// URL"),
        ("javascript:alert(1)", "must be an https:// URL"),
        ("https://user:pw@example.com/a.png", "must not carry credentials"),
        ("https:///a.png", "needs a host"),
        ("https://exämple.com/a.png", "in ASCII"),
        ("https://example.com:99999/", "not a URL"),
    ],
)
def test_avatar_urls_are_https_only(url, why):
    with pytest.raises(InvalidInputError, match=why):
        check(url=url)


def test_accepts_a_plain_profile_normalized():
    draft = check(
        name="  Café Momentum ", bio="Line one\nline two", url="https://example.com/a.png"
    )
    assert draft.name == "Café Momentum"
    assert draft.bio == "Line one\nline two"


def test_refuses_insecure_links_in_a_bio_and_too_long_a_bio():
    with pytest.raises(InvalidInputError, match="links must be https"):
        check(bio="see http://example.com")
    with pytest.raises(InvalidInputError, match="at most 280"):
        check(bio="x" * 281)


def test_the_deny_list_catches_look_alikes_and_the_operators_own_words():
    with pytest.raises(InvalidInputError, match="denied word: official"):
        check(name="0fficial Bot", denied=denylist())
    with pytest.raises(InvalidInputError, match="denied word: casino"):
        check(bio="Best CASINO odds", denied=denylist("casino, lotto"))


def test_lists_every_problem_in_one_line():
    with pytest.raises(InvalidInputError) as caught:
        check(name="\u200b", bio="x" * 300, url="http://e.com")
    message = str(caught.value)
    assert "\n" not in message
    assert message.count(";") >= 3


@pytest.mark.parametrize(
    ("a", "b"),
    [("Paypal", "PAYPAL"), ("Paypal", "Paypa1"), ("Paypal", "Рaypal"), ("Paypal", "PaypaI"),
     ("Alpha Bot", "alpha_bot"), ("momentum", "rnomentum"), ("paypal", "ｐａｙｐａｌ")],
)  # fmt: skip
def test_names_fold_case_and_confusable_insensitively(a, b):
    assert set(name_keys(a)) & set(name_keys(b))


def test_all_capitals_collide_with_the_name_whatever_look_alikes_it_holds():
    assert name_keys("CASINO")[0] == name_keys("Casino")[0]


@pytest.mark.parametrize(("a", "b"), [("Momentum", "Mean Reversion"), ("Mail", "Mall")])
def test_different_names_stay_different(a, b):
    assert not set(name_keys(a)) & set(name_keys(b))
