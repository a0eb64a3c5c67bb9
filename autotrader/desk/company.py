"""The company as editable data: agents, trigger rules and the reaction matrix.

Edits are validated here and refused with one line naming what is wrong; nothing changes then.
"""

from __future__ import annotations

from dataclasses import dataclass

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError, NotFoundError
from autotrader.desk.repo import config as repo
from autotrader.desk.repo import learning as learning_repo
from autotrader.desk.vocabulary import AgentId, TriggerKind

AGENT_FIELDS = ("role", "personality", "tone", "quirk", "voice", "directive")
_MAX_TEXT = 2000
_MAX_MINUTES = 7 * 24 * 60


def _agent_id(agent: str) -> AgentId:
    try:
        return AgentId(agent.strip().lower())
    except ValueError:
        raise NotFoundError(
            f"no agent {agent!r} (agents: {', '.join(a.value for a in AgentId)})"
        ) from None


def list_agents(store: Store) -> list[dict]:
    agents = repo.agents(store)
    if not agents:
        raise NotFoundError("the desk is not set up: run `autotrader desk init`")
    return agents


@dataclass(frozen=True)
class AgentView:
    agent: dict
    relationships: list[dict]
    memories: list[dict]


def show_agent(store: Store, agent: str) -> AgentView:
    """An agent's profile, its relationships (closest first) and its strongest memories."""
    agent_id = _agent_id(agent)
    row = repo.get_agent(store, agent_id.value)
    if row is None:
        raise NotFoundError("the desk is not set up: run `autotrader desk init`")
    return AgentView(
        row,
        repo.relationships_of(store, agent_id.value),
        learning_repo.memories_of(store, agent_id.value, limit=10),
    )


def set_agent(store: Store, clock: Clock, agent: str, **changes: str | None) -> dict:
    """Change an agent's profile fields (``None`` leaves a field as it is)."""
    agent_id = _agent_id(agent)
    values = {k: v.strip() for k, v in changes.items() if v is not None}
    unknown = sorted(set(values) - set(AGENT_FIELDS))
    if unknown:
        raise InvalidInputError(f"not agent fields: {', '.join(unknown)}")
    if not values:
        raise InvalidInputError(f"nothing to change: give one of --{', --'.join(AGENT_FIELDS)}")
    for name, value in values.items():
        if not value or len(value) > _MAX_TEXT:
            raise InvalidInputError(f"--{name}: 1 to {_MAX_TEXT} characters")
    with store.atomic():
        if repo.get_agent(store, agent_id.value) is None:
            raise NotFoundError("the desk is not set up: run `autotrader desk init`")
        repo.update_agent(store, agent_id.value, now_ms=clock.now_ms(), **values)
        return repo.get_agent(store, agent_id.value)  # type: ignore[return-value]


def _minutes(value: int | None, name: str, *, least: int = 0) -> None:
    if value is not None and not least <= value <= _MAX_MINUTES:
        raise InvalidInputError(f"{name}: {least} to {_MAX_MINUTES} minutes")


def set_trigger(
    store: Store,
    clock: Clock,
    name: str,
    *,
    enabled: bool | None = None,
    cooldown_minutes: int | None = None,
    interval_minutes: int | None = None,
    threshold: float | None = None,
) -> dict:
    """Switch a trigger rule on or off, change its cooldown, schedule or threshold (the one
    number its conditions compare against)."""
    _minutes(cooldown_minutes, "--cooldown")
    _minutes(interval_minutes, "--interval", least=1)
    with store.atomic():
        rule = repo.get_trigger(store, name)
        if rule is None:
            known = ", ".join(r["name"] for r in repo.triggers(store)) or "none: run desk init"
            raise NotFoundError(f"no trigger rule {name!r} (rules: {known})")
        changes: dict = {}
        if enabled is not None:
            changes["enabled"] = int(enabled)
        if cooldown_minutes is not None:
            changes["cooldown_minutes"] = cooldown_minutes
        if interval_minutes is not None:
            if rule["kind"] != TriggerKind.PROACTIVE:
                raise InvalidInputError(f"--interval: {name} is reactive (it has no schedule)")
            changes["interval_minutes"] = interval_minutes
        if threshold is not None:
            changes["conditions"] = _with_threshold(rule, threshold)
        if not changes:
            raise InvalidInputError("nothing to change: give --enable/--disable, --cooldown, ...")
        repo.update_trigger(store, rule["id"], now_ms=clock.now_ms(), **changes)
        return repo.get_trigger(store, name)  # type: ignore[return-value]


def _with_threshold(rule: dict, threshold: float) -> dict:
    numeric = [
        key
        for key, value in rule["conditions"].items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]
    if len(numeric) != 1:
        raise InvalidInputError(f"--threshold: {rule['name']} has no threshold to change")
    key = numeric[0]
    if key == "open_positions_at_least":
        if threshold != int(threshold) or not 1 <= threshold <= 100:
            raise InvalidInputError("--threshold: a whole number of positions, 1 to 100")
        return {**rule["conditions"], key: int(threshold)}
    if not -1 <= threshold <= 10:
        raise InvalidInputError("--threshold: a fraction such as 0.5 (+50 %) or -0.3 (-30 %)")
    return {**rule["conditions"], key: threshold}


def set_pattern(
    store: Store,
    clock: Clock,
    name: str,
    *,
    enabled: bool | None = None,
    probability: float | None = None,
    cooldown_minutes: int | None = None,
) -> dict:
    """Switch a reaction pattern on or off, change its probability or cooldown."""
    if probability is not None and not 0 <= probability <= 1:
        raise InvalidInputError("--probability: 0 to 1")
    _minutes(cooldown_minutes, "--cooldown")
    changes: dict = {}
    if enabled is not None:
        changes["enabled"] = int(enabled)
    if probability is not None:
        changes["probability"] = probability
    if cooldown_minutes is not None:
        changes["cooldown_minutes"] = cooldown_minutes
    if not changes:
        raise InvalidInputError("nothing to change: give --enable/--disable, --probability, ...")
    with store.atomic():
        pattern = repo.get_pattern(store, name)
        if pattern is None:
            known = ", ".join(p["name"] for p in repo.patterns(store)) or "none: run desk init"
            raise NotFoundError(f"no reaction pattern {name!r} (patterns: {known})")
        repo.update_pattern(store, pattern["id"], now_ms=clock.now_ms(), **changes)
        return repo.get_pattern(store, name)  # type: ignore[return-value]
