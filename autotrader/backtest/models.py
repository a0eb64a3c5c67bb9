"""The model side of a backtest: answers from the response cache, new calls only on a budget.

A model-backed strategy's prompt at each decision instant is built from the history closed by
then; the model client looks its answer up in the response cache of the source store (keyed by
model, API, schema and prompt, so a rerun asks the same keys). On a miss, :class:`ModelGate`
decides before anything is sent:

- without ``allow_calls`` the call is refused (``cache_miss``): a cache-only replay never
  touches the network;
- with it, the call's worst-case cost (:class:`~autotrader.llm.client.CallEstimate`, from the
  registry's price) is reserved first, and the call is refused (``budget_exhausted``) once
  what is left cannot cover it — the budget fails closed, it is never overdrawn by a call it
  could not afford. A model without a price is refused (``unpriced_model``).

A refused call is recorded (an ``invocations`` row of the run's store, status ``failed``, the
reason as its error) and the engine holds, as it does for any failed call. Answers paid for are
written to the source store's cache, so the next run replays them for nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from autotrader.clones.plan import EngineName
from autotrader.clones.repo import list_models
from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.money import ZERO, to_text
from autotrader.core.settings import Settings
from autotrader.decisions.engines.base import Engine
from autotrader.decisions.engines.llm import LlmEngine
from autotrader.decisions.factory import registry_base_url
from autotrader.llm.client import CallEstimate, LlmConfig, ModelClient, ModelResult, ModelRoute

from .vocabulary import ModelHold

# Engines the backtest replays through a model client (the committee's Planner learns from
# decision memory the in-memory driver does not record, so it is not replayed).
MODEL_ENGINES = (EngineName.LLM,)


@dataclass(frozen=True)
class ModelUse:
    """What a run's model calls came to. Money is Decimal USD."""

    calls: int  # sent to the model (and paid for)
    cache_hits: int
    held: dict[str, int]  # refused calls by ModelHold reason
    spent_usd: Decimal
    budget_usd: Decimal | None

    def as_json(self) -> dict:
        return {
            "calls": self.calls,
            "cache_hits": self.cache_hits,
            "held": dict(sorted(self.held.items())),
            "spent_usd": to_text(self.spent_usd),
            "budget_usd": None if self.budget_usd is None else to_text(self.budget_usd),
        }


class ModelGate:
    """Admits a run's cache misses (see the module docstring). One run decides in one thread:
    the reservation of a call is settled before the next is admitted."""

    def __init__(self, *, allow_calls: bool, budget_usd: Decimal | None) -> None:
        self.allow_calls = allow_calls
        self.budget_usd = budget_usd
        self.spent = ZERO
        self.calls = 0
        self.cache_hits = 0
        self.held: Counter[str] = Counter()
        self._admitted = False  # the call being made was sent, its worst case reserved

    def admit(self, estimate: CallEstimate) -> str | None:
        """None to send the call, with its worst case reserved; else the refusal's reason."""
        if not self.allow_calls:
            return self._hold(ModelHold.CACHE_MISS, "no cached answer (new calls not allowed)")
        if estimate.max_cost_usd is None:
            return self._hold(ModelHold.UNPRICED, f"the registry has no price for {estimate.model}")
        left = (self.budget_usd or ZERO) - self.spent
        if estimate.max_cost_usd > left:
            return self._hold(
                ModelHold.BUDGET_EXHAUSTED,
                f"${to_text(left)} of the ${to_text(self.budget_usd or ZERO)} budget left, "
                f"a {estimate.role} call to {estimate.model} may cost ${estimate.max_cost_usd:.6f}",
            )
        self._admitted = True
        return None

    def settle(self, result: ModelResult) -> None:
        """Replace the reservation of the call just made by what it cost."""
        if result.cached:
            self.cache_hits += 1
        elif self._admitted:
            self.calls += 1
            self.spent += result.cost_usd
        self._admitted = False

    def use(self) -> ModelUse:
        return ModelUse(self.calls, self.cache_hits, dict(self.held), self.spent, self.budget_usd)

    def _hold(self, reason: ModelHold, why: str) -> str:
        self.held[reason] += 1
        return f"{reason}: {why}"


class GatedClient:
    """What the engines call: the model client, every cache miss put to the gate."""

    def __init__(self, client: ModelClient, gate: ModelGate) -> None:
        self.client = client
        self.gate = gate

    def complete(self, **kwargs: Any) -> ModelResult:
        result = self.client.complete(**kwargs, use_cache=True, admit=self.gate.admit)
        self.gate.settle(result)
        return result


class ReplayModels:
    """The model access of one run: a client per clone (invocations recorded in the run's
    store, on that clone's clock), the source store's response cache, one gate for the run."""

    def __init__(
        self,
        settings: Settings,
        source: Store,
        target: Store,
        *,
        allow_calls: bool = False,
        budget_usd: Decimal | None = None,
    ) -> None:
        self.settings = settings
        self.source = source
        self.target = target
        self.gate = ModelGate(allow_calls=allow_calls, budget_usd=budget_usd)
        self._prices, self._routes = _registry(settings, source)

    def engines(self, clock: Clock) -> dict[str, Engine]:
        client = ModelClient(
            replace(LlmConfig.from_settings(self.settings), cache_enabled=True),
            self.target,
            clock,
            price_for=self._prices.__getitem__,  # an unknown model has no price: KeyError
            route_for=self._routes.get,
            cache_store=self.source,
        )
        return {EngineName.LLM: LlmEngine(GatedClient(client, self.gate), settings=self.settings)}

    def use(self) -> ModelUse:
        return self.gate.use()


def _registry(
    settings: Settings, store: Store
) -> tuple[dict[str, tuple[Decimal, Decimal]], dict[str, ModelRoute]]:
    """Prices (USD per 1M input, output tokens) and routes by model name, from the registry
    (as the live decision loop's client reads it)."""
    prices: dict[str, tuple[Decimal, Decimal]] = {}
    routes: dict[str, ModelRoute] = {}
    for m in list_models(store):
        price = (m["input_usd_per_mtok"], m["output_usd_per_mtok"])
        prices[m["name"]] = prices[m["api_model"]] = price
        routes[m["name"]] = ModelRoute(
            api_model=m["api_model"],
            api=m["api"],
            base_url=registry_base_url(settings, m["base_url_setting"]),
        )
    return prices, routes
