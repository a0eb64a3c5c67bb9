"""``desk status``: the book, every worker's breaker and processes, the last heartbeat, today."""

from __future__ import annotations

from dataclasses import dataclass, field

from autotrader.core import repo as core_repo
from autotrader.core.clock import DAY_MS, Clock, iso_utc
from autotrader.core.db import Store
from autotrader.core.money import to_text
from autotrader.core.worker_status import worker_views
from autotrader.desk.heartbeat import JOB_NAME
from autotrader.desk.repo import config as config_repo
from autotrader.desk.repo import conversations as conversations_repo
from autotrader.desk.repo import events as events_repo
from autotrader.desk.repo import learning as learning_repo
from autotrader.desk.repo import loop as loop_repo
from autotrader.desk.risk import read_book
from autotrader.desk.setup import desk_account_id, desk_clone_id
from autotrader.desk.vocabulary import DeskWorker, HeartbeatOp


@dataclass(frozen=True)
class WorkerStatus:
    name: str
    job: str
    state: str  # enabled | disabled: the desk's own breaker
    consecutive_failures: int
    failures: int
    last_error: str | None
    disabled_at: str | None
    live_processes: int
    last_tick_at: str | None
    last_tick: str | None


@dataclass(frozen=True)
class DeskStatus:
    as_of: str
    clone_id: int
    account_id: int
    equity: str
    cash: str
    positions: list[dict]
    workers: list[WorkerStatus]
    heartbeat: list[dict]
    today: dict[str, dict[str, int] | int] = field(default_factory=dict)
    totals: dict[str, dict[str, int]] = field(default_factory=dict)


def desk_status(store: Store, clock: Clock, *, stale_after_s: float) -> DeskStatus:
    now = clock.now_ms()
    midnight = now - now % DAY_MS
    account_id = desk_account_id(store)
    book = read_book(store, account_id, now)
    ticks = core_repo.last_action_runs(store)
    live = worker_views(store, clock, stale_after_s=stale_after_s)
    breakers = {row["name"]: row for row in config_repo.workers(store)}
    workers = []
    for worker in DeskWorker:
        row = breakers.get(worker.value, {})
        tick = ticks.get(worker.job)
        workers.append(
            WorkerStatus(
                name=worker.value,
                job=worker.job,
                state=row.get("state", "enabled"),
                consecutive_failures=row.get("consecutive_failures", 0),
                failures=row.get("failures", 0),
                last_error=row.get("last_error"),
                disabled_at=iso_utc(row["disabled_at"]) if row.get("disabled_at") else None,
                live_processes=sum(
                    1
                    for w in live
                    if w.name == worker.job and w.status != "stopped" and not w.stale
                ),
                last_tick_at=iso_utc(tick["started_at"]) if tick else None,
                last_tick=(tick["summary"] or tick["error"]) if tick else None,
            )
        )
    heartbeat = []
    for op in HeartbeatOp:
        run = ticks.get(f"{JOB_NAME}:{op}")
        if run is not None:
            heartbeat.append(
                {
                    "operation": op.value,
                    "at": iso_utc(run["started_at"]),
                    "duration_ms": run["duration_ms"],
                    "status": run["status"],
                    "summary": run["summary"],
                    "error": run["error"],
                }
            )
    return DeskStatus(
        as_of=iso_utc(now),
        clone_id=desk_clone_id(store),
        account_id=account_id,
        equity=to_text(book.equity),
        cash=to_text(book.cash),
        positions=[
            {
                "id": p.id,
                "symbol": p.symbol,
                "side": p.side.value,
                "qty": to_text(p.qty),
                "entry_price": to_text(p.entry_price),
                "mark": to_text(p.mark),
                "pnl_pct": f"{p.pnl_pct:+.2%}",
                "stop": to_text(p.stop) if p.stop is not None else None,
            }
            for p in book.positions
        ],
        workers=workers,
        heartbeat=heartbeat,
        today={
            "proposals": loop_repo.proposal_counts(store, since_ms=midnight),
            "events": events_repo.events_since(store, since_ms=midnight),
            "signals": learning_repo.signals_since(store, since_ms=midnight),
        },
        totals={
            "missions": loop_repo.mission_counts(store),
            "steps": loop_repo.step_counts(store),
            "roundtables": conversations_repo.roundtable_counts(store),
            "memories": learning_repo.memory_counts(store),
        },
    )
