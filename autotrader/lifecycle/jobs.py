"""The lifecycle's loops: evaluate due auditions, admit the promotion queue into the arena, and
reconcile pending fees (verify what the treasury received, expire what it did not)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autotrader.core.errors import TemporaryError
from autotrader.core.worker import TickContext, TickReport

if TYPE_CHECKING:
    from autotrader.core.clock import Clock
    from autotrader.core.db import Store
    from autotrader.core.jobs import JobEnv
    from autotrader.lifecycle.evaluation import AuditionEvaluator
    from autotrader.lifecycle.fees import FeePolicy


class AuditionsJob:
    def __init__(self, evaluator: AuditionEvaluator, *, audition_id: int | None = None) -> None:
        self.evaluator = evaluator
        self.audition_id = audition_id

    def __call__(self, ctx: TickContext) -> TickReport:
        report = self.evaluator.evaluate_due(audition_id=self.audition_id)
        passed = sum(d.passed for d in report.decisions)
        return TickReport(
            summary=report.summary(),
            counts={"decided": len(report.decisions), "passed": passed},
            idle=not report.claimed,
            result=report,
        )


def auditions_job(env: JobEnv) -> AuditionsJob:
    """Options: ``audition`` (one audition id, for ``lifecycle auditions run-once --audition``)."""
    from autotrader.lifecycle.factory import audition_evaluator

    evaluator = audition_evaluator(env.settings, env.store, env.clock, worker_id=env.worker_id)
    return AuditionsJob(evaluator, audition_id=env.option("audition"))


class ArenaEntryJob:
    def __init__(self, store: Store, clock: Clock, *, slots: int, actor: str) -> None:
        from autotrader.lifecycle.promotion import entitlement_check

        self.store = store
        self.clock = clock
        self.slots = slots
        self.actor = actor
        self.entitlements = entitlement_check(store)

    def __call__(self, ctx: TickContext) -> TickReport:
        from autotrader.lifecycle.promotion import admit_from_queue

        report = admit_from_queue(
            self.store,
            self.clock,
            slots=self.slots,
            actor=self.actor,
            entitlements=self.entitlements,
        )
        return TickReport(
            summary=report.summary(),
            counts={"admitted": len(report.admitted), "deferred": len(report.deferred)},
            idle=not report.admitted and not report.deferred,
            result=report,
        )


def arena_entry_job(env: JobEnv) -> ArenaEntryJob:
    return ArenaEntryJob(env.store, env.clock, slots=env.settings.arena_slots, actor=env.worker_id)


class ReconcileJob:
    def __init__(self, store: Store, clock: Clock, policy: FeePolicy, verifier, *, actor: str):
        self.store = store
        self.clock = clock
        self.policy = policy
        self.verifier = verifier
        self.actor = actor

    def __call__(self, ctx: TickContext) -> TickReport:
        from autotrader.lifecycle.fees import reconcile

        report = reconcile(
            self.store, self.clock, self.policy, verifier=self.verifier, actor=self.actor
        )
        if report.error:
            # What could be done is committed; the harness backs off and tries the rest again.
            raise TemporaryError(report.summary())
        return TickReport(
            summary=report.summary(),
            counts={"verified": len(report.verified), "expired": len(report.expired)},
            idle=not (report.verified or report.expired or report.outcomes),
            result=report,
        )


def reconcile_job(env: JobEnv) -> ReconcileJob:
    from autotrader.lifecycle.factory import treasury_verifier
    from autotrader.lifecycle.fees import FeePolicy

    return ReconcileJob(
        env.store,
        env.clock,
        FeePolicy.from_settings(env.settings),
        treasury_verifier(env.settings, env.clock),
        actor=env.worker_id,
    )
