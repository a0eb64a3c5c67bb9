"""Exports of the arena's money records — settlement rows (payouts, royalties, rake, dust,
refunds) and tickets — as CSV, JSON or Parquet, through the ledger's writers: Decimals as
canonical strings, the file whole or not at all, never over the store, an existing file only
with ``force``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from autotrader.arena.repo import settlements as settlements_repo
from autotrader.arena.repo import tickets as tickets_repo
from autotrader.core.clock import iso_utc
from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError
from autotrader.ledger.export import ExportResult, normalise, write

_D, _I, _T = "decimal", "int", "text"
SCHEMAS: dict[str, dict[str, str]] = {
    "payouts": {"id": _I, "race_id": _I, "kind": _T, "holder": _T, "amount": _D,
                "clone_id": _I, "finish": _I, "stake": _D, "ticket_id": _I, "txn": _T,
                "created_at": _I, "time": _T},
    "tickets": {"id": _I, "race_id": _I, "clone_id": _I, "owner": _T, "amount": _D,
                "status": _T, "reference": _T, "transfer_reference": _T, "created_at": _I,
                "expires_at": _I, "paid_at": _I, "reason": _T},
}  # fmt: skip
WHATS = tuple(SCHEMAS)


def records(
    store: Store, what: str, *, race_id: int | None = None, owner: str | None = None
) -> Iterator[dict]:
    """The rows of ``what`` (of one race, one owner), normalised to its export schema."""
    if what == "payouts":
        rows = settlements_repo.rows(store, race_id=race_id, holder=owner)
        source = (row | {"time": iso_utc(row["created_at"])} for row in rows)
    else:
        source = iter(tickets_repo.list_tickets(store, race_id=race_id, owner=owner))
    for row in source:
        yield normalise(row, SCHEMAS[what])


def export(
    store: Store,
    *,
    what: str,
    fmt: str,
    race_id: int | None = None,
    owner: str | None = None,
    out: Path | None = None,
    stream: TextIO | None = None,
    force: bool = False,
) -> ExportResult:
    """Write ``what`` as ``fmt`` to ``out`` (a file) or ``stream``; the row count."""
    if what not in SCHEMAS:
        raise InvalidInputError(f"--what must be one of {', '.join(WHATS)}")
    rows = records(store, what, race_id=race_id, owner=owner)
    return write(rows, what, fmt, stores=[store.path], out=out, stream=stream, force=force,
                 schema=SCHEMAS[what])  # fmt: skip
