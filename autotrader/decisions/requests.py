"""Building an engine's request for a claimed run: strategy, market snapshot, position,
memory, and (for model-backed engines) the context packet — all from SQLite, as of the clock."""

from __future__ import annotations

import threading

from autotrader.clones.engine_params import DEFAULT_GRANULARITY
from autotrader.clones.plan import CompiledStrategy
from autotrader.clones.plan_cache import CompiledPlans
from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.decisions.engines.base import DecisionRequest, Engine, MarketSnapshot
from autotrader.decisions.memory import read_posteriors
from autotrader.prop import repo as prop_repo
from autotrader.prop.accounts import account_state
from autotrader.prop.execution import position_view

_MAX_SNAPSHOTS = 4096  # market snapshots kept within one tick, at most
DEFAULT_BARS = 50  # bars in the snapshot of an engine that declares no ``market_bars``


class RequestBuilder:
    """Builds ``DecisionRequest``s as of the run's claim time (a claimed batch decides on one
    market instant). Compiled pipelines come from ``plans`` (shared with the scheduler, across
    ticks); market snapshots are cached per (symbol, granularity, time, bars) until the runner
    starts its next tick — every clone deciding BTC at that instant reads the same bars."""

    def __init__(
        self, clock: Clock, *, budget_tokens: int = 6000, plans: CompiledPlans | None = None
    ) -> None:
        self.clock = clock
        self.budget_tokens = budget_tokens
        self.plans = plans if plans is not None else CompiledPlans()
        self._markets: dict[tuple[str, str, int, int], MarketSnapshot] = {}
        self._lock = threading.Lock()

    def start_tick(self) -> None:
        """Forget the snapshots read so far: candles may have been stored since."""
        with self._lock:
            self._markets.clear()

    def market(
        self, store: Store, symbol: str, granularity: str, as_of: int, bars: int = DEFAULT_BARS
    ) -> MarketSnapshot:
        """The market snapshot of ``symbol`` as of ``as_of`` with its last ``bars`` bars (read
        once per tick)."""
        from autotrader.decisions.snapshot import market_snapshot

        key = (symbol, granularity, as_of, bars)
        with self._lock:
            found = self._markets.get(key)
        if found is None:
            found = market_snapshot(store, symbol, now_ms=as_of, granularity=granularity, bars=bars)
            with self._lock:
                if len(self._markets) >= _MAX_SNAPSHOTS:
                    self._markets.clear()
                self._markets[key] = found
        return found

    def strategy(self, store: Store, run: dict) -> CompiledStrategy:
        pipeline = self.plans.get(store, run["clone_id"], run["pipeline_version"])
        found = pipeline.strategy(run["strategy_id"])
        if found is None:
            raise LookupError(
                f"strategy {run['strategy_id']!r} is not in pipeline v{run['pipeline_version']}"
            )
        return found

    def __call__(self, store: Store, run: dict, engine: Engine) -> DecisionRequest:
        now = run.get("claimed_at") or self.clock.now_ms()
        strategy = self.strategy(store, run)
        granularity = str(strategy.engine_params.get("granularity", DEFAULT_GRANULARITY))
        open_positions = {
            p["symbol"]: p for p in prop_repo.open_positions(store, run["account_id"])
        }
        position = open_positions.get(run["symbol"])
        packet = None
        if getattr(engine, "needs_context", False):
            from autotrader.context.packet import build_context

            packet = build_context(
                store,
                self.clock,
                strategy,
                run["symbol"],
                account_id=run["account_id"],
                budget_tokens=self.budget_tokens,
            )
        return DecisionRequest(
            run_id=run["id"],
            trace_id=run["trace_id"],
            clone_id=run["clone_id"],
            account_id=run["account_id"],
            model=run["model"] or "",
            strategy=strategy,
            symbol=run["symbol"],
            now_ms=now,
            market=self.market(
                store,
                run["symbol"],
                granularity,
                now,
                getattr(engine, "market_bars", DEFAULT_BARS),
            ),
            position=position_view(position) if position else None,
            packet=packet,
            **self._memory(store, run, engine, now),
        )

    @staticmethod
    def _memory(store: Store, run: dict, engine: Engine, now: int) -> dict:
        """Policy posteriors and account equity, for engines that read them (``needs_memory``):
        both cost queries every other engine's run would pay for nothing."""
        if not getattr(engine, "needs_memory", False):
            return {}
        return {
            "posteriors": read_posteriors(store, run["clone_id"]),
            "equity": account_state(store, run["account_id"], now).equity,
        }
