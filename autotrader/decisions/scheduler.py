"""Which decision runs are due: one per (prop account, strategy, asset) per cadence bucket.

For every active account of a trading-enabled clone, its compiled pipeline's enabled strategies
pick their candidates (open positions first, then the universe, ranked by a deterministic
prefilter); a candidate is due once per cadence bucket (``floor(now / cadence)``), or at the
time a committee Planner asked to wake up. Queuing is ``INSERT OR IGNORE`` on the run's unique
key, so two workers or a retry never queue a second run for the same bucket. A clone whose
entitlements no longer cover its model or its assets gets *skipped* runs with the reason.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from autotrader.clones.management import entitlement_problem, require_clone
from autotrader.clones.pipelines import compiled
from autotrader.clones.plan import CompiledStrategy, EngineName
from autotrader.clones.plan_cache import CompiledPlans
from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import UserError
from autotrader.decisions import repo
from autotrader.decisions.vocabulary import RunStatus
from autotrader.market import repo as market_repo
from autotrader.prop import repo as prop_repo
from autotrader.prop.vocabulary import AccountStatus


@dataclass
class Scheduled:
    queued: list[int] = field(default_factory=list)  # run ids queued by this pass
    skipped: list[int] = field(default_factory=list)  # run ids recorded as skipped
    notes: list[str] = field(default_factory=list)  # why an account scheduled nothing


def _metrics(store: Store, strategy: CompiledStrategy, now_ms: int) -> dict[str, float]:
    """Prefilter metric per universe symbol from stored 1h bars (Bollinger width or USD volume)."""
    prefilter = strategy.candidate_policy.prefilter
    if prefilter == "none":
        return {}
    values: dict[str, float] = {}
    for entry in strategy.universe:
        series = market_repo.freshest_series(
            store, entry.symbol, ("1h", "5m", "1m"), until_ms=now_ms
        )
        if series is None:
            continue
        row = market_repo.latest_candle(
            store, series.source, entry.symbol, series.timeframe, until_ms=now_ms
        )
        if row is None:
            continue
        if prefilter == "volatility" and row["bb_middle"]:
            values[entry.symbol] = (row["bb_upper"] - row["bb_lower"]) / row["bb_middle"]
        elif prefilter == "volume":
            values[entry.symbol] = row["volume"] * row["close"]
    return values


def _bucket(
    store: Store,
    key: tuple[int, str, str],
    now: int,
    cadence_ms: int,
    wake: int | None,
    *,
    force: bool,
) -> int | None:
    """The bucket of a run due now for ``key`` (account, strategy, symbol), or None: not due.

    Normally the cadence bucket holding ``now``. A committee's wake-up time, once reached, is
    the bucket until the cadence moves past it (a Planner that failed to set a new wake-up must
    not stall the clone on a bucket that already ran); before it, nothing is due. A forced run
    takes ``now`` unless a run already holds that instant (a cadence bucket that starts at
    ``now`` on a replay clock, or an earlier forced run), then the next free millisecond: forcing
    always runs again.
    """
    if force:
        bucket = now
        while repo.bucket_taken(store, *key, bucket):
            bucket += 1
        return bucket
    cadence_bucket = now // cadence_ms * cadence_ms
    if wake is None:
        return cadence_bucket
    if now < wake:
        return None
    return max(wake, cadence_bucket)


def schedule(
    store: Store,
    clock: Clock,
    *,
    clone_id: int | None = None,
    force: bool = False,
    asset: str | None = None,
    engine: str | None = None,
    dry_run: bool = False,
    plans: CompiledPlans | None = None,
) -> Scheduled:
    """Queue every due run (all active accounts, or one clone's) and return what happened.
    Pipelines come from ``plans`` when given (compiled once per version), else are compiled."""
    from autotrader.clones.compiler import select_candidates

    now = clock.now_ms()
    result = Scheduled()
    for account in prop_repo.list_accounts(store, clone_id=clone_id, status=AccountStatus.ACTIVE):
        try:
            clone = require_clone(store, account["clone_id"])
            pipeline = (
                plans.get(store, clone.id, clone.pipeline_version)
                if plans is not None
                else compiled(store, clone.id)
            )
        except UserError as exc:
            # A missing clone or pipeline, or a stored graph the registry no longer fits: one
            # account's problem, reported, never the loop's end.
            result.notes.append(f"account {account['id']}: {exc}")
            continue
        if not clone.trading_enabled:
            result.notes.append(f"clone {clone.id}: trading is off")
            continue
        problem = entitlement_problem(clone, pipeline.strategies)
        open_symbols = [p["symbol"] for p in prop_repo.open_positions(store, account["id"])]
        for strategy in pipeline.strategies:
            if not strategy.enabled:
                continue
            chosen_engine = engine or strategy.engine
            candidates = select_candidates(
                strategy, open_position_symbols=open_symbols, metrics=_metrics(store, strategy, now)
            )
            if asset is not None:
                candidates = [s for s in candidates if s == asset] or (
                    [asset] if asset in strategy.read_plans else []
                )
            wake = repo.next_due(store, clone.id) if chosen_engine == EngineName.COMMITTEE else None
            for symbol in candidates:
                key = (account["id"], strategy.strategy_id, symbol)
                bucket = _bucket(store, key, now, strategy.cadence_s * 1000, wake, force=force)
                if bucket is None:
                    continue
                run_id = repo.insert_run(
                    store,
                    clone_id=clone.id,
                    account_id=account["id"],
                    strategy_id=strategy.strategy_id,
                    symbol=symbol,
                    pipeline_version=pipeline.version,
                    bucket=bucket,
                    forced=int(force),
                    dry_run=int(dry_run),
                    status=RunStatus.SKIPPED if problem else RunStatus.QUEUED,
                    skip_reason=problem,
                    engine=chosen_engine,
                    model=clone.model,
                    trace_id=uuid.uuid4().hex,
                    due_at=min(bucket, now),
                    created_at=now,
                    finished_at=now if problem else None,
                )
                if run_id is not None:
                    (result.skipped if problem else result.queued).append(run_id)
    return result


def next_due_at(
    store: Store, clone_id: int, now_ms: int, *, plans: CompiledPlans | None = None
) -> int | None:
    """When the clone's next decision run falls due after ``now_ms`` (epoch ms), by the rules
    :func:`schedule` applies: for a committee strategy the Planner's wake-up while it lies
    ahead, otherwise (and for every other engine) the start of the next cadence bucket. The
    earliest over the clone's enabled strategies; None when it has none."""
    clone = require_clone(store, clone_id)
    pipeline = (
        plans.get(store, clone.id, clone.pipeline_version)
        if plans is not None
        else compiled(store, clone.id)
    )
    wake = repo.next_due(store, clone.id)
    dues = []
    for strategy in pipeline.strategies:
        if not strategy.enabled:
            continue
        if strategy.engine == EngineName.COMMITTEE and wake is not None and wake > now_ms:
            dues.append(wake)
        else:
            cadence_ms = strategy.cadence_s * 1000
            dues.append((now_ms // cadence_ms + 1) * cadence_ms)
    return min(dues, default=None)
