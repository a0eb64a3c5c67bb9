"""``ledger verify``'s position checks: ``position`` (a position's columns agree with its fills
and its ledger entries), ``position_state`` (its status agrees with them) and the ``time_order``
of a position and its fills, over one streamed pass of the positions."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from autotrader.core.db import Store
from autotrader.core.money import ZERO
from autotrader.ledger.queries import verify as q
from autotrader.ledger.timestamps import misdated, sane, when

Flag = Callable[..., None]
"""``flag(check, account_id, message, *rows)``: report one violation."""


class PositionChecks:
    """The position checks of one verify pass. ``money`` is ``(position id, ledger kind) → Σ
    amount``, collected by the pass's walk over the ledger."""

    def __init__(self, flag: Flag, money: dict[tuple[int, str], Decimal]) -> None:
        self.flag = flag
        self.money = money

    def run(self, store: Store, account_id: int | None) -> int:
        """Check every position (of one account, or all); returns how many there are.

        qty = net of the fills; fees = the fills' fees = −FEE entries; realized and funding =
        their ledger entries. SQLite concatenates each position's signed fill quantities and
        fees; Python adds them as Decimals."""
        fills: dict[int, tuple[str, str, int, int]] = {}
        for position, qtys, fees, first_at, last_at in q.position_fills(store, account_id):
            fills[position] = (qtys, fees, first_at, last_at)
        seen = 0
        for p in q.positions(store, account_id):
            seen += 1
            self._position(p, fills.pop(p[0], None))
        for missing in sorted(fills):
            self.flag("position", None, f"fills name position {missing}, which does not exist")
        return seen

    def _position(self, p: tuple, fills: tuple[str, str, int, int] | None) -> None:
        pid, account, status, qty, fees_paid, realized, funding, opened_at, closed_at = p
        for at in (opened_at, closed_at):
            if at is not None and not sane(at):
                self.flag("time_range", account, misdated("positions", pid, at), _row(p))
        if fills is None:
            self.flag("position", account, f"position {pid} has no fills", _row(p))
            return
        money = self.money
        try:
            net = sum(map(Decimal, fills[0].split(",")), ZERO)
            fill_fees = sum(map(Decimal, fills[1].split(",")), ZERO)
            value, fees = Decimal(qty), Decimal(fees_paid)
            realized_value, funding_value = Decimal(realized), Decimal(funding)
        except InvalidOperation:
            self.flag("number", account, f"position {pid} or its fills: not a number")
            return
        if value != net or (status == "CLOSED" and value != 0):
            message = f"position {pid} ({status}): qty {qty} ≠ net of its fills {net}"
            self.flag("position", account, message, _row(p))
        self._position_state(p, net, first_at=fills[2], last_at=fills[3])
        ledger_fees = -money.get((pid, "FEE"), ZERO)
        ledger_realized = money.get((pid, "REALIZED_PNL"), ZERO)
        ledger_funding = money.get((pid, "FUNDING"), ZERO)
        if fees != fill_fees or fees != ledger_fees:
            message = f"position {pid}: fees_paid {fees} ≠ fills {fill_fees} / ledger {ledger_fees}"
            self.flag("position", account, message, _row(p))
        if realized_value != ledger_realized:
            message = f"position {pid}: realized_pnl {realized} ≠ ledger {ledger_realized}"
            self.flag("position", account, message, _row(p))
        if funding_value != ledger_funding:
            message = f"position {pid}: funding_paid {funding} ≠ ledger {ledger_funding}"
            self.flag("position", account, message, _row(p))

    def _position_state(self, p: tuple, net: Decimal, *, first_at: int, last_at: int) -> None:
        """Its status agrees with its fills (an OPEN one holds what they net to, a CLOSED one
        nothing) and with its times (it opens at its first fill, closes at its last)."""
        pid, account, status, _, _, _, _, opened_at, closed_at = p
        if status == "OPEN" and (net <= 0 or closed_at is not None):
            message = f"position {pid} is OPEN, but its fills net to {net.normalize():f}" + (
                f" and it closed at {when(closed_at)}" if closed_at is not None else ""
            )
            self.flag("position_state", account, message, _row(p))
        elif status == "CLOSED" and (net != 0 or closed_at is None):
            message = f"position {pid} is CLOSED, but its fills net to {net.normalize():f}" + (
                " and it has no close time" if closed_at is None else ""
            )
            self.flag("position_state", account, message, _row(p))
        if opened_at != first_at or (status == "CLOSED" and closed_at not in (None, last_at)):
            self.flag(
                "time_order",
                account,
                f"position {pid} opened at {when(opened_at)}"
                + (f", closed at {when(closed_at)}" if closed_at is not None else "")
                + f"; its fills run from {when(first_at)} to {when(last_at)}",
                _row(p),
            )


def _row(p: tuple) -> dict:
    return dict(zip(q.POSITION_COLUMNS, p, strict=True))
