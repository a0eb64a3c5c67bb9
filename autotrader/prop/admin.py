"""Admin controls: freeze, unfreeze, close every position, finalize. Each is ledgered with its
reason (a zero-amount ADJUSTMENT entry, so the audit trail shows who stopped what and why)."""

from __future__ import annotations

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import ConflictError, InvalidInputError
from autotrader.core.money import ZERO
from autotrader.market.view import execution_price
from autotrader.prop import repo as prop_repo
from autotrader.prop.accounts import require_account
from autotrader.prop.booking import book_system_close, plan_full_close
from autotrader.prop.final import take_final_snapshot
from autotrader.prop.gates import Precision
from autotrader.prop.vocabulary import AccountStatus, IntentOrigin, LedgerKind, Venue

_ACTIVE, _FROZEN, _LIQUIDATED = AccountStatus.ACTIVE, AccountStatus.FROZEN, AccountStatus.LIQUIDATED
_ALLOWED_FROM = {
    "freeze": {_ACTIVE},
    "unfreeze": {_FROZEN},
    "close-all": {_ACTIVE, _FROZEN, _LIQUIDATED},
    "finalize": {_ACTIVE, _FROZEN, _LIQUIDATED},
}
_STATUS_AFTER = {"freeze": _FROZEN, "unfreeze": _ACTIVE, "finalize": AccountStatus.FINALIZED}


def _audit(store: Store, account_id: int, action: str, reason: str, now: int) -> None:
    prop_repo.append_entry(
        store,
        account_id,
        LedgerKind.ADJUSTMENT,
        ZERO,
        now_ms=now,
        reason=f"admin {action}: {reason}",
    )


def admin_action(
    store: Store, clock: Clock, precision: Precision, *, account_id: int, action: str, reason: str
) -> str:
    """Apply an admin action and return a one-line summary. Refuses a missing reason and an
    action that makes no sense for the account's status."""
    if not reason.strip():
        raise InvalidInputError("--reason is required for admin actions (it goes in the ledger)")
    if action not in _ALLOWED_FROM:
        raise InvalidInputError(f"unknown admin action {action!r}")
    with store.atomic():
        now = clock.now_ms()  # under the write lock: no entry can be dated after it meanwhile
        account = require_account(store, account_id)
        if account["status"] not in _ALLOWED_FROM[action]:
            raise ConflictError(f"cannot {action} account {account_id}: it is {account['status']}")
        closed = 0
        if action in ("close-all", "finalize"):
            closed = _close_all(store, account, precision, reason, now)
        _audit(store, account_id, action, reason, now)
        new_status = _STATUS_AFTER.get(action)
        if new_status:
            prop_repo.set_account_status(store, account_id, new_status, reason=reason, now_ms=now)
        if action == "finalize":
            take_final_snapshot(store, account_id, now)
    return f"account {account_id}: {action} done ({closed} positions closed)"


def _close_all(store: Store, account: dict, precision: Precision, reason: str, now: int) -> int:
    """Close every open position at the latest price, trigger ADMIN (gates bypassed: an admin
    may flatten a frozen account)."""
    positions = prop_repo.open_positions(store, account["id"])
    venue = Venue(account["venue"])
    if positions and venue.is_live:
        # A close booked here would be a fill that never happened on the exchange.
        raise ConflictError(
            f"account {account['id']} trades on {venue}: close its positions on the exchange "
            f"with `autotrader live halt --account {account['id']} --flatten`"
        )
    for position in positions:
        latest = execution_price(store, position["symbol"], now)
        reference = (
            latest.price if latest else (position["last_mark_price"] or position["entry_price"])
        )
        fill = plan_full_close(
            position,
            reference,
            account["rules"],
            precision,
            slippage_bps=account["rules"].slippage_bps,
        )
        book_system_close(
            store,
            account=account,
            position=position,
            fill=fill,
            origin=IntentOrigin.ADMIN,
            code="admin_close",
            reason=reason,
            trigger="ADMIN",
            now_ms=now,
        )
    return len(positions)
