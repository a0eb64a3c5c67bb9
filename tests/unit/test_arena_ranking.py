"""The race metric and its documented tie-break, and who gets a strike."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from autotrader.arena.ranking import finishing_order
from autotrader.arena.strikes import struck_positions


def entrant(entry: int, account: int) -> dict:
    return {"id": entry, "account_id": account}


def row(equity: str, drawdown: str) -> SimpleNamespace:
    return SimpleNamespace(equity=Decimal(equity), max_drawdown_pct=Decimal(drawdown))


def test_finishers_are_ordered_by_return_then_drawdown_then_entry():
    entrants = [entrant(1, 11), entrant(2, 12), entrant(3, 13), entrant(4, 14)]
    rows = {
        11: row("10100", "3"),  # tied on return with 13 and 14, but the deepest drawdown
        12: row("10250.5", "9"),  # the best return wins whatever its drawdown
        13: row("10100", "1.5"),  # tied with 14 on return and drawdown: entered first
        14: row("10100.0", "1.5"),
    }
    assert [e["id"] for e in finishing_order(entrants, rows)] == [2, 3, 4, 1]


def test_an_exact_return_decides_where_the_rounded_percentage_would_tie():
    entrants = [entrant(1, 11), entrant(2, 12)]
    rows = {11: row("10000.00001", "0"), 12: row("10000.00002", "0")}
    assert [e["id"] for e in finishing_order(entrants, rows)] == [2, 1]


def test_the_bottom_finishers_get_strikes_but_never_the_winner():
    assert list(struck_positions(5, 1)) == [5]
    assert list(struck_positions(5, 2)) == [4, 5]
    assert list(struck_positions(2, 3)) == [2]
    assert list(struck_positions(5, 0)) == []
