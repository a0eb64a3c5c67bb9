"""The arena's loop, ``arena-races``: one tick reconciles pending tickets (pays what the
treasury received, expires what it did not), launches the races whose start has come, settles
the ones whose end has, inducts retired clones missing from the Hall of Fame and archives old
races. Every step is guarded or claimed, so any number of workers may run it, and one killed
mid-tick leaves work the next one finishes once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from autotrader.core.errors import TemporaryError
from autotrader.core.worker import TickContext, TickReport

if TYPE_CHECKING:
    from autotrader.arena.models import ArenaPolicy
    from autotrader.arena.races import LaunchReport
    from autotrader.arena.settlement import RaceSettler, SettleReport
    from autotrader.arena.tickets import ReconcileReport
    from autotrader.core.clock import Clock
    from autotrader.core.db import Store
    from autotrader.core.jobs import JobEnv
    from autotrader.lifecycle.verifiers import HyperliquidVerifier


@dataclass
class RacesTick:
    tickets: ReconcileReport
    launched: LaunchReport
    settled: SettleReport
    inducted: list[int] = field(default_factory=list)
    archived: list[int] = field(default_factory=list)

    def summary(self) -> str:
        launch = self.launched
        return (
            f"{self.tickets.summary()}; {len(launch.launched)} launched,"
            f" {len(launch.cancelled)} cancelled; {self.settled.summary()};"
            f" {len(self.inducted)} inducted, {len(self.archived)} archived"
        )

    @property
    def idle(self) -> bool:
        return not (self.tickets.paid or self.tickets.expired or self.launched.launched
                    or self.launched.cancelled or self.settled.claimed or self.inducted
                    or self.archived)  # fmt: skip


class RacesJob:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        settler: RaceSettler,
        policy: ArenaPolicy,
        verifier: HyperliquidVerifier | None,
        *,
        actor: str,
        race_id: int | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.settler = settler
        self.policy = policy
        self.verifier = verifier
        self.actor = actor
        self.race_id = race_id

    def __call__(self, ctx: TickContext) -> TickReport:
        from autotrader.arena import hall_of_fame, races, tickets
        from autotrader.arena.races import LaunchReport
        from autotrader.arena.tickets import ReconcileReport

        if self.race_id is not None:  # `run-once --race ID`: settle that race only
            report = RacesTick(ReconcileReport(), LaunchReport(),
                               self.settler.settle_due(race_id=self.race_id))  # fmt: skip
            return self._report(report)
        report = RacesTick(
            tickets=tickets.reconcile(
                self.store, self.clock, verifier=self.verifier, actor=self.actor
            ),
            launched=races.launch_due(self.store, self.clock, actor=self.actor),
            settled=self.settler.settle_due(),
        )
        report.inducted = hall_of_fame.induct_missing(self.store, self.clock)
        report.archived = races.archive_settled(self.store, self.clock, self.policy)
        if report.tickets.error:
            # What could be done is committed; the harness backs off and asks the treasury again.
            raise TemporaryError(report.summary())
        return self._report(report)

    def _report(self, report: RacesTick) -> TickReport:
        return TickReport(
            summary=report.summary(),
            counts={
                "launched": len(report.launched.launched),
                "settled": len(report.settled.settled),
                "expired": len(report.tickets.expired),
            },
            idle=report.idle,
            result=report,
        )


def races_job(env: JobEnv) -> RacesJob:
    """Options: ``race`` (one race id, for ``arena races run-once --race``)."""
    from autotrader.arena.models import ArenaPolicy
    from autotrader.arena.settlement import RaceSettler
    from autotrader.lifecycle.factory import treasury_verifier
    from autotrader.prop.factory import precision

    policy = ArenaPolicy.from_settings(env.settings)
    settler = RaceSettler(
        env.store,
        env.clock,
        precision(env.store, env.clock),
        policy,
        worker_id=env.worker_id,
        stale_after_ms=int(env.settings.worker_stale_after * 1000),
    )
    return RacesJob(
        env.store,
        env.clock,
        settler,
        policy,
        treasury_verifier(env.settings, env.clock),
        actor=env.worker_id,
        race_id=env.option("race"),
    )
