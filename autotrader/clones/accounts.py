"""Opening a prop account for a clone: the one service every caller uses (``prop accounts
create``, the decision loop's sandbox, auditions and races), so an account can never trade for
a clone that does not exist. ``prop.accounts.open_account`` is the primitive below it."""

from __future__ import annotations

from decimal import Decimal

from autotrader.clones.management import require_clone
from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.prop.accounts import open_account
from autotrader.prop.models import AccountKind, AccountRules


def open_clone_account(
    store: Store,
    clock: Clock,
    *,
    clone_id: int,
    kind: AccountKind | str,
    starting_balance: Decimal,
    rules: AccountRules,
    venue: str = "paper",
    deposit_cap: Decimal | None = None,
) -> int:
    """Open an active account for ``clone_id`` with its deposit; its id. Raises
    ``NotFoundError`` when the clone does not exist, ``InvalidInputError`` for bad amounts (or
    a real-venue account without a deposit cap)."""
    with store.atomic():
        require_clone(store, clone_id)
        return open_account(
            store,
            clock,
            clone_id=clone_id,
            kind=AccountKind(kind),
            starting_balance=starting_balance,
            rules=rules,
            venue=venue,
            deposit_cap=deposit_cap,
        )
