"""The reaction matrix's pure parts: who reacts to what, and seeded chance."""

from __future__ import annotations

import pytest

from autotrader.desk.chance import draw
from autotrader.desk.reactions import matches

PATTERN = {"source": "scout", "tags": ["trade", "executed"], "target_agent": "growth"}


def event(agent="scout", tags=("step", "trade", "executed")) -> dict:
    return {"agent_id": agent, "tags": list(tags)}


def test_a_pattern_matches_its_source_agent_carrying_all_its_tags():
    assert matches(PATTERN, event())
    assert not matches(PATTERN, event(agent="intel"))
    assert not matches(PATTERN, event(tags=("trade",)))


def test_a_wildcard_source_matches_any_agent_but_an_agent_never_reacts_to_itself():
    anyone = {"source": "*", "tags": ["trade", "big_loss"], "target_agent": "sage"}
    assert matches(anyone, event(agent="growth", tags=("trade", "big_loss")))
    assert not matches(anyone, event(agent="sage", tags=("trade", "big_loss")))


def test_a_draw_depends_only_on_what_it_is_about():
    assert draw(12, 1_700_000_000_000, "trade_analysis") == draw(
        12, 1_700_000_000_000, "trade_analysis"
    )
    assert draw(12, 1_700_000_000_000, "trade_analysis") != draw(
        13, 1_700_000_000_000, "trade_analysis"
    )
    assert 0 <= draw("x") < 1


@pytest.mark.parametrize("probability", [0.3, 0.8])
def test_draws_hit_a_probability_about_as_often_as_it_says(probability):
    hits = sum(draw(i, 0, "p") < probability for i in range(5000))
    assert abs(hits / 5000 - probability) < 0.03
