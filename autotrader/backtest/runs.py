"""``autotrader backtest``: validate what was asked, load history once, drive each clone's
account through it into the backtest store, and record the run with its ledger hash."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from autotrader.clones.management import require_clone
from autotrader.clones.pipelines import compiled
from autotrader.clones.plan import CompiledStrategy, EngineName
from autotrader.core.clock import HOUR_MS, SimulatedClock, iso_utc
from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError, NotFoundError
from autotrader.core.money import to_text
from autotrader.decisions.engines.base import Engine
from autotrader.decisions.engines.hold import HoldEngine
from autotrader.decisions.engines.rules import RulesEngine, parse_rules_params
from autotrader.ledger.export import records
from autotrader.ledger.queries import LedgerFilter
from autotrader.market.view import SOURCE_TIMEFRAMES
from autotrader.prop.accounts import MAX_STARTING_BALANCE, open_account
from autotrader.prop.gates import Precision
from autotrader.prop.models import AccountKind, AccountRules

from . import repo
from .blind import Blinding
from .driver import BacktestDriver, DriverStats
from .history import History, load_history
from .models import MODEL_ENGINES, ModelUse, ReplayModels

# Engines the in-memory driver replays as they are: deterministic, no model calls.
REPLAYED_ENGINES: Mapping[str, Engine] = {
    EngineName.RULES: RulesEngine(),
    EngineName.HOLD: HoldEngine(),
}
# Every engine a backtest replays; the model engines through a run's ReplayModels.
ENGINES = (*REPLAYED_ENGINES, *MODEL_ENGINES)


@dataclass(frozen=True)
class BacktestSpec:
    """What to replay. Times are epoch ms; ``until_ms`` is the last instant replayed."""

    clone_ids: tuple[int, ...]
    since_ms: int
    until_ms: int
    symbols: tuple[str, ...] = ()  # empty: every symbol of each clone's universe
    engine: str | None = None  # replay every strategy with this engine instead of its own
    balance: Decimal = Decimal(10_000)
    # rules parameters replacing each rules strategy's own (a sweep's combination)
    params: tuple[tuple[str, Any], ...] = ()
    # model strategies: cache misses may be sent to the model, spending at most the budget
    allow_model_calls: bool = False
    budget_usd: Decimal | None = None
    blind: bool = False  # model prompts hide asset names, dates and price levels

    def as_json(self) -> dict:
        return {
            "allow_model_calls": self.allow_model_calls,
            "blind": self.blind,
            "budget_usd": None if self.budget_usd is None else to_text(self.budget_usd),
            "clone_ids": list(self.clone_ids),
            "from": iso_utc(self.since_ms),
            "to": iso_utc(self.until_ms),
            "symbols": list(self.symbols),
            "engine": self.engine,
            "balance": to_text(self.balance),
            "params": dict(self.params),
        }


@dataclass
class CloneResult:
    clone_id: int
    account_id: int
    stats: DriverStats


@dataclass
class BacktestResult:
    run_id: str
    spec: BacktestSpec
    clones: list[CloneResult]
    bars: int
    ledger_sha256: str
    elapsed_s: float
    models: ModelUse | None = None  # what its model strategies' calls came to (None: none)

    @property
    def bars_per_second(self) -> float:
        return self.bars / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True)
class BacktestPlan:
    """A checked spec with what it replays: each clone's model and strategies, and the
    history they read. ``started`` is when planning began (``time.perf_counter``)."""

    spec: BacktestSpec
    clones: Mapping[int, tuple[str, tuple[CompiledStrategy, ...]]]
    history: History
    started: float

    @property
    def uses_models(self) -> bool:
        return any(s.engine in MODEL_ENGINES for _, group in self.clones.values() for s in group)


def plan_backtest(source: Store, spec: BacktestSpec) -> BacktestPlan:
    """Check ``spec`` against ``source`` and load the history it needs; writes nothing.

    Raises InvalidInputError for a bad period, balance or engine, NotFoundError for an unknown
    clone or a period without history.
    """
    started = time.perf_counter()
    clones = check_backtest(source, spec)
    plan = BacktestPlan(spec, clones, _history(source, clones, spec), started)
    model_flags = {"--blind": spec.blind, "--allow-model-calls": spec.allow_model_calls}
    for flag, given in model_flags.items():
        if given and not plan.uses_models:
            raise InvalidInputError(f"{flag} is for model strategies: none here asks a model")
    return plan


def check_backtest(
    source: Store, spec: BacktestSpec
) -> dict[int, tuple[str, tuple[CompiledStrategy, ...]]]:
    """Check ``spec`` (not its history): each clone's model and strategies as replayed."""
    _check(spec)
    return {clone_id: _strategies(source, clone_id, spec) for clone_id in spec.clone_ids}


def run_backtest(
    plan: BacktestPlan,
    target: Store,
    *,
    precision: Precision,
    run_id: str,
    started_at_ms: int,
    engines: Mapping[str, Engine] = REPLAYED_ENGINES,
    models: ReplayModels | None = None,
) -> BacktestResult:
    """Replay ``plan`` into ``target`` (a fresh store): one account per clone, each clone's
    run one transaction, then the run's row with its ledger hash. ``models`` answers the
    model strategies (InvalidInputError when the plan has some and it is None)."""
    spec, history = plan.spec, plan.history
    if plan.uses_models and models is None:
        raise InvalidInputError("this backtest replays model strategies: it needs model access")
    blinding = _blinding(plan) if spec.blind else None
    clones = []
    for clone_id, (model, strategies) in plan.clones.items():
        clock = SimulatedClock(spec.since_ms)
        if models is not None:
            engines = {**engines, **models.engines(clock)}
        with target.atomic():
            account_id = open_account(
                target,
                clock,
                clone_id=clone_id,
                kind=AccountKind.SANDBOX,
                starting_balance=spec.balance,
                rules=AccountRules(),
            )
            driver = BacktestDriver(target, history, precision, engines, clock, blinding=blinding)
            stats = driver.run(
                clone_id=clone_id, model=model, account_id=account_id, strategies=strategies
            )
        clones.append(CloneResult(clone_id, account_id, stats))
    digest = ledger_sha256(target, now_ms=spec.until_ms)
    use = models.use() if models is not None else None
    elapsed = time.perf_counter() - plan.started
    with target.atomic():
        repo.insert_run(
            target,
            {
                "run_id": run_id,
                "since_ms": spec.since_ms,
                "until_ms": spec.until_ms,
                "spec": spec.as_json(),
                "accounts": {str(c.clone_id): c.account_id for c in clones},
                "bars": history.bar_count(),
                "decisions": sum(c.stats.decisions for c in clones),
                "fills": sum(c.stats.fills for c in clones),
                "ledger_sha256": digest,
                "started_at": started_at_ms,
                "elapsed_ms": round(elapsed * 1000),
                "models": None if use is None else use.as_json(),
            },
        )
    return BacktestResult(run_id, spec, clones, history.bar_count(), digest, elapsed, use)


def _blinding(plan: BacktestPlan) -> Blinding:
    """The run's disguise, fixed by what it replays: a rerun asks the same blind prompts."""
    spec = plan.spec
    seed = json.dumps([list(spec.clone_ids), spec.since_ms, spec.until_ms, list(spec.symbols)])
    return Blinding.for_run(plan.history.symbols, seed=seed)


def ledger_sha256(store: Store, *, now_ms: int) -> str:
    """The sha256 of the store's ledger as ``ledger export`` writes it (every entry, in id
    order, Decimals as canonical text): the same inputs give the same hash."""
    digest = hashlib.sha256()
    for row in records(store, "ledger", LedgerFilter(), now_ms=now_ms):
        digest.update(json.dumps(row, sort_keys=True).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _check(spec: BacktestSpec) -> None:
    if not spec.clone_ids:
        raise InvalidInputError("give at least one --clone-id")
    if spec.since_ms >= spec.until_ms:
        raise InvalidInputError(
            f"--from {iso_utc(spec.since_ms)} must be before --to {iso_utc(spec.until_ms)}"
        )
    if not Decimal(0) < spec.balance <= MAX_STARTING_BALANCE:
        raise InvalidInputError(
            f"--balance must be positive and at most {MAX_STARTING_BALANCE:,.0f}"
        )
    if spec.engine is not None and spec.engine not in ENGINES:
        replayed = ", ".join(ENGINES)
        raise InvalidInputError(f"--engine {spec.engine}: the backtest replays {replayed}")
    if spec.budget_usd is not None and not spec.allow_model_calls:
        raise InvalidInputError("--budget-usd is spent on new model calls: add --allow-model-calls")
    if spec.allow_model_calls and spec.budget_usd is None:
        raise InvalidInputError("--allow-model-calls needs --budget-usd (new calls cost money)")
    if spec.budget_usd is not None and spec.budget_usd <= 0:
        raise InvalidInputError("--budget-usd must be positive")


def _strategies(
    source: Store, clone_id: int, spec: BacktestSpec
) -> tuple[str, tuple[CompiledStrategy, ...]]:
    """The clone's model name and its enabled strategies as the backtest replays them."""
    clone = require_clone(source, clone_id)
    strategies = []
    for strategy in compiled(source, clone_id).strategies:
        if not strategy.enabled:
            continue
        changes: dict = {}
        if spec.engine is not None:
            changes["engine"] = spec.engine
        if spec.symbols:
            changes["universe"] = tuple(e for e in strategy.universe if e.symbol in spec.symbols)
        if spec.params and (spec.engine or strategy.engine) == EngineName.RULES:
            changes["engine_params"] = _with_params(strategy, spec.params)
        strategy = dataclasses.replace(strategy, **changes)
        if strategy.engine not in ENGINES:
            raise InvalidInputError(
                f"clone {clone_id}'s strategy {strategy.strategy_id!r} uses the "
                f"{strategy.engine} engine; the backtest replays {', '.join(ENGINES)}"
                " (try --engine rules)"
            )
        strategies.append(strategy)
    if not any(s.universe for s in strategies):
        wanted = f" among {', '.join(spec.symbols)}" if spec.symbols else ""
        raise NotFoundError(f"clone {clone_id} has no enabled strategy trading a symbol{wanted}")
    return clone.model or "", tuple(strategies)


def _with_params(strategy: CompiledStrategy, params: tuple[tuple[str, Any], ...]) -> dict:
    """The strategy's rules parameters with ``params`` in place; InvalidInputError when the
    result is not a valid parameter set (a bad value, ``rsi_low`` above ``rsi_high``, ...)."""
    merged = {**strategy.engine_params, **dict(params)}
    if "policy" in dict(params):
        merged.pop("policies", None)
    try:
        parse_rules_params(merged)
    except ValueError as exc:
        shown = ", ".join(f"{k}={v}" for k, v in params)
        raise InvalidInputError(f"--sweep {shown}: {exc}") from None
    return merged


def _history(
    source: Store, plans: Mapping[int, tuple[str, tuple[CompiledStrategy, ...]]], spec: BacktestSpec
) -> History:
    strategies = [s for _, group in plans.values() for s in group]
    symbols = [e.symbol for s in strategies for e in s.universe]
    granularities = [str(s.engine_params.get("granularity", "1h")) for s in strategies]
    # What the prompts of model strategies read: their plans' series, and funding as far back
    # as their lookback reaches.
    prompted = [
        item
        for s in strategies
        if s.engine in MODEL_ENGINES
        for entry in s.universe
        for item in s.read_plans.get(entry.symbol, ())
        if item.source == "hyperliquid"
    ]
    context = [(i.context_symbol, i.granularity or "1m")
               for i in prompted if i.channel != "funding"]  # fmt: skip
    funding_hours = max((i.lookback for i in prompted if i.channel == "funding"), default=0)
    history = load_history(
        source,
        symbols,
        [*granularities, "1h"],
        since_ms=spec.since_ms,
        until_ms=spec.until_ms,
        context=context,
        funding_since_ms=spec.since_ms - funding_hours * HOUR_MS,
    )
    if history.bar_count() == 0:
        raise NotFoundError(
            f"no {'/'.join(SOURCE_TIMEFRAMES)} candles of {', '.join(dict.fromkeys(symbols))}"
            f" between {iso_utc(spec.since_ms)} and {iso_utc(spec.until_ms)} in market memory;"
            " bring history in with `autotrader ingest import` or `autotrader ingest backfill`"
        )
    return history
