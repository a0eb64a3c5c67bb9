"""``desk init``: the desk's clone and prop account, and the seed's company as data.

Idempotent: a second run writes only what is missing (a new agent, rule or worker of a later
version) and never overwrites an edit. The desk trades one prop account of its own clone, through
the same gates and fills as every other account.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal

from autotrader.clones import repo as clones_repo
from autotrader.clones.accounts import open_clone_account
from autotrader.clones.management import create_clone
from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import NotFoundError
from autotrader.desk import seeds
from autotrader.desk.models import POLICY_MODELS
from autotrader.desk.repo import config as repo
from autotrader.desk.repo import conversations as conversations_repo
from autotrader.desk.vocabulary import DeskWorker
from autotrader.market.registry import ensure_assets
from autotrader.prop import repo as prop_repo
from autotrader.prop.models import AccountKind, AccountRules, AccountStatus

DESK_OWNER = "desk"
DESK_CLONE_NAME = "desk"
DEFAULT_BALANCE = Decimal(1000)
"""USDC. With the seed's limits (60 USD positions, 2 % risk each) a 1,000 USD book fits them."""


@dataclass(frozen=True)
class DeskSetup:
    clone_id: int
    account_id: int
    account_opened: bool
    seeded: dict[str, int]  # rows written now, per kind


def init_desk(store: Store, clock: Clock, *, balance: Decimal = DEFAULT_BALANCE) -> DeskSetup:
    """Create what the desk needs and is missing; report what it did."""
    now = clock.now_ms()
    ensure_assets(store, clock)  # the gates know symbols from the registry
    with store.atomic():
        clone = clones_repo.clone_by_name(store, DESK_OWNER, DESK_CLONE_NAME)
        clone_id = clone["id"] if clone else _create_clone(store, clock)
        account_id = _active_account(store, clone_id)
        opened = account_id is None
        if account_id is None:
            account_id = open_clone_account(
                store,
                clock,
                clone_id=clone_id,
                kind=AccountKind.SANDBOX,
                starting_balance=balance,
                rules=AccountRules(),
            )
        seeded = _seed(store, now)
    return DeskSetup(clone_id, account_id, opened, seeded)


def desk_clone_id(store: Store) -> int:
    clone = clones_repo.clone_by_name(store, DESK_OWNER, DESK_CLONE_NAME)
    if clone is None:
        raise NotFoundError("the desk is not set up: run `autotrader desk init`")
    return clone["id"]


def desk_model(store: Store) -> str:
    """The desk clone's model: what its agents talk with unless ``AUTOTRADER_DESK_MODEL`` says
    otherwise."""
    return clones_repo.get_clone(store, desk_clone_id(store))["model"]


def desk_account_id(store: Store) -> int:
    """The desk's active prop account. Raises NotFoundError when the desk is not set up or
    its account has been frozen, liquidated or finalized."""
    account_id = _active_account(store, desk_clone_id(store))
    if account_id is None:
        raise NotFoundError(
            "the desk has no active prop account (frozen or closed?): see "
            "`autotrader prop accounts list`, then `autotrader desk init` opens a new one"
        )
    return account_id


def _create_clone(store: Store, clock: Clock) -> int:
    view = create_clone(
        store,
        clock,
        name=DESK_CLONE_NAME,
        owner=DESK_OWNER,
        display_name="The desk",
        description="The six-agent trading company (autotrader desk)",
    )
    return view.id


def _active_account(store: Store, clone_id: int) -> int | None:
    accounts = prop_repo.list_accounts(store, clone_id=clone_id, status=AccountStatus.ACTIVE)
    return accounts[-1]["id"] if accounts else None


def _seed(store: Store, now: int) -> dict[str, int]:
    written = {
        "agents": 0,
        "relationships": 0,
        "policies": 0,
        "triggers": 0,
        "patterns": 0,
        "formats": 0,
    }
    for agent in seeds.AGENTS:
        values = {**asdict(agent), "id": agent.id.value}
        written["agents"] += repo.insert_agent(store, values, now_ms=now)
    for a, b, affinity in seeds.RELATIONSHIPS:
        written["relationships"] += repo.insert_relationship(store, a, b, affinity, now_ms=now)
    for key, model in POLICY_MODELS.items():
        written["policies"] += repo.insert_policy(
            store, key.value, model().model_dump(mode="json"), now_ms=now
        )
    for rule in seeds.TRIGGERS:
        values = {
            "name": rule.name,
            "kind": rule.kind.value,
            "agent_id": rule.agent.value,
            "conditions": rule.conditions,
            "step_kind": rule.step_kind.value,
            "topics": list(rule.topics),
            "tags": list(rule.tags),
            "interval_minutes": rule.interval_minutes,
            "cooldown_minutes": rule.cooldown_minutes,
        }
        written["triggers"] += repo.insert_trigger(store, values, now_ms=now)
    for pattern in seeds.REACTION_MATRIX:
        values = {
            "name": pattern.name,
            "source": pattern.source,
            "tags": list(pattern.tags),
            "target_agent": pattern.target.value,
            "reaction_type": pattern.reaction_type,
            "step_kind": pattern.step_kind.value,
            "probability": pattern.probability,
            "cooldown_minutes": pattern.cooldown_minutes,
        }
        written["patterns"] += repo.insert_pattern(store, values, now_ms=now)
    for seed in seeds.FORMATS:
        values = {
            "format": seed.format.value,
            "purpose": seed.purpose,
            "participants": [a.value for a in seed.participants],
            "pool": [a.value for a in seed.pool],
            "min_participants": seed.seats[0],
            "max_participants": seed.seats[1],
            "min_turns": seed.turns[0],
            "max_turns": seed.turns[1],
            "temperature": seed.temperature,
            "days": [d.value for d in seed.days],
            "at": seed.at,
            "probability": seed.probability,
            "conditions": seed.conditions,
        }
        written["formats"] += conversations_repo.insert_format(store, values, now_ms=now)
    for worker in DeskWorker:
        repo.insert_worker(store, worker.value, now_ms=now)
    return written
