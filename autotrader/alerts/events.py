"""Noticing what is new since the last tick and queueing it in the outbox.

- fills: every fill after the last one seen (``alert_marks`` "fills"); a closing fill that a
  stop, target, time exit or liquidation triggered is that exit's event, any other a ``fill``.
  On the very first tick the mark starts at the newest fill: history is not news.
- accounts: an account that became frozen (a drawdown breach, or an admin) or liquidated.
- workers: a worker that became degraded (its breaker tripped) or stale (no heartbeat).
  A state already alarming on the first tick is alerted: it is a problem now.
- auditions: every audition passed or failed since the last one seen (the lifecycle timeline's
  verdict events); races: every race settled since the last one seen (its finish and pool). Both
  start, like fills, at the newest on the first tick.

Reads go through the prop, lifecycle and arena repos and ``core.worker_status``; each event is
queued once (its key is unique in the outbox), with one delivery per channel that wants it. One
short unit of work per tick, nothing sent inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from autotrader.alerts import repo
from autotrader.alerts.channels import Channel, allows
from autotrader.alerts.vocabulary import AlertEvent
from autotrader.arena.repo import settlements as settlements_repo
from autotrader.core.clock import Clock, iso_utc
from autotrader.core.db import Store
from autotrader.core.money import to_text
from autotrader.core.worker_status import worker_views
from autotrader.lifecycle.repo import timeline as timeline_repo
from autotrader.lifecycle.vocabulary import EventKind
from autotrader.prop import repo as prop_repo
from autotrader.prop.vocabulary import AccountStatus

MAX_FILLS_PER_TICK = 500  # the rest wait for the next tick, in order (auditions, races too)
_EXITS = {
    "STOP": AlertEvent.EXIT_STOP,
    "TARGET": AlertEvent.EXIT_TARGET,
    "TIME": AlertEvent.EXIT_TIME,
    "LIQUIDATION": AlertEvent.EXIT_LIQUIDATION,
}
_VERDICTS = {
    EventKind.AUDITION_PASSED.value: AlertEvent.AUDITION_PASSED,
    EventKind.AUDITION_FAILED.value: AlertEvent.AUDITION_FAILED,
}
_ACCOUNT_EVENTS = {
    AccountStatus.FROZEN.value: AlertEvent.ACCOUNT_FROZEN,
    AccountStatus.LIQUIDATED.value: AlertEvent.ACCOUNT_LIQUIDATED,
}


@dataclass(frozen=True)
class Event:
    key: str
    event: AlertEvent
    title: str
    body: str


class EventScan:
    """One pass: queue every new event for the channels (and the event filter) it is for."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        channels: list[Channel],
        *,
        events: frozenset[str],
        worker_stale_after_s: float,
    ) -> None:
        self.store = store
        self.clock = clock
        self.channels = channels
        self.events = events
        self.worker_stale_after_s = worker_stale_after_s

    def run(self) -> list[Event]:
        """The events queued by this pass."""
        now = self.clock.now_ms()
        queued = []
        with self.store.atomic():
            found = [*self._fills(now), *self._accounts(now), *self._workers(now),
                     *self._auditions(now), *self._races(now)]  # fmt: skip
            for event in found:
                if not allows(self.events, event.event):
                    continue
                channels = [c.name for c in self.channels if c.wants(event.event)]
                if not channels:
                    continue
                outbox_id = repo.enqueue(
                    self.store,
                    key=event.key,
                    event=event.event.value,
                    title=event.title,
                    body=event.body,
                    channels=channels,
                    now_ms=now,
                )
                if outbox_id is not None:
                    queued.append(event)
        return queued

    def _fills(self, now: int) -> list[Event]:
        mark = repo.get_mark(self.store, "fills")
        if mark is None:
            repo.set_mark(
                self.store, "fills", str(prop_repo.newest_fill_id(self.store)), now_ms=now
            )
            return []
        fills = prop_repo.fills_after(self.store, int(mark), limit=MAX_FILLS_PER_TICK)
        if fills:
            repo.set_mark(self.store, "fills", str(fills[-1]["id"]), now_ms=now)
        return [_fill_event(f) for f in fills]

    def _after_mark(self, name: str, newest, rows_after, now: int) -> list[dict]:
        """The rows after the mark ``name`` (by id), moving the mark past them; on the first
        tick the mark starts at the newest row (``newest()``) and nothing is news."""
        mark = repo.get_mark(self.store, name)
        if mark is None:
            repo.set_mark(self.store, name, str(newest(self.store)), now_ms=now)
            return []
        rows = rows_after(int(mark))
        if rows:
            repo.set_mark(self.store, name, str(rows[-1]["id"]), now_ms=now)
        return rows

    def _auditions(self, now: int) -> list[Event]:
        verdicts = self._after_mark(
            "auditions",
            timeline_repo.newest_event_id,
            lambda after: timeline_repo.events_after(
                self.store, after, tuple(_VERDICTS), limit=MAX_FILLS_PER_TICK
            ),
            now,
        )
        return [_audition_event(v) for v in verdicts]

    def _races(self, now: int) -> list[Event]:
        settled = self._after_mark(
            "races",
            settlements_repo.newest_settlement_id,
            lambda after: settlements_repo.settlements_after(
                self.store, after, limit=MAX_FILLS_PER_TICK
            ),
            now,
        )
        return [_race_event(s) for s in settled]

    def _accounts(self, now: int) -> list[Event]:
        events = []
        known = repo.marks(self.store, "account:")
        for account in prop_repo.list_accounts(self.store):
            name, status = f"account:{account['id']}", account["status"]
            if known.get(name) == status:
                continue
            repo.set_mark(self.store, name, status, now_ms=now)
            event = _ACCOUNT_EVENTS.get(status)
            if event is not None:
                what = f"account {account['id']} (clone {account['clone_id']}, {account['kind']})"
                events.append(
                    Event(
                        key=f"{name}:{status}:{account['updated_at']}",
                        event=event,
                        title=f"autotrader: {what} is {status}",
                        body=f"{what} is {status}: {account['status_reason'] or 'no reason given'}",
                    )
                )
        return events

    def _workers(self, now: int) -> list[Event]:
        events = []
        known = repo.marks(self.store, "worker:")
        views = worker_views(self.store, self.clock, stale_after_s=self.worker_stale_after_s)
        for worker in views:
            state = "stale" if worker.stale else worker.status
            name = f"worker:{worker.worker_id}"
            if known.get(name) == state:
                continue
            repo.set_mark(self.store, name, state, now_ms=now)
            if state not in ("degraded", "stale"):
                continue
            why = (
                f"no heartbeat since {worker.last_beat_at}"
                if state == "stale"
                else f"{worker.consecutive_failures} failures in a row: {worker.last_error or '?'}"
            )
            where = f"worker {worker.worker_id} ({worker.name} on {worker.host})"
            events.append(
                Event(
                    key=f"{name}:{state}:{worker.last_beat_at}",
                    event=AlertEvent.WORKER_STALE
                    if state == "stale"
                    else AlertEvent.WORKER_DEGRADED,
                    title=f"autotrader: worker {worker.name} is {state}",
                    body=f"{where} is {state}: {why}",
                )
            )
        return events


def _fill_event(fill: dict) -> Event:
    exit_event = _EXITS.get(fill["trigger"] or "") if fill["purpose"] == "CLOSE" else None
    event = exit_event or AlertEvent.FILL
    what = f"{fill['side']} {fill['qty']} {fill['symbol']} @ {fill['price']}"
    account = f"account {fill['account_id']}"
    if exit_event is not None:
        title = f"autotrader: {fill['symbol']} {fill['trigger'].lower()} exit, {account}"
    else:
        title = f"autotrader: {fill['purpose'].lower()} {fill['symbol']}, {account}"
    body = (
        f"{account}: {fill['purpose']} {what} (notional {fill['notional']},"
        f" fee {fill['fee']}) at {iso_utc(fill['created_at'])} — trace fill:{fill['id']}"
    )
    return Event(key=f"fill:{fill['id']}", event=event, title=title, body=body)


def _audition_event(event: dict) -> Event:
    verdict = _VERDICTS[event["event"]]
    outcome = "passed" if verdict == AlertEvent.AUDITION_PASSED else "failed"
    title = f"autotrader: clone {event['clone_id']} {outcome} its audition"
    body = (
        f"clone {event['clone_id']} {outcome} audition {event['audition_id']} (account"
        f" {event['account_id']}) at {iso_utc(event['created_at'])}: {event['reason']}"
    )
    return Event(key=f"audition:{event['audition_id']}", event=verdict, title=title, body=body)


def _race_event(settlement: dict) -> Event:
    race_id, finish = settlement["race_id"], settlement["finish"]
    placed = ", ".join(f"{n}. clone {c}" for n, c in enumerate(finish[:3], start=1))
    body = (
        f"race {race_id} settled at {iso_utc(settlement['settled_at'])}: {placed}"
        f"{' …' if len(finish) > 3 else ''}; pool {to_text(settlement['pool'])} USDC"
        f" ({settlement['tickets']} paid tickets) — payouts {to_text(settlement['payouts'])},"
        f" royalties"
        f" {to_text(settlement['royalties'])}, rake {to_text(settlement['rake'])} — see"
        f" `arena races show {race_id}`"
    )
    title = f"autotrader: race {race_id} settled, clone {finish[0]} won"
    return Event(key=f"race:{race_id}:settled", event=AlertEvent.RACE_SETTLED, title=title,
                 body=body)  # fmt: skip
