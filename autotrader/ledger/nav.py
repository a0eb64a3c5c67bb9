"""Net asset value series by clone, model or variant (``ledger nav``, ``ledger plot --by``).

A group's NAV is the sum of its accounts' equity: each account contributes its starting balance
from ``started_at`` and then the equity of each of its snapshots, carried forward until the next
(``metrics.combine``), so the series changes exactly when a snapshot does. Accounts are grouped
as ``ledger.groups`` says (account, clone, model, or variant: ``-`` for a clone without one).
With ``every_ms`` the series is resampled into buckets aligned to the epoch (every hour on the
hour): each bucket holds the NAV as of its last point, labelled with the bucket's start, and a
bucket without a point carries the previous NAV.

Promises: money is Decimal, summed exactly; times are epoch ms; nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from autotrader.core.clock import iso_utc
from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError
from autotrader.ledger import metrics
from autotrader.ledger.groups import group_key
from autotrader.ledger.queries import performance


@dataclass(frozen=True)
class NavPoint:
    group: str  # account id, clone id, model name or variant
    time: int  # epoch ms
    nav: Decimal  # Σ equity of the group's accounts, USD
    accounts: int  # how many accounts the group sums


def nav_series(
    store: Store,
    *,
    by: str = "model",
    every_ms: int | None = None,
    kind: str | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
) -> list[NavPoint]:
    """Every group's NAV points (groups as ``ledger.groups`` names them, of accounts of
    ``kind``), by group then time; ``since_ms`` inclusive, ``until_ms`` exclusive (the NAV at a
    time still counts everything before it)."""
    from autotrader.prop import repo as prop_repo

    if every_ms is not None and every_ms <= 0:
        raise InvalidInputError("--every must be a positive duration such as 1h or 15m")
    key = group_key(store, by)
    groups: dict[str, list[dict]] = defaultdict(list)
    for account in prop_repo.list_accounts(store, kind=kind):
        groups[key(account)].append(account)
    equity: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    for account_id, time, value in performance.equity_points(store):
        equity[account_id].append((time, Decimal(value)))
    points = []
    for group, accounts in sorted(groups.items(), key=lambda item: _order(item[0])):
        series = metrics.combine(
            [[(a["started_at"], a["starting_balance"]), *equity[a["id"]]] for a in accounts],
            [a["starting_balance"] for a in accounts],
        )
        if every_ms is not None:
            series = resample(series, every_ms)
        points += [
            NavPoint(group, time, nav, len(accounts))
            for time, nav in series
            if (since_ms is None or time >= since_ms) and (until_ms is None or time < until_ms)
        ]
    return points


def nav_records(points: Iterable[NavPoint]) -> Iterator[dict[str, str | int | None]]:
    """``points`` as rows of the ``nav`` export schema (NAV as canonical Decimal text, the time
    as epoch ms and as ISO-8601 ``at``), for ``ledger.export.write``."""
    from autotrader.ledger.export import SCHEMAS, normalise

    for p in points:
        row = {"group": p.group, "time": p.time, "at": iso_utc(p.time), "nav": p.nav}
        yield normalise(row | {"accounts": p.accounts}, SCHEMAS["nav"])


def resample(series: list[tuple[int, Decimal]], every_ms: int) -> list[tuple[int, Decimal]]:
    """``series`` (ascending) as one point per ``every_ms`` bucket from its first to its last:
    the bucket's start and the value of its last point, or the previous value when empty."""
    if not series:
        return []
    last_in_bucket: dict[int, Decimal] = {}
    for time, value in series:
        last_in_bucket[time // every_ms * every_ms] = value
    first, last = min(last_in_bucket), max(last_in_bucket)
    resampled, value = [], series[0][1]
    for bucket in range(first, last + every_ms, every_ms):
        value = last_in_bucket.get(bucket, value)
        resampled.append((bucket, value))
    return resampled


def _order(group: str) -> tuple[int, int, str]:
    # Ids in numeric order (2 before 10), names alphabetically.
    return (0, int(group), "") if group.isdigit() else (1, 0, group)
