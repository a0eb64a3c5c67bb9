"""Which strategy, account and memories a clone's context for one asset is built from."""

from __future__ import annotations

from autotrader.clones.management import require_clone
from autotrader.clones.pipelines import compiled
from autotrader.clones.plan import CompiledStrategy
from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError, NotFoundError
from autotrader.prop import repo as prop_repo
from autotrader.prop.vocabulary import AccountStatus


def strategy_for(
    strategies: tuple[CompiledStrategy, ...], symbol: str, strategy_id: str | None
) -> CompiledStrategy:
    """The named strategy, or the first enabled one whose universe holds ``symbol``."""
    if strategy_id is not None:
        found = next((s for s in strategies if s.strategy_id == strategy_id), None)
        if found is None:
            names = ", ".join(s.strategy_id for s in strategies)
            raise NotFoundError(f"no strategy {strategy_id!r} (this pipeline has: {names})")
        if symbol not in found.read_plans:
            raise InvalidInputError(f"{symbol} is not in strategy {strategy_id!r}'s universe")
        return found
    for strategy in strategies:
        if strategy.enabled and symbol in strategy.read_plans:
            return strategy
    raise InvalidInputError(f"{symbol} is in no enabled strategy's universe of this clone")


def active_account(store: Store, clone_id: int) -> int | None:
    """The clone's newest active prop account, if it has one."""
    accounts = prop_repo.list_accounts(store, clone_id=clone_id, status=AccountStatus.ACTIVE)
    return accounts[-1]["id"] if accounts else None


def context_for(
    store: Store,
    clock: Clock,
    clone_id: int,
    symbol: str,
    *,
    strategy_id: str | None = None,
    account_id: int | None = None,
    budget_tokens: int = 6000,
    memories=(),
):
    """The context packet a decision of clone ``clone_id`` on ``symbol`` reads now."""
    from autotrader.context.packet import build_context

    require_clone(store, clone_id)
    pipeline = compiled(store, clone_id)
    strategy = strategy_for(pipeline.strategies, symbol, strategy_id)
    account = account_id if account_id is not None else active_account(store, clone_id)
    return build_context(
        store,
        clock,
        strategy,
        symbol,
        account_id=account,
        memories=memories,
        budget_tokens=budget_tokens,
        clone_id=clone_id,
    )
