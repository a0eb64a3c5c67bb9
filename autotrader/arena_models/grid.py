"""Standing up a model arena (``arena-models setup``): models × variants, all alike but for
the model and the variant.

Each cell (model, variant) gets a clone named ``{arena}-{model}-{variant}`` running that model
and variant, entitled to the model's tier and the arena's assets, with the same pipeline graph
(the clone's variant shapes what it does, so the graphs are byte-identical), and one sandbox
prop account with the same balance and rules, opened at the same millisecond. Everything is
one transaction: an arena exists whole or not at all.

Idempotent: setting up an arena that exists with the same grid changes nothing and returns it;
the same name with a different grid is refused (an arena's members must stay comparable — set
up another one). A cell whose (model, variant) another trading clone already holds is refused
naming that clone (``clones.management``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from autotrader.arena_models import repo
from autotrader.clones.accounts import open_clone_account
from autotrader.clones.management import (
    DEFAULT_MAX_ACTIVE_ASSETS,
    DEFAULT_MAX_MODEL_STRENGTH,
    create_clone,
    require_model,
)
from autotrader.clones.pipelines import save
from autotrader.clones.plan import EngineName
from autotrader.clones.vocabulary import Variant
from autotrader.core.clock import Clock, SimulatedClock
from autotrader.core.db import Store
from autotrader.core.errors import ConflictError, InvalidInputError, NotFoundError
from autotrader.core.money import to_text
from autotrader.prop.models import AccountKind, AccountRules

DEFAULT_ARENA = "arena"
DEFAULT_SYMBOLS = ("BTC", "ETH")
# The model engines, and the rules engine to stand in for models (a demo, a dry run).
ARENA_ENGINES = (EngineName.LLM, EngineName.COMMITTEE, EngineName.RULES)
MIN_CADENCE_S, MAX_CADENCE_S = 30, 86_400
_ARENA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_NOT_IN_NAMES = re.compile(r"[^A-Za-z0-9._-]+")
_STRATEGY_ID = "arena"
# How the setup command names each part of a spec, for the error that a rerun differs.
_OPTIONS = {
    "models": "--models",
    "variants": "--variants",
    "starting_balance": "--balance",
    "symbols": "--symbols",
    "engine": "--engine",
    "cadence_s": "--cadence",
    "rules": "account rules",
}


@dataclass(frozen=True)
class ArenaSpec:
    """What an arena is set up as. Two setups with equal specs are the same arena."""

    models: tuple[str, ...]
    variants: tuple[Variant, ...]
    starting_balance: Decimal
    symbols: tuple[str, ...] = DEFAULT_SYMBOLS
    engine: str = EngineName.LLM.value
    cadence_s: int = 300

    @property
    def rules(self) -> AccountRules:
        """The rules every member account trades under: the defaults, fenced to the assets."""
        return AccountRules(allowed_symbols=self.symbols)

    def __post_init__(self) -> None:
        if not self.models:
            raise InvalidInputError("--models: name at least one registry model")
        if not self.variants:
            raise InvalidInputError("--variants: name at least one variant (or all)")
        if not self.symbols:
            raise InvalidInputError("--symbols: name at least one asset")
        if self.engine not in ARENA_ENGINES:
            raise InvalidInputError(f"--engine must be one of {', '.join(ARENA_ENGINES)}")
        if not MIN_CADENCE_S <= self.cadence_s <= MAX_CADENCE_S:
            raise InvalidInputError(
                f"--cadence must be from {MIN_CADENCE_S} to {MAX_CADENCE_S} seconds"
            )
        if self.starting_balance <= 0:
            raise InvalidInputError("--balance must be positive")

    def to_json(self) -> str:
        """Canonical JSON: the same grid always gives the same text."""
        return json.dumps(self._plain(), sort_keys=True, separators=(",", ":"))

    def differences(self, stored: str) -> list[str]:
        """The options whose stored value (canonical JSON) differs from this spec's."""
        before, now = json.loads(stored), self._plain()
        return [_OPTIONS[key] for key in now if before.get(key) != now[key]]

    def _plain(self) -> dict[str, Any]:
        return {
            "models": list(self.models),
            "variants": [v.value for v in self.variants],
            "starting_balance": to_text(self.starting_balance),
            "symbols": list(self.symbols),
            "engine": self.engine,
            "cadence_s": self.cadence_s,
            "rules": self.rules.model_dump(mode="json"),
        }


@dataclass(frozen=True)
class Member:
    model: str
    variant: str
    clone_id: int
    account_id: int


@dataclass(frozen=True)
class ArenaGrid:
    name: str
    started_at: int
    created: bool  # False: it already existed with this grid, nothing was made
    members: list[Member]


def arena_pipeline(symbols: Sequence[str], *, engine: str, cadence_s: int) -> dict[str, Any]:
    """The one strategy graph every member runs: 1h candles, indicators and funding of each
    asset, decided by ``engine`` every ``cadence_s`` seconds. It names no variant: each clone's
    own applies."""
    return {
        "version": 1,
        "nodes": [
            {
                "type": "data_stream",
                "id": "market",
                "profile": "balanced",
                "sources": {
                    "hyperliquid": [
                        {"channel": "ohlcv", "granularity": "1h", "lookback": 24},
                        {"channel": "indicators", "granularity": "1h", "lookback": 24},
                        {"channel": "funding"},
                    ]
                },
            },
            {"type": "asset_selection", "id": "assets", "explicitlyEnabledSymbols": [*symbols]},
            {
                "type": "trading_prompt",
                "id": _STRATEGY_ID,
                "engine": engine,
                "decisionCadenceSec": cadence_s,
                "engineParams": {"granularity": "1h"},
                "candidatePolicy": {"maxCandidates": min(len(symbols), 25)},
            },
        ],
        "edges": [{"from": "market", "to": "assets"}, {"from": "assets", "to": _STRATEGY_ID}],
    }


def clone_name(arena: str, model: str, variant: Variant) -> str:
    """``{arena}-{model}-{variant}``, lower case, in the characters clone names allow."""
    return _NOT_IN_NAMES.sub("-", f"{arena}-{model}-{variant.value}").lower()[:64]


def set_up(store: Store, clock: Clock, spec: ArenaSpec, *, name: str = DEFAULT_ARENA) -> ArenaGrid:
    """Create the arena ``name`` as ``spec`` says, or return it unchanged when it exists with the
    same spec. Raises ConflictError for the same name with another grid or a cell already held,
    NotFoundError for an unknown model, InvalidInputError for bad values (PipelineRejected for
    symbols the registry does not know)."""
    if not _ARENA_NAME.match(name):
        raise InvalidInputError("--name: 1–32 letters, digits, '.', '_' or '-'")
    with store.atomic():
        existing = repo.get_arena(store, name)
        if existing is not None:
            return _unchanged(store, name, existing, spec)
        # One clock reading for the whole grid: every clone and account starts at the same ms.
        start = SimulatedClock(clock.now_ms())
        graph = arena_pipeline(spec.symbols, engine=spec.engine, cadence_s=spec.cadence_s)
        repo.insert_arena(
            store, name=name, spec=spec.to_json(), started_at=start.now_ms(), now_ms=start.now_ms()
        )
        made = []
        for model in spec.models:
            strength = require_model(store, model)["strength"]
            for variant in spec.variants:
                member = _member(store, start, name, spec, graph, model, variant, strength)
                repo.insert_member(store, arena=name, **vars(member))
                made.append(member)
    return ArenaGrid(name, start.now_ms(), True, made)


def _member(
    store: Store,
    clock: Clock,
    arena: str,
    spec: ArenaSpec,
    graph: dict[str, Any],
    model: str,
    variant: Variant,
    strength: int,
) -> Member:
    clone = create_clone(
        store,
        clock,
        name=clone_name(arena, model, variant),
        model=model,
        variant=variant,
        description=f"model arena {arena!r}: {model} × {variant.value}",
        max_model_strength=max(DEFAULT_MAX_MODEL_STRENGTH, strength),
        max_active_assets=max(DEFAULT_MAX_ACTIVE_ASSETS, len(spec.symbols)),
    )
    save(store, clock, clone.id, graph)
    account = open_clone_account(
        store,
        clock,
        clone_id=clone.id,
        kind=AccountKind.SANDBOX,
        starting_balance=spec.starting_balance,
        rules=spec.rules,
    )
    return Member(model, variant.value, clone.id, account)


def _unchanged(store: Store, name: str, existing: dict, spec: ArenaSpec) -> ArenaGrid:
    differs = spec.differences(existing["spec"])
    if differs:
        raise ConflictError(
            f"arena {name!r} already exists with another {', '.join(differs)}; its members must "
            "stay comparable: set up a new arena with --name"
        )
    return ArenaGrid(name, existing["started_at"], False, members(store, name))


def members(store: Store, name: str) -> list[Member]:
    """The arena's members in setup order; NotFoundError naming the known arenas."""
    if repo.get_arena(store, name) is None:
        known = ", ".join(repo.arena_names(store)) or "none yet"
        raise NotFoundError(
            f"no model arena named {name!r} (known: {known}); set one up with "
            "`autotrader arena-models setup --models M1,M2 --variants all --balance 10000`"
        )
    return [Member(**row) for row in repo.members(store, name)]
