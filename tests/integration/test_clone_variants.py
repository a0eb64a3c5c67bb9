"""The store itself keeps ``(model, variant)`` unique among trading clones: the partial index
behind the service's check refuses a duplicate even from code that skips the service."""

from __future__ import annotations

import pytest

from autotrader.clones import repo
from autotrader.clones.management import create_clone, set_trading
from autotrader.core.errors import AutotraderError


def _insert(store, name: str, variant: str | None) -> int:
    return repo.insert_clone(
        store, clone_id=None, owner="local", name=name, model="gpt-5-mini", variant=variant,
        display_name=None, description=None, now_ms=0,
    )  # fmt: skip


def test_the_store_refuses_a_second_trading_clone_of_a_model_and_variant(store, clock):
    create_clone(store, clock, name="apex", variant="Apex")

    with pytest.raises(AutotraderError, match="UNIQUE constraint failed"):
        _insert(store, "apex-bypass", "Apex")


def test_clones_without_a_variant_or_not_trading_are_not_counted(store, clock):
    first = create_clone(store, clock, name="apex", variant="Apex")
    set_trading(store, clock, first.id, False)

    _insert(store, "apex-again", "Apex")
    _insert(store, "plain-1", None)
    _insert(store, "plain-2", None)

    assert len(repo.list_clones(store)) == 4
