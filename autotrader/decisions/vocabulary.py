"""The decision loop's closed vocabularies, each defined once (standard library only)."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """A decision run: queued → running → succeeded | failed; skipped when never eligible."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


class ActionStatus(StrEnum):
    """What became of one intent of a run."""

    HOLD = "hold"  # nothing to do
    REJECTED = "rejected"  # a safety gate refused it
    EXECUTED = "executed"  # filled
    ACCEPTED = "accepted"  # passed the gates, not filled (a dry run)
    FAILED = "failed"  # allowed by the table; no code path records it today
