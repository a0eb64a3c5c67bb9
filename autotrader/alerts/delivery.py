"""Sending what the outbox holds: due deliveries are leased, sent outside any transaction,
and their outcome recorded (one attempt row each).

- Over its rate limit (``AUTOTRADER_ALERT_RATE_LIMIT`` messages in the last hour) a channel's
  message is dropped and recorded as such: an alert storm must not turn into a spam storm.
- A failed send is retried after 30 s, 1 min, 2 min, … (at most an hour), up to
  ``AUTOTRADER_ALERT_RETRIES`` times, then recorded as failed with its last error.
- A channel no longer configured (its position in the setting changed) fails at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from autotrader.alerts import repo
from autotrader.alerts.channels import Channel
from autotrader.alerts.channels import send as apprise_send
from autotrader.alerts.vocabulary import DeliveryStatus
from autotrader.core.clock import HOUR_MS, Clock
from autotrader.core.db import Store

RETRY_BASE_MS = 30_000
LEASE_MS = 5 * 60_000  # a worker that dies mid-send leaves its batch to be retried after this
BATCH = 100

Sender = Callable[[Channel, str, str], "str | None"]


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    dropped: int = 0
    errors: list[str] = field(default_factory=list)  # "channel: why", for the tick summary

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed + self.dropped


def retry_delay_ms(attempts: int) -> int:
    """The wait after the ``attempts``-th failure: 30 s doubling, capped at an hour."""
    return min(HOUR_MS, RETRY_BASE_MS * 2 ** max(0, attempts - 1))


class Deliverer:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        channels: list[Channel],
        *,
        rate_limit: int,
        retries: int,
        sender: Sender = apprise_send,
    ) -> None:
        self.store = store
        self.clock = clock
        self.channels = {c.name: c for c in channels}
        self.rate_limit = rate_limit
        self.retries = retries
        self.sender = sender

    def run(self) -> DeliveryReport:
        report = DeliveryReport()
        now = self.clock.now_ms()
        for delivery in repo.claim_due(self.store, now_ms=now, lease_ms=LEASE_MS, limit=BATCH):
            self._deliver(delivery, report)
        return report

    def _deliver(self, delivery: dict, report: DeliveryReport) -> None:
        now = self.clock.now_ms()
        name = delivery["channel"]
        channel = self.channels.get(name)
        if (
            channel is not None
            and repo.sent_since(self.store, name, now - HOUR_MS) >= self.rate_limit
        ):
            error = f"dropped: {name} was sent {self.rate_limit} messages in the last hour"
            self._record(delivery, DeliveryStatus.DROPPED, error, now, attempted=False)
            report.dropped += 1
            return
        if channel is None:
            error = f"{name} is no longer configured in AUTOTRADER_ALERT_URLS"
        else:
            error = self.sender(channel, delivery["title"], delivery["body"])
        now = self.clock.now_ms()
        attempts = delivery["attempts"] + 1
        if error is None:
            self._record(delivery, DeliveryStatus.SENT, None, now, attempts=attempts)
            report.sent += 1
            return
        report.errors.append(f"{name}: {error}")
        if channel is not None and attempts <= self.retries:
            due = now + retry_delay_ms(attempts)
            self._record(delivery, DeliveryStatus.PENDING, error, now, attempts=attempts, due=due)
            report.retrying += 1
        else:
            self._record(delivery, DeliveryStatus.FAILED, error, now, attempts=attempts)
            report.failed += 1

    def _record(
        self,
        delivery: dict,
        status: DeliveryStatus,
        error: str | None,
        now: int,
        *,
        attempts: int | None = None,
        due: int | None = None,
        attempted: bool = True,
    ) -> None:
        repo.record_attempt(
            self.store,
            delivery["id"],
            status=status.value,
            attempts=delivery["attempts"] if attempts is None else attempts,
            next_attempt_at=due if due is not None else now,
            error=error,
            now_ms=now,
            attempted=attempted,
        )
