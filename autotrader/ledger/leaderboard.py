"""The leaderboard: one row per account, clone, model or strategy variant — return, PnL,
drawdown, Sharpe and Sortino from the snapshot series, win rate and profit factor from closed
trades, fees, model cost, cost per point of return and the last decision — sortable by any
column.

Promises: money is Decimal; ratios are floats (see ``metrics``); ``None`` sorts last whatever
the direction. An account's equity series is its starting balance at ``started_at`` followed
by its snapshots; its current equity (return %, PnL) is marked at the latest prices as of
``now_ms``. A clone's, model's or variant's row sums its accounts (``metrics.combine``). Model
cost is the sum over the account's decision runs' invocations (llm and decisions repos); cost
per point of return is that cost over the return in percentage points, defined only for a
positive return (spending to lose has no price per point); the last decision is the newest of
its decision-origin intents and its decision runs' activity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, fields
from decimal import Decimal

from autotrader.clones import repo as clones_repo
from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError
from autotrader.core.money import ZERO
from autotrader.decisions import repo as decisions_repo
from autotrader.ledger import metrics
from autotrader.ledger.groups import group_key
from autotrader.ledger.queries import decimal_sum, performance
from autotrader.llm import repo as llm_repo

_PERCENT = Decimal("0.0001")
_MICRO_USD = Decimal("0.000001")


@dataclass
class LeaderRow:
    """One line of the leaderboard (``group`` is the account id, clone id, model name or
    variant)."""

    group: str
    accounts: list[int]
    clone_ids: list[int]
    kinds: list[str]
    model: str | None
    variant: str | None
    status: str
    starting_balance: Decimal
    equity: Decimal
    pnl: Decimal
    return_pct: Decimal
    max_drawdown_pct: Decimal
    sharpe: float | None
    sortino: float | None
    win_rate: float | None
    profit_factor: float | None
    trades: int
    fees_paid: Decimal
    model_cost_usd: Decimal
    cost_per_return_point: Decimal | None  # USD of model cost per percentage point of return
    last_decision_at: int | None
    # what the row was computed from (not printed)
    series: list[tuple[int, Decimal]] = field(default_factory=list, repr=False)
    trade_pnls: list[Decimal] = field(default_factory=list, repr=False)


SORTABLE = tuple(
    f.name for f in fields(LeaderRow) if f.name not in ("accounts", "series", "trade_pnls")
)


@dataclass
class _Account:
    row: dict
    equity: Decimal
    series: list[tuple[int, Decimal]]
    pnls: list[Decimal]
    fees: Decimal
    cost: Decimal
    last_decision: int | None
    model: str | None
    variant: str | None


def leaderboard(
    store: Store,
    *,
    now_ms: int,
    kind: str | None = None,
    by: str = "account",
    sort: str = "return_pct",
    ascending: bool = False,
    account_ids: Collection[int] | None = None,
) -> list[LeaderRow]:
    """Leaderboard rows for every account (of ``kind``, or of ``account_ids``) grouped ``by``
    account, clone, model or variant, sorted by ``sort`` (descending unless ``ascending``)."""
    key = group_key(store, by)  # InvalidInputError for an unknown grouping
    if sort not in SORTABLE:
        raise InvalidInputError(f"--sort: unknown column {sort!r} (one of {', '.join(SORTABLE)})")
    accounts = _accounts(store, now_ms, kind, account_ids)
    groups: dict[str, list[_Account]] = defaultdict(list)
    for acct in accounts:
        groups[key(acct.row)].append(acct)
    rows = [_row(key, members) for key, members in groups.items()]
    return sort_rows(rows, sort, ascending=ascending)


def account_rows(
    store: Store, account_ids: Collection[int], *, now_ms: int
) -> dict[int, LeaderRow]:
    """The leaderboard row (``--by account``) of each of ``account_ids``, computed exactly as
    the leaderboard computes it, reading only those accounts' snapshots, trades and fees. Used
    by the lifecycle to judge an audition on the numbers ``ledger leaderboard`` shows."""
    accounts = _accounts(store, now_ms, None, account_ids)
    return {acct.row["id"]: _row(str(acct.row["id"]), [acct]) for acct in accounts}


def sort_rows(rows: list[LeaderRow], column: str, *, ascending: bool = False) -> list[LeaderRow]:
    """Sort by ``column``; rows whose value is None go last in either direction."""
    present = [r for r in rows if getattr(r, column) is not None]
    missing = [r for r in rows if getattr(r, column) is None]

    def key(row: LeaderRow):
        value = getattr(row, column)
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        if isinstance(value, str):
            # "10" after "9": ids compare as numbers, names as text
            value = (0, int(value), "") if value.isdigit() else (1, 0, value)
        return value

    return sorted(present, key=key, reverse=not ascending) + missing


def _row(group: str, members: list[_Account]) -> LeaderRow:
    starting = sum((m.row["starting_balance"] for m in members), ZERO)
    equity = sum((m.equity for m in members), ZERO)
    if len(members) == 1:
        series = members[0].series
    else:
        series = metrics.combine(
            [m.series for m in members], [m.row["starting_balance"] for m in members]
        )
    values = [v for _, v in series]
    returns = metrics.simple_returns(values)
    periods = metrics.periods_per_year([t for t, _ in series])
    pnls = [p for m in members for p in m.pnls]
    decisions = [m.last_decision for m in members if m.last_decision is not None]
    models = sorted({m.model for m in members if m.model})
    variants = sorted({m.variant for m in members if m.variant})
    return_pct = ((equity - starting) / starting * 100).quantize(_PERCENT) if starting else ZERO
    cost = sum((m.cost for m in members), ZERO)
    return LeaderRow(
        group=group,
        accounts=[m.row["id"] for m in members],
        clone_ids=sorted({m.row["clone_id"] for m in members}),
        kinds=sorted({m.row["kind"] for m in members}),
        model=", ".join(models) or None,
        variant=", ".join(variants) or None,
        status=", ".join(sorted({m.row["status"] for m in members})),
        starting_balance=starting,
        equity=equity,
        pnl=equity - starting,
        return_pct=return_pct,
        max_drawdown_pct=(metrics.max_drawdown(values) * 100).quantize(_PERCENT),
        sharpe=metrics.sharpe(returns, periods),
        sortino=metrics.sortino(returns, periods),
        win_rate=metrics.win_rate(pnls),
        profit_factor=metrics.profit_factor(pnls),
        trades=len(pnls),
        fees_paid=sum((m.fees for m in members), ZERO),
        model_cost_usd=cost,
        cost_per_return_point=(cost / return_pct).quantize(_MICRO_USD) if return_pct > 0 else None,
        last_decision_at=max(decisions, default=None),
        series=series,
        trade_pnls=pnls,
    )


def _accounts(
    store: Store, now_ms: int, kind: str | None, account_ids: Collection[int] | None = None
) -> list[_Account]:
    from autotrader.prop import repo as prop_repo
    from autotrader.prop.accounts import account_state

    if account_ids is None:
        rows = prop_repo.list_accounts(store, kind=kind)
    else:
        found = (prop_repo.get_account(store, account) for account in sorted(set(account_ids)))
        rows = [row for row in found if row is not None]
    series = _series(store, account_ids)
    pnls = _closed_pnls(store, account_ids)
    fees = _grouped_sums(performance.fee_amounts_by_account(store, account_ids))
    costs = _model_costs(store)
    decisions = _last_decisions(store)
    models = clones_repo.clone_models(store)
    variants = clones_repo.clone_variants(store)
    result = []
    for row in rows:
        account = row["id"]
        start = [(row["started_at"], row["starting_balance"])]
        result.append(
            _Account(
                row=row,
                equity=account_state(store, account, now_ms, account=row).equity,
                series=start + series.get(account, []),
                pnls=pnls.get(account, []),
                fees=-fees.get(account, ZERO),
                cost=costs.get(account, ZERO),
                last_decision=decisions.get(account),
                model=models.get(row["clone_id"]),
                variant=variants.get(row["clone_id"]),
            )
        )
    return result


def _series(
    store: Store, account_ids: Collection[int] | None
) -> dict[int, list[tuple[int, Decimal]]]:
    result: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    for account, time, equity in performance.equity_points(store, account_ids):
        result[account].append((time, Decimal(equity)))
    return result


def _closed_pnls(store: Store, account_ids: Collection[int] | None) -> dict[int, list[Decimal]]:
    """Net PnL (Σ of its ledger entries: realized, fees, funding, liquidation) of each closed
    position, per account, in close order."""
    result: dict[int, list[Decimal]] = defaultdict(list)
    for account, text in performance.closed_position_amounts(store, account_ids):
        result[account].append(decimal_sum(text.split(",")))
    return result


def _grouped_sums(rows: Iterable[tuple[int, str]]) -> dict[int, Decimal]:
    return {key: decimal_sum(text.split(",")) for key, text in rows}


def _model_costs(store: Store) -> dict[int, Decimal]:
    """Σ cost of the model invocations of each account's decision runs (exact Decimals)."""
    run_accounts = decisions_repo.run_accounts(store)
    texts: dict[int, list[str]] = defaultdict(list)
    for run_id, costs in llm_repo.cost_texts_by_run(store).items():
        account = run_accounts.get(run_id)
        if account is not None:
            texts[account].extend(costs)
    return {account: decimal_sum(costs) for account, costs in texts.items()}


def _last_decisions(store: Store) -> dict[int, int]:
    result = performance.last_decision_intents(store)
    for account, when in decisions_repo.last_run_times(store).items():
        result[account] = max(result.get(account, when), when)
    return result
