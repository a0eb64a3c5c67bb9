"""The prop account a clone's decisions trade on."""

from __future__ import annotations

from decimal import Decimal

from autotrader.clones.accounts import open_clone_account
from autotrader.clones.management import require_clone
from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.prop import repo as prop_repo
from autotrader.prop.models import AccountKind, AccountRules, AccountStatus

SANDBOX_BALANCE = Decimal(10_000)


def ensure_account(store: Store, clock: Clock, clone_id: int) -> tuple[int, bool]:
    """The clone's newest active account, opening a sandbox with default rules when it has
    none. Returns ``(account_id, opened_now)``."""
    require_clone(store, clone_id)
    accounts = prop_repo.list_accounts(store, clone_id=clone_id, status=AccountStatus.ACTIVE)
    if accounts:
        return accounts[-1]["id"], False
    account_id = open_clone_account(
        store,
        clock,
        clone_id=clone_id,
        kind=AccountKind.SANDBOX,
        starting_balance=SANDBOX_BALANCE,
        rules=AccountRules(),
    )
    return account_id, True
