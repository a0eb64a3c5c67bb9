"""Clones, the model registry and entitlements: create, rename, switch model, switch trading.

Entitlements bound what a clone may use: the strongest model tier it may run and how many
assets its strategies may trade at once. Setting a model above the clone's tier is refused
here; saving a graph with more active assets than its capacity is refused by the pipelines
service.

A clone may carry a strategy variant (``clones.variants``), fixed when it is created. A model
runs at most one trading clone per variant: creating, re-enabling or switching the model of a
clone whose ``(model, variant)`` another trading clone holds is refused, naming that clone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from autotrader.clones import repo
from autotrader.clones.owners import DEFAULT_OWNER, ensure_owner
from autotrader.clones.variants import parse_variant
from autotrader.clones.vocabulary import BaseUrlSetting, Variant
from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import ConflictError, InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from autotrader.clones.plan import CompiledStrategy

DEFAULT_MODEL = "gpt-5-mini"
DEFAULT_MAX_MODEL_STRENGTH = 2
DEFAULT_MAX_ACTIVE_ASSETS = 10
# No provider charges near this per million tokens; a larger price is a typo (or 1e999999).
MAX_USD_PER_MTOK = Decimal(10_000)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}$")


@dataclass(frozen=True)
class CloneView:
    id: int
    owner: str
    owner_address: str | None
    name: str
    display_name: str | None
    description: str | None
    model: str
    model_strength: int
    variant: str | None
    trading_enabled: bool
    max_model_strength: int
    max_active_assets: int
    pipeline_version: int | None


def _view(row: dict, pipeline_version: int | None) -> CloneView:
    return CloneView(
        id=row["id"],
        owner=row["owner"],
        owner_address=row["owner_address"],
        name=row["name"],
        display_name=row["display_name"],
        description=row["description"],
        model=row["model"],
        model_strength=row["model_strength"],
        variant=row["variant"],
        trading_enabled=bool(row["trading_enabled"]),
        max_model_strength=row["max_model_strength"],
        max_active_assets=row["max_active_assets"],
        pipeline_version=pipeline_version,
    )


def require_clone(store: Store, clone_id: int) -> CloneView:
    row = repo.get_clone(store, clone_id)
    if row is None:
        raise NotFoundError(f"clone {clone_id} does not exist (see `autotrader clones list`)")
    latest = repo.pipeline(store, clone_id)
    return _view(row, latest["version"] if latest else None)


def entitlement_problem(clone: CloneView, strategies: Iterable[CompiledStrategy]) -> str | None:
    """Why ``clone`` is not entitled to run its model or its strategies' assets, or None when
    it is: the one rule the decision scheduler and the arena's admission both apply."""
    if clone.model_strength > clone.max_model_strength:
        return (
            f"model {clone.model} is strength {clone.model_strength}, above the entitled "
            f"{clone.max_model_strength}"
        )
    active = {u.symbol for s in strategies if s.enabled for u in s.universe}
    if len(active) > clone.max_active_assets:
        return f"{len(active)} active assets exceed the entitled {clone.max_active_assets}"
    return None


def list_clones(store: Store) -> list[CloneView]:
    return [_view(row, row["pipeline_version"]) for row in repo.list_clones(store)]


def require_model(store: Store, name: str) -> dict:
    model = repo.get_model(store, name)
    if model is None:
        known = ", ".join(m["name"] for m in repo.list_models(store))
        raise NotFoundError(f"unknown model {name!r} (known: {known})")
    return model


def create_clone(
    store: Store,
    clock: Clock,
    *,
    name: str,
    model: str = DEFAULT_MODEL,
    clone_id: int | None = None,
    owner: str = DEFAULT_OWNER,
    owner_address: str | None = None,
    display_name: str | None = None,
    description: str | None = None,
    variant: Variant | str | None = None,
    max_model_strength: int = DEFAULT_MAX_MODEL_STRENGTH,
    max_active_assets: int = DEFAULT_MAX_ACTIVE_ASSETS,
) -> CloneView:
    """Create a trading clone, entitled to models up to ``max_model_strength`` and
    ``max_active_assets`` assets (the defaults unless an operator, e.g. setting up an arena,
    grants more). ``clone_id`` picks the id (users type ``--clone-id 42``); it must be free.
    ``owner`` is created when new, with ``owner_address`` (EIP-55 checked) when given (see
    :func:`autotrader.clones.owners.ensure_owner`). ``variant`` (any letter case) must not
    already run on ``model`` in a trading clone."""
    if not _NAME.match(name):
        raise InvalidInputError(
            "--name: 1–64 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit"
        )
    if clone_id is not None and clone_id <= 0:
        raise InvalidInputError("--id must be a positive integer")
    chosen_variant = parse_variant(variant) if isinstance(variant, str) else variant
    now = clock.now_ms()
    with store.atomic():
        chosen = require_model(store, model)
        if chosen["strength"] > max_model_strength:
            raise ConflictError(
                f"model {model!r} is strength {chosen['strength']}, above a new clone's "
                f"entitlement ({max_model_strength}); create it with a weaker model, then "
                "`clones entitlements grant` and `clones set-model`"
            )
        if clone_id is not None and repo.get_clone(store, clone_id) is not None:
            raise ConflictError(f"clone {clone_id} already exists")
        if repo.clone_by_name(store, owner, name) is not None:
            raise ConflictError(f"a clone named {name!r} already exists")
        ensure_owner(store, clock, owner, evm_address=owner_address)
        if chosen_variant is not None:
            _require_free_pair(store, model, chosen_variant)
        new_id = repo.insert_clone(
            store,
            clone_id=clone_id,
            owner=owner,
            name=name,
            model=model,
            variant=chosen_variant.value if chosen_variant else None,
            display_name=display_name,
            description=description,
            now_ms=now,
        )
        repo.set_entitlements(
            store,
            new_id,
            max_model_strength=max_model_strength,
            max_active_assets=max_active_assets,
            reason="defaults",
            now_ms=now,
        )
    return require_clone(store, new_id)


def _require_free_pair(
    store: Store, model: str, variant: Variant | str, *, clone_id: int | None = None
) -> None:
    """ConflictError naming the trading clone (other than ``clone_id``) that already runs
    ``variant`` on ``model``."""
    holder = repo.trading_clone_with(store, model, str(variant), other_than=clone_id)
    if holder is not None:
        raise ConflictError(
            f"model {model!r} already runs variant {variant} in clone {holder['id']} "
            f"({holder['name']!r}); a model runs each variant once: disable clone "
            f"{holder['id']} first or choose another model or variant"
        )


def set_model(store: Store, clock: Clock, clone_id: int, model: str) -> CloneView:
    """Switch a clone's model; refused above its entitlement tier."""
    with store.atomic():
        clone = require_clone(store, clone_id)
        chosen = require_model(store, model)
        if chosen["strength"] > clone.max_model_strength:
            raise ConflictError(
                f"model {model!r} is strength {chosen['strength']}, above clone {clone_id}'s "
                f"entitlement ({clone.max_model_strength})"
            )
        if clone.variant is not None and clone.trading_enabled:
            _require_free_pair(store, model, clone.variant, clone_id=clone_id)
        repo.update_clone(store, clone_id, model=model, now_ms=clock.now_ms())
    return require_clone(store, clone_id)


def set_trading(store: Store, clock: Clock, clone_id: int, enabled: bool) -> CloneView:
    """Switch a clone's trading on or off; turning it on is refused while another trading
    clone runs its ``(model, variant)``."""
    with store.atomic():
        clone = require_clone(store, clone_id)
        if enabled and clone.variant is not None:
            _require_free_pair(store, clone.model, clone.variant, clone_id=clone_id)
        repo.update_clone(store, clone_id, trading_enabled=int(enabled), now_ms=clock.now_ms())
    return require_clone(store, clone_id)


def grant_entitlements(
    store: Store,
    clock: Clock,
    clone_id: int,
    *,
    max_model_strength: int | None,
    max_active_assets: int | None,
    reason: str | None,
) -> CloneView:
    """Change a clone's entitlements (unset values keep their current value)."""
    if max_model_strength is not None and not 0 <= max_model_strength <= 10:
        raise InvalidInputError("--max-model-strength must be between 0 and 10")
    if max_active_assets is not None and not 1 <= max_active_assets <= 1000:
        raise InvalidInputError("--max-active-assets must be between 1 and 1000")
    with store.atomic():
        clone = require_clone(store, clone_id)
        repo.set_entitlements(
            store,
            clone_id,
            max_model_strength=clone.max_model_strength
            if max_model_strength is None
            else max_model_strength,
            max_active_assets=clone.max_active_assets
            if max_active_assets is None
            else max_active_assets,
            reason=reason,
            now_ms=clock.now_ms(),
        )
    return require_clone(store, clone_id)


def add_model(
    store: Store,
    clock: Clock,
    *,
    name: str,
    provider: str,
    api_model: str,
    api: str,
    strength: int,
    input_usd_per_mtok: Decimal,
    output_usd_per_mtok: Decimal,
    base_url_setting: str = "OPENAI_BASE_URL",
) -> dict:
    """Add or update a model in the registry."""
    if api not in ("responses", "chat"):
        raise InvalidInputError("--api must be responses or chat")
    if base_url_setting not in tuple(BaseUrlSetting):
        known = ", ".join(BaseUrlSetting)
        raise InvalidInputError(f"--base-url-setting must be one of {known}")
    if not 0 <= strength <= 10:
        raise InvalidInputError("--strength must be between 0 and 10")
    for flag, price in (
        ("--input-usd-per-mtok", input_usd_per_mtok),
        ("--output-usd-per-mtok", output_usd_per_mtok),
    ):
        if not price.is_finite() or not 0 <= price <= MAX_USD_PER_MTOK:
            raise InvalidInputError(
                f"{flag}: a price from 0 to at most {MAX_USD_PER_MTOK} USD per million tokens"
            )
    with store.atomic():
        repo.upsert_model(
            store,
            name=name,
            provider=provider,
            base_url_setting=base_url_setting,
            api_model=api_model,
            api=api,
            strength=strength,
            input_usd_per_mtok=input_usd_per_mtok,
            output_usd_per_mtok=output_usd_per_mtok,
            now_ms=clock.now_ms(),
        )
    return require_model(store, name)
