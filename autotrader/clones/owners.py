"""Owners: who a clone belongs to — a handle and, once named, the EVM address the owner pays
from. Audition fees, public profiles and later royalties belong to owners; the payment verifier
matches transfers against the address stored here (EIP-55 checksummed, unique per owner).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from autotrader.clones import repo
from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import ConflictError, InvalidInputError, NotFoundError
from autotrader.core.evm import checksum_address

DEFAULT_OWNER = "local"
# Letters, digits, '.', '_' and '-': never ':' — the economy ledger names the protocol's own
# holders ``protocol:…``, and no owner may be mistaken for one.
_HANDLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")


@dataclass(frozen=True)
class OwnerView:
    handle: str
    evm_address: str | None
    clones: int = 0


def validate_handle(handle: str) -> str:
    """``handle`` when it is 1–32 letters, digits, '.', '_' or '-' (starting with a letter or
    digit); ``InvalidInputError`` otherwise."""
    if not isinstance(handle, str) or not _HANDLE.match(handle):
        raise InvalidInputError(
            "--owner: 1–32 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return handle


def require_owner(store: Store, handle: str) -> OwnerView:
    row = repo.get_owner(store, handle)
    if row is None:
        raise NotFoundError(
            f"owner {handle!r} does not exist (see `autotrader clones owners list`)"
        )
    return OwnerView(row["handle"], row["evm_address"])


def list_owners(store: Store) -> list[OwnerView]:
    return [OwnerView(r["handle"], r["evm_address"], r["clones"]) for r in repo.list_owners(store)]


def ensure_owner(
    store: Store, clock: Clock, handle: str, *, evm_address: str | None = None
) -> OwnerView:
    """The owner ``handle``, created when new. An address given for an owner that has none is
    recorded; one that contradicts the owner's address, or belongs to another owner, is refused
    (``ConflictError``), so money from one address is only ever matched to one owner."""
    validate_handle(handle)
    address = checksum_address(evm_address, field="--owner-address") if evm_address else None
    now = clock.now_ms()
    with store.atomic():
        row = repo.get_owner(store, handle)
        if address is not None:
            _refuse_taken(store, address, handle)
        if row is None:
            repo.insert_owner(store, handle, evm_address=address, now_ms=now)
        elif address is not None and row["evm_address"] not in (None, address):
            raise ConflictError(
                f"owner {handle!r} pays from {row['evm_address']}, not {address}"
                " (change it with `autotrader clones owners set`)"
            )
        elif address is not None and row["evm_address"] is None:
            repo.set_owner_address(store, handle, address, now_ms=now)
    return require_owner(store, handle)


def set_owner_address(store: Store, clock: Clock, handle: str, evm_address: str) -> OwnerView:
    """Record (or change) the address ``handle`` pays from. Fees requested before keep the
    address they were requested with."""
    address = checksum_address(evm_address, field="--address")
    with store.atomic():
        require_owner(store, handle)
        _refuse_taken(store, address, handle)
        repo.set_owner_address(store, handle, address, now_ms=clock.now_ms())
    return require_owner(store, handle)


def _refuse_taken(store: Store, address: str, handle: str) -> None:
    holder = repo.owner_by_address(store, address)
    if holder is not None and holder["handle"] != handle:
        raise ConflictError(f"{address} already belongs to owner {holder['handle']!r}")


def owner_of_clone(store: Store, clone_id: int) -> OwnerView:
    """The owner of ``clone_id``; ``NotFoundError`` when the clone does not exist."""
    row = repo.get_clone(store, clone_id)
    if row is None:
        raise NotFoundError(f"clone {clone_id} does not exist (see `autotrader clones list`)")
    return OwnerView(row["owner"], row["owner_address"])
