"""The alerts' closed vocabularies, each defined once (standard library only)."""

from __future__ import annotations

from enum import StrEnum


class AlertEvent(StrEnum):
    """What an alert is about. The part before the dot is its family: a filter naming
    ``exit`` takes every ``exit.*`` event."""

    FILL = "fill"
    EXIT_STOP = "exit.stop"
    EXIT_TARGET = "exit.target"
    EXIT_TIME = "exit.time"
    EXIT_LIQUIDATION = "exit.liquidation"
    ACCOUNT_FROZEN = "account.frozen"  # a drawdown breach (or an admin) froze it
    ACCOUNT_LIQUIDATED = "account.liquidated"  # its equity reached zero
    WORKER_DEGRADED = "worker.degraded"
    WORKER_STALE = "worker.stale"
    AUDITION_PASSED = "audition.passed"  # a clone's audition was judged: it joins the queue
    AUDITION_FAILED = "audition.failed"
    RACE_SETTLED = "race.settled"  # a race's pool was paid out: its finish and settlement
    TEST = "test"

    @property
    def family(self) -> str:
        return self.value.split(".", 1)[0]


class DeliveryStatus(StrEnum):
    """One message to one channel: pending (to send, or to retry) → sent | failed (retries
    used up) | dropped (over the channel's rate limit)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    DROPPED = "dropped"
