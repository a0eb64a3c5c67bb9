"""Building the decision loop from settings: every engine, one shared (lazy) model client, the
prop desk, the request builder and the artifact store."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from autotrader.clones.plan import EngineName
from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.settings import Settings

_MIN_CLAIM_BATCH = 16  # decision runs one worker claims at once, at least


class _LazyModelClient:
    """Builds the model client on its first call: a tick of rules or hold decisions never pays
    for importing the openai SDK (about a second) or opening the client's log connection."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._client: Any = None
        self._lock = threading.Lock()

    def complete(self, **kwargs: Any) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._build()
        return self._client.complete(**kwargs)


def engines(settings: Settings, store: Store, clock: Clock, *, blobs: Any = None) -> dict:
    """Every decision engine by name. Model-backed engines share one model client (archiving
    its calls in ``blobs``, the artifact backend; None: the configured one)."""
    from autotrader.decisions.engines.committee import CommitteeEngine
    from autotrader.decisions.engines.hold import HoldEngine
    from autotrader.decisions.engines.llm import LlmEngine
    from autotrader.decisions.engines.rules import RulesEngine

    client = lazy_model_client(settings, store, clock, blobs=blobs)
    return {
        EngineName.HOLD: HoldEngine(),
        EngineName.RULES: RulesEngine(),
        EngineName.LLM: LlmEngine(client, settings=settings),
        EngineName.COMMITTEE: CommitteeEngine(client, settings=settings),
    }


def lazy_model_client(settings: Settings, store: Store, clock: Clock, *, blobs: Any = None):
    """:func:`model_client`, built on its first call (see ``_LazyModelClient``)."""
    return _LazyModelClient(lambda: model_client(settings, store, clock, blobs=blobs))


def model_client(settings: Settings, store: Store, clock: Clock, *, blobs: Any = None):
    """The model client, logging invocations on a connection of its own to ``store``'s file (it
    is called from the decision runner's threads while the main connection runs transactions).
    Prices and routes come from the model registry (USD per 1M tokens; API model name, API and
    the base URL its ``base_url_setting`` names); a name the registry does not know goes to the
    API as it is. Every call's request and answer are archived as artifacts in ``blobs`` (the
    artifact backend; None: the configured one), indexed on the client's connection."""
    from decimal import Decimal

    from autotrader.artifacts.index import Artifacts
    from autotrader.artifacts.stores import backend_from_settings
    from autotrader.clones.repo import list_models
    from autotrader.llm.client import LlmConfig, ModelClient, ModelRoute

    prices: dict[str, tuple[Decimal, Decimal]] = {}
    routes: dict[str, ModelRoute] = {}
    for m in list_models(store):
        prices[m["name"]] = prices[m["api_model"]] = (
            m["input_usd_per_mtok"],
            m["output_usd_per_mtok"],
        )
        routes[m["name"]] = ModelRoute(
            api_model=m["api_model"],
            api=m["api"],
            base_url=registry_base_url(settings, m["base_url_setting"]),
        )

    def price_for(model: str) -> tuple[Decimal, Decimal]:
        return prices.get(model, (Decimal(0), Decimal(0)))

    own = store.sibling()
    artifacts = Artifacts(own, blobs or backend_from_settings(settings), clock)

    def archive(payload: Any, kind: str) -> str:
        return artifacts.put_json(payload, kind=kind)

    return ModelClient(
        LlmConfig.from_settings(settings),
        own,
        clock,
        price_for=price_for,
        route_for=routes.get,
        archive=archive,
    )


def registry_base_url(settings: Settings, setting: str) -> str | None:
    """The base URL a registry entry's ``base_url_setting`` names (``OLLAMA_BASE_URL`` is
    ``settings.ollama_base_url``); unset or unknown, ``OPENAI_BASE_URL``'s."""
    named = getattr(settings, setting.lower(), None) if setting.endswith("_BASE_URL") else None
    return named if isinstance(named, str) and named else settings.openai_base_url


def decision_runner(settings: Settings, store: Store, clock: Clock, *, worker_id: str):
    """The decision loop over ``store`` with every engine, the prop desk and its settings.

    A worker claims a few pools' worth of runs at a time, not every due run: other worker
    processes share the rest, and a claimed run starts well within the stale-claim window
    (hundreds of model calls claimed at once could sit "running" past it and be recovered by
    another worker while this one still holds them).
    """
    from autotrader.artifacts.index import artifact_store_from_settings
    from autotrader.clones.plan_cache import CompiledPlans
    from autotrader.decisions.requests import RequestBuilder
    from autotrader.decisions.runner import DecisionRunner
    from autotrader.live.factory import prop_desk

    artifacts = artifact_store_from_settings(settings, store, clock)
    plans = CompiledPlans()
    return DecisionRunner(
        store,
        clock,
        engines=engines(settings, store, clock, blobs=artifacts.backend),
        desk=prop_desk(settings, store, clock),
        build_request=RequestBuilder(clock, plans=plans),
        open_thread_store=store.sibling,
        worker_id=worker_id,
        concurrency=settings.decision_concurrency,
        heartbeat_stale_after_s=settings.worker_stale_after,
        batch=max(_MIN_CLAIM_BATCH, 2 * settings.decision_concurrency),
        artifacts=artifacts,
        safe_mode_after=settings.decision_safe_mode_failures,
        plans=plans,
    )
