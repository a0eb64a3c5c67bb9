"""``ledger plot``: an account's equity curve as a PNG, drawdowns shaded, trades marked; with
``compare`` several accounts on one chart (then in % return since their start, so different
starting balances compare). ``plot_nav`` draws one NAV curve per clone, model or variant
(``ledger.nav``), in USD: an arena gives every group the same capital.

matplotlib is imported inside :func:`plot_equity` and drives the Agg canvas directly (no pyplot,
no global state, no display needed), so importing this module costs nothing. Equity comes from
``equity_series`` (the starting balance, then the snapshots); markers sit at the equity last
known at each fill's time. Prices and money are converted to float here only, for drawing.
Points and fills stored outside the product's time range (2000–2100, see ``core.clock``) are
left off the chart and counted: they cannot be placed on a readable date axis.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from itertools import accumulate
from pathlib import Path

from autotrader.core.clock import MAX_TIME_MS, MIN_TIME_MS
from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError
from autotrader.core.outputs import check_output, output_file
from autotrader.ledger.queries import equity_series
from autotrader.ledger.queries.performance import fills_with_position_side


@dataclass(frozen=True)
class PlotResult:
    path: Path
    accounts: list[int]
    points: int  # equity points drawn, all accounts
    trades: int  # fills marked on the primary account
    left_out: int = 0  # points and fills stored at times outside 2000–2100


def _when(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _in_range(ms: int) -> bool:
    return MIN_TIME_MS <= ms < MAX_TIME_MS


def plot_equity(
    store: Store,
    account_id: int,
    out: Path,
    *,
    compare: list[int] | None = None,
    force: bool = False,
) -> PlotResult:
    """Draw ``account_id`` (and ``compare`` accounts) to the PNG ``out``; returns what it drew.

    Raises NotFoundError for an unknown account, InvalidInputError for a non-PNG path and
    ConflictError when ``out`` is the store (or a side file of it), or exists without ``force``.
    The PNG is written whole or not at all (:func:`~autotrader.core.outputs.output_file`).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if out.suffix.lower() != ".png":
        raise InvalidInputError(f"--out must name a .png file, not {out.name!r}")
    check_output(out, stores=[store.path], force=force)  # before the drawing, not after it
    accounts = [account_id, *[a for a in dict.fromkeys(compare or []) if a != account_id]]
    relative = len(accounts) > 1
    stored = {a: equity_series(store, a) for a in accounts}  # raises NotFoundError
    series = {a: [p for p in points if _in_range(p[0])] for a, points in stored.items()}
    left_out = sum(len(stored[a]) - len(series[a]) for a in accounts)
    empty = [str(a) for a in accounts if not series[a]]
    if empty:
        raise InvalidInputError(
            f"account {', '.join(empty)} has no equity point between 2000 and 2100 to draw"
        )

    def scale(value: Decimal, start: Decimal) -> float:
        return float((value / start - 1) * 100) if relative and start else float(value)

    fig = Figure(figsize=(11, 5.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for account in accounts:
        points = series[account]
        start = points[0][1]
        times = [_when(t) for t, _ in points]
        values = [scale(v, start) for _, v in points]
        ax.step(times, values, where="post", label=f"account {account}", linewidth=1.4)
        if account == account_id:
            peaks = list(accumulate(values, max))  # the scale is monotonic: peaks carry over
            # No ``where=``: matplotlib drops one-point runs of it; at a peak the band is empty.
            ax.fill_between(
                times,
                values,
                peaks,
                step="post",
                color="tab:red",
                alpha=0.2,
                label="drawdown",
            )
            marked, skipped = _mark_trades(store, ax, account, points, start, scale)
            left_out += skipped
    ax.set_title(
        f"Equity of account {account_id}"
        if not relative
        else f"Return since start: accounts {', '.join(map(str, accounts))}"
    )
    ax.set_ylabel("return (%)" if relative else "equity (USD)")
    _save(fig, ax, store, out, force=force)
    return PlotResult(out, accounts, sum(len(s) for s in series.values()), marked, left_out)


@dataclass(frozen=True)
class NavPlot:
    path: Path
    groups: list[str]
    points: int  # NAV points drawn, all groups


def plot_nav(
    store: Store, by: str, out: Path, *, kind: str | None = None, force: bool = False
) -> NavPlot:
    """Draw one NAV curve per group ``by`` clone, model or variant (accounts of ``kind``) to
    the PNG ``out``. Raises InvalidInputError for a non-PNG path or an unknown grouping,
    NotFoundError when there is no account to draw, and ConflictError when ``out`` is the store
    (or a side file of it), or exists without ``force``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from autotrader.core.errors import NotFoundError
    from autotrader.ledger.nav import nav_series

    if out.suffix.lower() != ".png":
        raise InvalidInputError(f"--out must name a .png file, not {out.name!r}")
    check_output(out, stores=[store.path], force=force)  # before the drawing, not after it
    curves: dict[str, list] = {}
    for point in nav_series(store, by=by, kind=kind):
        if _in_range(point.time):  # a time no date axis holds is left off, as in plot_equity
            curves.setdefault(point.group, []).append(point)
    if not curves:
        raise NotFoundError("no prop accounts to draw yet")
    fig = Figure(figsize=(11, 5.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for group, points in curves.items():
        label = f"{by} {group}" if by in ("account", "clone") else group
        times, values = [_when(p.time) for p in points], [float(p.nav) for p in points]
        ax.step(times, values, where="post", label=label, linewidth=1.4)
    ax.set_title(f"Net asset value by {by}")
    ax.set_ylabel("NAV (USD)")
    _save(fig, ax, store, out, force=force)
    return NavPlot(out, list(curves), sum(len(p) for p in curves.values()))


def _save(fig, ax, store: Store, out: Path, *, force: bool) -> None:
    """Finish the axes (plain numbers, concise UTC dates, grid, legend) and write the PNG whole
    (:func:`~autotrader.core.outputs.output_file`)."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    ax.ticklabel_format(axis="y", style="plain", useOffset=False)
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    with output_file(out, stores=[store.path], force=force) as temp:
        fig.savefig(temp, format="png")


def _mark_trades(store: Store, ax, account: int, points, start: Decimal, scale) -> tuple[int, int]:
    """Opening fills as ▲ (long) / ▼ (short), closing fills as ✕, at the equity known then.
    Returns (fills marked, fills left out for their time)."""
    stored = fills_with_position_side(store, account)
    fills = [fill for fill in stored if _in_range(fill["created_at"])]
    times = [t for t, _ in points]
    groups: dict[str, tuple[list, list]] = {"open_long": ([], []), "open_short": ([], [])}
    groups["close"] = ([], [])
    for fill in fills:
        index = max(0, bisect_right(times, fill["created_at"]) - 1)
        opens = (fill["side"] == "BUY") == (fill["position_side"] == "LONG")
        key = (
            ("open_long" if fill["position_side"] == "LONG" else "open_short") if opens else "close"
        )
        groups[key][0].append(_when(fill["created_at"]))
        groups[key][1].append(scale(points[index][1], start))
    styles = {
        "open_long": ("^", "tab:green", "open long"),
        "open_short": ("v", "tab:orange", "open short"),
        "close": ("x", "black", "close"),
    }
    for key, (xs, ys) in groups.items():
        if xs:
            marker, marker_color, label = styles[key]
            ax.scatter(xs, ys, marker=marker, color=marker_color, s=36, zorder=3, label=label)
    return len(fills), len(stored) - len(fills)
