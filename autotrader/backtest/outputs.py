"""The files a backtest leaves beside its store: the equity and drawdown chart (PNG) and the
trades export (CSV or Parquet), both written whole or not at all by the ledger's writers."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from autotrader.core.db import Store
from autotrader.core.errors import ConflictError
from autotrader.ledger.export import export
from autotrader.ledger.plot import plot_equity
from autotrader.ledger.queries import LedgerFilter

TRADE_FORMATS = ("csv", "parquet")


@dataclass(frozen=True)
class BacktestFiles:
    store: Path
    chart: Path
    trades: Path
    trades_count: int


def new_run_id(now: datetime | None = None) -> str:
    """``bt-20260219T182000Z-3f9a``: when it started (UTC), and four random hex digits so two
    runs started in one second never share a store."""
    moment = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"bt-{moment}-{secrets.token_hex(2)}"


def store_path(folder: Path, run_id: str) -> Path:
    """Where the run's store goes; ConflictError when something is there already."""
    path = folder.expanduser() / f"{run_id}.db"
    if path.exists():
        raise ConflictError(f"{path} already exists; a backtest writes a store of its own")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def write_files(
    store: Store, accounts: list[int], run_id: str, *, until_ms: int, trades_format: str = "csv"
) -> BacktestFiles:
    """Chart the accounts' equity (the first one's drawdowns shaded; returns in % when there
    are several) and export every trade, next to the store."""
    folder = store.path.parent
    chart = folder / f"{run_id}-equity.png"
    plot_equity(store, accounts[0], chart, compare=accounts[1:])
    trades = folder / f"{run_id}-trades.{trades_format}"
    written = export(
        store, what="trades", fmt=trades_format, flt=LedgerFilter(), now_ms=until_ms, out=trades
    )
    return BacktestFiles(store.path, chart, trades, written.rows)
