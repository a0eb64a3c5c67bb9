"""The decisions job: due runs → context → engine → intents → gates → fills."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autotrader.core.worker import TickContext, TickReport
from autotrader.decisions.vocabulary import ActionStatus

if TYPE_CHECKING:
    from autotrader.core.jobs import JobEnv
    from autotrader.decisions.runner import DecisionRunner


class DecisionsJob:
    """One decision tick over every active account, or — for ``decisions run-once`` — one
    clone's due runs with the command's overrides (``tick_options``)."""

    def __init__(self, runner: DecisionRunner, **tick_options: Any) -> None:
        self.runner = runner
        self.tick_options = tick_options

    def __call__(self, ctx: TickContext) -> TickReport:
        outcome = self.runner.tick(**self.tick_options)
        fills = sum(a["status"] == ActionStatus.EXECUTED for r in outcome.runs for a in r.actions)
        return TickReport(
            summary=outcome.summary(),
            counts={"runs": len(outcome.runs), "fills": fills},
            idle=not outcome.runs,
            failed=outcome.all_failed,
            result=outcome,
        )


def decisions_job(env: JobEnv) -> DecisionsJob:
    """Options (all for a one-clone run, ``decisions run-once``): ``clone_id``, ``force``,
    ``asset``, ``engine``, ``dry_run``; with a clone id only the runs this pass queued run."""
    from autotrader.decisions.factory import decision_runner

    runner = decision_runner(env.settings, env.store, env.clock, worker_id=env.worker_id)
    options = {
        key: env.options[key]
        for key in ("clone_id", "force", "asset", "engine", "dry_run")
        if env.options.get(key) is not None
    }
    if "clone_id" in options:
        options["only_scheduled"] = True
    return DecisionsJob(runner, **options)
