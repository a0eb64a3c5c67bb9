"""Exports of the ledger, trades, snapshots and NAV series as CSV, JSON or Parquet.

Promises: every Decimal is written as its canonical string (never a float), ids and epoch-ms
times as integers, ``None`` as null (CSV has no null: an empty cell). What is written reads
back equal with :func:`load` — the schema below says each column's type, so CSV cells come back
as the same ints and strings. Rows stream in batches, so a million-entry ledger does not sit in
memory. Parquet needs a file (``out``); CSV and JSON go to ``out`` or the given text stream. A
file is written through :func:`~autotrader.core.outputs.output_file`: never over the store being
read, an existing file only with ``force``, and whole or not at all.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from autotrader.core.clock import iso_utc
from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError
from autotrader.core.money import to_text
from autotrader.core.outputs import output_file
from autotrader.ledger.queries import LedgerFilter, TradeFilter, iter_entries, performance, trades

FORMATS = ("csv", "json", "parquet")
WHATS = ("ledger", "trades", "snapshots")

_D, _I, _T = "decimal", "int", "text"
SCHEMAS: dict[str, dict[str, str]] = {
    "ledger": {
        "id": _I,
        "time": _T,
        "created_at": _I,
        "account_id": _I,
        "clone_id": _I,
        "kind": _T,
        "amount": _D,
        "balance_after": _D,
        "symbol": _T,
        "fill_id": _I,
        "order_id": _I,
        "position_id": _I,
        "decision_run_id": _I,
        "reason": _T,
        "idempotency_key": _T,
    },
    "trades": {
        "position_id": _I,
        "account_id": _I,
        "clone_id": _I,
        "symbol": _T,
        "side": _T,
        "status": _T,
        "qty": _D,
        "entry_price": _D,
        "exit_price": _D,
        "leverage": _D,
        "fees": _D,
        "funding": _D,
        "realized": _D,
        "liquidation": _D,
        "net_pnl": _D,
        "return_pct": _D,
        "opened_at": _I,
        "closed_at": _I,
        "holding_ms": _I,
        "close_trigger": _T,
        "mark_price": _D,
        "unrealized": _D,
    },
    "nav": {"group": _T, "time": _I, "at": _T, "nav": _D, "accounts": _I},
    "snapshots": {
        "id": _I,
        "account_id": _I,
        "time": _I,
        "balance": _D,
        "cash": _D,
        "margin_used": _D,
        "unrealized_pnl": _D,
        "equity": _D,
        "peak_equity": _D,
        "drawdown": _D,
        "open_positions": _I,
        "last_ledger_id": _I,
    },
}


@dataclass(frozen=True)
class ExportResult:
    what: str
    format: str
    rows: int
    path: Path | None  # None: written to the stream


def _cell(value: Any, kind: str) -> str | int | None:
    if value is None:
        return None
    if kind == _D:
        return to_text(value if isinstance(value, Decimal) else Decimal(str(value)))
    return int(value) if kind == _I else str(value)


def records(
    store: Store, what: str, flt: LedgerFilter, *, now_ms: int
) -> Iterator[dict[str, str | int | None]]:
    """The rows of ``what`` matching ``flt``, normalised to the export schema (Decimals as
    canonical strings)."""
    if what not in WHATS:
        raise InvalidInputError(f"--what must be one of {', '.join(WHATS)}")
    schema = SCHEMAS[what]
    if what == "ledger":
        source: Iterator[dict] = (
            entry | {"time": iso_utc(entry["created_at"])} for entry in iter_entries(store, flt)
        )
    elif what == "trades":
        tf = TradeFilter(flt.account_id, flt.clone_id, flt.symbol, flt.since_ms, flt.until_ms)
        report = trades(store, tf, now_ms=now_ms)
        source = (asdict(t) for t in [*report.closed, *report.open])
    else:
        source = iter(performance.snapshots(store, flt))
    for row in source:
        yield normalise(row, schema)


def normalise(row: dict, schema: dict[str, str]) -> dict[str, str | int | None]:
    """``row`` reduced to ``schema``'s columns, each as its export type (Decimal → string)."""
    return {column: _cell(row.get(column), kind) for column, kind in schema.items()}


def export(
    store: Store,
    *,
    what: str,
    fmt: str,
    flt: LedgerFilter,
    now_ms: int,
    out: Path | None = None,
    stream: TextIO | None = None,
    force: bool = False,
) -> ExportResult:
    """Write ``what`` as ``fmt`` to ``out`` (a file) or ``stream``; returns the row count.

    Raises ConflictError, before reading a row, when ``out`` is the store or one of its side
    files, or exists and ``force`` is not given.
    """
    rows = records(store, what, flt, now_ms=now_ms)
    return write(rows, what, fmt, stores=[store.path], out=out, stream=stream, force=force)


def write(
    rows: Iterator[dict],
    what: str,
    fmt: str,
    *,
    stores: list[Path],
    out: Path | None = None,
    stream: TextIO | None = None,
    force: bool = False,
    schema: dict[str, str] | None = None,
) -> ExportResult:
    """Write ``rows`` (normalised to ``schema``, by default ``SCHEMAS[what]``) as ``fmt`` to
    ``out`` or ``stream``.

    ``stores`` are the stores the rows come from: ``out`` may be none of them (nor their side
    files), and replaces an existing file only with ``force`` — ConflictError otherwise, before
    a row is read. Another package's exports (the arena's payouts) pass a ``schema`` of their
    own, in the same column types.
    """
    if fmt not in FORMATS:
        raise InvalidInputError(f"--format must be one of {', '.join(FORMATS)}")
    if schema is None and what not in SCHEMAS:  # a schema of its own names its own rows
        raise InvalidInputError(f"--what must be one of {', '.join(WHATS)}")
    schema = schema or SCHEMAS[what]
    if fmt == "parquet" and out is None:
        raise InvalidInputError("--format parquet writes a binary file: give --out PATH")
    if out is None and stream is None:
        raise InvalidInputError("give --out PATH (or a stream)")
    if out is None:
        count = _WRITERS[fmt](rows, schema, stream)  # type: ignore[arg-type]
        return ExportResult(what, fmt, count, None)
    with output_file(out, stores=stores, force=force) as temp:
        if fmt == "parquet":
            count = _write_parquet(rows, schema, temp)
        else:
            with temp.open("w", encoding="utf-8", newline="") as handle:
                count = _WRITERS[fmt](rows, schema, handle)
    return ExportResult(what, fmt, count, out)


def write_csv(rows: Iterator[dict], schema: dict[str, str], handle: TextIO) -> int:
    """Normalised ``rows`` as CSV with a header (None → empty cell); returns the row count."""
    writer = csv.DictWriter(handle, fieldnames=list(schema), lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
        count += 1
    return count


def write_json(rows: Iterator[dict], schema: dict[str, str], handle: TextIO) -> int:
    """Normalised ``rows`` as one JSON array, written row by row; returns the row count."""
    count = 0
    handle.write("[")
    for row in rows:
        handle.write(("," if count else "") + "\n  " + json.dumps(row, ensure_ascii=False))
        count += 1
    handle.write("\n]\n" if count else "]\n")
    return count


_WRITERS = {"csv": write_csv, "json": write_json}


def _write_parquet(rows: Iterator[dict], schema: dict[str, str], out: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = pa.schema(
        [(name, pa.int64() if kind == _I else pa.string()) for name, kind in schema.items()]
    )
    count, batch = 0, []
    with pq.ParquetWriter(out, arrow) as writer:
        for row in rows:
            batch.append(row)
            if len(batch) == 50_000:
                writer.write_table(pa.Table.from_pylist(batch, schema=arrow))
                count, batch = count + len(batch), []
        if batch or not count:
            writer.write_table(pa.Table.from_pylist(batch, schema=arrow))
            count += len(batch)
    return count


def load(
    path: Path, fmt: str, what: str, schema: dict[str, str] | None = None
) -> list[dict[str, str | int | None]]:
    """Read an export back, typed by its schema (the inverse of :func:`export`)."""
    schema = schema or SCHEMAS[what]
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    if fmt == "json":
        return json.loads(path.read_text(encoding="utf-8"))
    with path.open(encoding="utf-8", newline="") as handle:  # cells may hold newlines
        return [
            {k: None if v == "" else int(v) if schema[k] == _I else v for k, v in row.items()}
            for row in csv.DictReader(handle)
        ]
