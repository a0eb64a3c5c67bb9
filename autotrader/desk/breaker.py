"""Each desk worker's own circuit breaker, kept in the store so it survives restarts.

Three consecutive failures disable the worker: it claims nothing until someone re-enables it
(``desk worker NAME --reset``), however often it is restarted, and ``desk status`` shows it. A
failure is the worker failing to do its job — its handler raising, the model server unreachable
— never a refusal it records (a trade the prop gates reject, a model answer that fails the
schema): those are outcomes. Success resets the count.

The job harness (``core/worker.py``) has a breaker too, per process: it backs a worker off when
its *tick* raises (the store is busy, say). A desk worker's tick does not raise for a failed
step — it records it here and returns — so the two count different things and never fight.
"""

from __future__ import annotations

from autotrader.core.clock import Clock, iso_utc
from autotrader.core.db import Store
from autotrader.core.errors import NotFoundError
from autotrader.desk.repo import config as repo
from autotrader.desk.vocabulary import DeskWorker, WorkerState

TRIP_AFTER = 3


class Breaker:
    def __init__(self, store: Store, clock: Clock, worker: DeskWorker) -> None:
        self.store = store
        self.clock = clock
        self.worker = worker

    def _row(self) -> dict:
        row = repo.get_worker(self.store, self.worker.value)
        if row is None:
            raise NotFoundError("the desk is not set up: run `autotrader desk init`")
        return row

    def disabled(self) -> str | None:
        """Why the worker is disabled, or None when it may work."""
        row = self._row()
        if row["state"] != WorkerState.DISABLED:
            return None
        return (
            f"disabled since {iso_utc(row['disabled_at'])} after {TRIP_AFTER} failures in a row "
            f"(last: {row['last_error']}); `autotrader desk worker {self.worker} --reset` "
            "re-enables it"
        )

    def failed(self, error: str) -> bool:
        """Count a failure; True when it tripped the breaker now."""
        self._row()
        with self.store.atomic():
            row = repo.record_worker_failure(
                self.store,
                self.worker.value,
                error=error[:500],
                trip_after=TRIP_AFTER,
                now_ms=self.clock.now_ms(),
            )
        return row["consecutive_failures"] == TRIP_AFTER

    def succeeded(self) -> None:
        with self.store.atomic():
            repo.record_worker_success(self.store, self.worker.value, now_ms=self.clock.now_ms())

    def reset(self) -> None:
        self._row()
        with self.store.atomic():
            repo.enable_worker(self.store, self.worker.value, now_ms=self.clock.now_ms())
