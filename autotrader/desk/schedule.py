"""When the formats meet: wall-clock times in the desk's time zone, and ad-hoc debates.

A scheduled format meets at its ``at`` time (``HH:MM``, in ``AUTOTRADER_DESK_TIMEZONE``: US
Pacific, as the seed's times are) on its ``days``; a meeting is *due* from that moment for
:data:`GRACE_MS` (a worker that starts late still holds the morning standup at 8, not at noon),
and its slot is ``<format>@<local date>``, so it meets once that day. A debate has no time: a
pair whose affinity is below the format's ``affinity_below`` is due a debate once a local day
(slot ``debate:<a>-<b>@<local date>``). Whether a due meeting happens is the format's
``probability``, drawn once per slot (the same draw however often the worker looks), and its
conditions (a position review needs an open position); then
:func:`~autotrader.desk.roundtables.convene` queues it through the daily cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.desk.chance import draw
from autotrader.desk.formats import Format, load_formats
from autotrader.desk.repo import conversations as repo
from autotrader.desk.risk import read_book
from autotrader.desk.roundtables import QUEUED_STALE_MS, convene
from autotrader.desk.setup import desk_account_id
from autotrader.desk.vocabulary import AgentId, Weekday

GRACE_MS = QUEUED_STALE_MS
"""How long after its time a meeting is still held (as long as a queued one may wait)."""


@dataclass(frozen=True)
class Meeting:
    """A meeting that is due: its format, its slot, who sits first."""

    format: Format
    slot: str
    first: tuple[AgentId, ...] = ()


def local_date(now_ms: int, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(now_ms / 1000, zone).date()


def due_slot(fmt: Format, now_ms: int, zone: ZoneInfo) -> str | None:
    """The slot of ``fmt``'s meeting that is due at ``now_ms``, if one is."""
    if not fmt.scheduled:
        return None
    assert fmt.at is not None
    hours, minutes = (int(part) for part in fmt.at.split(":"))
    today = local_date(now_ms, zone)
    for day in (today, today - timedelta(days=1)):  # a late meeting may cross midnight
        if list(Weekday)[day.weekday()] not in fmt.days:
            continue
        at_ms = int(datetime.combine(day, time(hours, minutes), zone).timestamp() * 1000)
        if at_ms <= now_ms < at_ms + GRACE_MS:
            return f"{fmt.format}@{day.isoformat()}"
    return None


def due_debates(
    fmt: Format, affinities: dict[tuple[str, str], float], now_ms: int, zone: ZoneInfo
) -> list[Meeting]:
    """A debate for each pair below the format's ``affinity_below``, once a local day."""
    below = fmt.conditions.get("affinity_below")
    if below is None:
        return []
    day = local_date(now_ms, zone).isoformat()
    return [
        Meeting(fmt, f"{fmt.format}:{a}-{b}@{day}", (AgentId(a), AgentId(b)))
        for (a, b), affinity in sorted(affinities.items())
        if affinity < below
    ]


@dataclass
class ScheduleReport:
    queued: list[int] = field(default_factory=list)
    not_drawn: int = 0  # due, but the format's probability said no
    unmet: int = 0  # due, but its conditions do not hold
    refused: list[str] = field(default_factory=list)  # the gate that refused each


def due_meetings(store: Store, now_ms: int, zone: ZoneInfo) -> list[Meeting]:
    """Every meeting due now whose slot has no roundtable yet."""
    meetings = []
    affinities = None
    for fmt in load_formats(store):
        if not fmt.enabled:
            continue
        if fmt.scheduled:
            slot = due_slot(fmt, now_ms, zone)
            meetings += [Meeting(fmt, slot)] if slot else []
        else:
            affinities = affinities if affinities is not None else repo.affinities(store)
            meetings += due_debates(fmt, affinities, now_ms, zone)
    return [m for m in meetings if not repo.slot_taken(store, m.slot)]


def schedule_due(store: Store, clock: Clock, *, zone: ZoneInfo) -> ScheduleReport:
    """Convene every meeting that is due, drawn and whose conditions hold."""
    report = ScheduleReport()
    now = clock.now_ms()
    open_positions = None
    for meeting in due_meetings(store, now, zone):
        fmt = meeting.format
        if draw("convene", meeting.slot) >= fmt.probability:
            report.not_drawn += 1
            continue
        needed = fmt.conditions.get("open_positions_at_least")
        if needed is not None:
            if open_positions is None:
                open_positions = len(read_book(store, desk_account_id(store), now).positions)
            if open_positions < needed:
                report.unmet += 1
                continue
        convened = convene(store, clock, fmt, slot=meeting.slot, first=meeting.first)
        if convened.refused is not None:
            report.refused.append(convened.refused.gate)
        elif convened.roundtable_id is not None:
            report.queued.append(convened.roundtable_id)
    return report
