"""The ``alerts`` job: queue what is new, then send what is due (``alerts.events``,
``alerts.delivery``). Runs as its own worker, so a slow or failing channel never holds up a
trading loop."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autotrader.core.worker import TickContext, TickReport

if TYPE_CHECKING:
    from autotrader.alerts.delivery import Deliverer
    from autotrader.alerts.events import EventScan
    from autotrader.core.jobs import JobEnv


class AlertsJob:
    def __init__(self, scan: EventScan, deliverer: Deliverer) -> None:
        self.scan = scan
        self.deliverer = deliverer

    def __call__(self, ctx: TickContext) -> TickReport:
        queued = self.scan.run()
        report = self.deliverer.run()
        summary = (
            f"{len(queued)} queued; {report.sent} sent, {report.retrying} to retry, "
            f"{report.failed} failed, {report.dropped} dropped"
        )
        if report.errors:
            summary += f" ({report.errors[0]})"
        return TickReport(
            summary=summary,
            counts={"queued": len(queued), "sent": report.sent, "failed": report.failed},
            idle=not queued and not report.attempted,
            result=report,
        )


def alerts_job(env: JobEnv) -> AlertsJob:
    from autotrader.alerts.channels import channels_from_settings, parse_event_filter
    from autotrader.alerts.delivery import Deliverer
    from autotrader.alerts.events import EventScan

    settings = env.settings
    channels = channels_from_settings(settings)
    scan = EventScan(
        env.store,
        env.clock,
        channels,
        events=parse_event_filter(settings.alert_events),
        worker_stale_after_s=settings.worker_stale_after,
    )
    deliverer = Deliverer(
        env.store,
        env.clock,
        channels,
        rate_limit=settings.alert_rate_limit,
        retries=settings.alert_retries,
    )
    return AlertsJob(scan, deliverer)
