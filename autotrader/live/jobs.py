"""The live package's loop: reconciliation of every live venue against the store."""

from __future__ import annotations

from autotrader.core.jobs import JobEnv
from autotrader.core.worker import TickContext, TickReport


class ReconcileJob:
    def __init__(self, env: JobEnv) -> None:
        self.env = env

    def __call__(self, ctx: TickContext) -> TickReport:
        from autotrader.live.factory import reconcile_all

        results = reconcile_all(self.env.settings, self.env.store, self.env.clock)
        drifts = sum(len(r.drifts) for r in results)
        return TickReport(
            summary="; ".join(r.summary() for r in results) or "no live accounts",
            counts={"venues": len(results), "drifts": drifts},
            idle=not results,
            result=results,
        )


def reconcile_job(env: JobEnv) -> ReconcileJob:
    return ReconcileJob(env)
