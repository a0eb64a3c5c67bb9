"""A float pre-check in front of ``prop.mtm.find_exit``: most bars of an open position touch
none of its levels, and converting every bar's prices to Decimal to learn that would cost more
than the rest of the run. The check is conservative (a margin of one part in 10⁹ around each
level, where float and Decimal comparisons could disagree), so every bar that may trigger an
exit still goes to ``find_exit``, which alone decides."""

from __future__ import annotations

from autotrader.prop.models import Side

from .history import SourceSeries

_MARGIN = 1e-9


class ExitWatch:
    """The levels of one open position (stop, target, liquidation, invalidation) as floats."""

    def __init__(self, position: dict) -> None:
        self.long = Side(position["side"]) is Side.LONG
        self.stop, self.target = _float(position["stop"]), _float(position["target"])
        # A bar's *close* at or past either of these ends the position: the nearer one counts
        # (for a long the higher, for a short the lower).
        closing = [
            x
            for x in (_float(position["liquidation_price"]), _float(position["invalidation_price"]))
            if x is not None
        ]
        self.close_level = (max if self.long else min)(closing) if closing else None

    def may_exit(self, series: SourceSeries, lo: int, hi: int) -> bool:
        """Whether any bar ``lo ≤ i < hi`` of ``series`` comes within the margin of a level
        (its low or high for the stop and target, its close for liquidation and invalidation).
        """
        up, down = 1 + _MARGIN, 1 - _MARGIN
        stop, target, level = self.stop, self.target, self.close_level
        for i in range(lo, hi):
            if self.long:
                if stop is not None and series.low[i] <= stop * up:
                    return True
                if target is not None and series.high[i] >= target * down:
                    return True
                if level is not None and series.close[i] <= level * up:
                    return True
            else:
                if stop is not None and series.high[i] >= stop * down:
                    return True
                if target is not None and series.low[i] <= target * up:
                    return True
                if level is not None and series.close[i] >= level * down:
                    return True
        return False


def _float(value) -> float | None:
    return None if value is None else float(value)
