"""Who holds which decision run: recovering the claims of workers that are gone, and handing a
busy store's interrupted runs back to the queue as they were.

A run is claimed (``running``, ``claimed_by`` the worker id ``name@host:pid``) until its actions
and status commit together. Two things can leave a claim behind:

- its worker died (kill -9, a crash, a reboot): :func:`recover_abandoned` requeues the claims
  of workers known to be gone at once, and any claim older than a stale window as a fallback;
- the store was busy (a lock timeout is a ``TemporaryError``): the runner gives every run it
  holds back with :class:`HeldRuns`, its attempt not counted and nothing recorded, so a later
  tick decides it again as if for the first time.
"""

from __future__ import annotations

import logging

from autotrader.core.db import Store
from autotrader.core.errors import TemporaryError
from autotrader.core.worker_status import gone_workers
from autotrader.decisions import repo

log = logging.getLogger("autotrader.decisions")


def recover_abandoned(
    store: Store,
    *,
    now_ms: int,
    stale_after_ms: int,
    heartbeat_stale_after_s: float,
    max_attempts: int,
) -> int:
    """Requeue runs whose worker is gone (its process, or its heartbeat: ``gone_workers``) at
    once, whatever the clock says, and any other claim older than ``stale_after_ms`` (the
    fallback for a worker that cannot be judged, such as one whose pid was reused). Runs tried
    ``max_attempts`` times are failed instead. Returns how many runs were requeued."""
    gone = gone_workers(
        store, repo.claimants(store), now_ms=now_ms, stale_after_s=heartbeat_stale_after_s
    )
    orphaned, _ = repo.recover_claims_of(store, gone, now_ms=now_ms, max_attempts=max_attempts)
    stale, _ = repo.recover_stale(
        store, now_ms=now_ms, stale_after_ms=stale_after_ms, max_attempts=max_attempts
    )
    return orphaned + stale


class HeldRuns:
    """The runs one worker claimed and has not finished yet, with their attempt counts from
    before the claim, so that a busy store's interrupted runs go back exactly as they were.

    A put-back the busy store refuses as well stays pending in memory and is retried first
    thing next tick; should the worker die meanwhile, its claims are a gone worker's.
    """

    def __init__(self, store: Store, worker_id: str) -> None:
        self.store = store
        self.worker_id = worker_id
        self._attempts: dict[int, int] = {}  # run id -> attempts before this claim

    def __len__(self) -> int:
        return len(self._attempts)

    def hold(self, run: dict) -> None:
        self._attempts.setdefault(run["id"], run["attempts"])

    def done(self, run_id: int) -> None:
        """The run's outcome is committed: it is no longer ours to give back."""
        self._attempts.pop(run_id, None)

    def put_back(self) -> int:
        """Return every held run to the queue; how many went back. Raises ``TemporaryError``
        (keeping them held) when the store is still busy."""
        if not self._attempts:
            return 0
        returned = repo.release_runs(self.store, self.worker_id, self._attempts)
        self._attempts.clear()
        return returned

    def put_back_after(self, busy: TemporaryError, *, finished: int) -> TemporaryError:
        """Put the held runs back after ``busy`` interrupted the tick, and the error the tick
        raises for it (the worker backs off; any worker's later tick takes the runs again)."""
        held = len(self)
        try:
            self.put_back()
            what = f"{held} decision runs put back in the queue"
        except TemporaryError:
            log.warning("%d decision runs stay claimed until the store is free", held)
            what = f"{held} decision runs to put back in the queue next tick"
        return TemporaryError(f"{busy} ({what}, {finished} finished before)")
