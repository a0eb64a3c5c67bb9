"""The agent's step: its live venues reconciled when due, then the clone's decision tick — the
decision runner's own, as ``decisions worker`` runs it, for this clone only — and how long to
sleep before the next one (until the clone is next due: the Planner's ``next_wakeup_secs``).

Between two full reconciliations, every step still books first the closes the exchange made
on its own — a stop or target it triggered while the agent slept — so that no step decides on
a position the exchange no longer holds (adding to it would leave the store holding more than
the exchange, and freeze the account at the next reconciliation). A reconciliation that fails
fails the step before anything is decided (never trade on unknown state); while a halt is in
force a live clone decides nothing (no model call, no order).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from autotrader.agent.boot import Booted, boot
from autotrader.core.clock import SECOND_MS
from autotrader.core.errors import AutotraderError, InvalidInputError
from autotrader.core.jobs import JobEnv
from autotrader.core.worker import TickContext, TickReport
from autotrader.decisions.jobs import DecisionsJob
from autotrader.decisions.scheduler import next_due_at
from autotrader.prop.vocabulary import Venue

if TYPE_CHECKING:
    from autotrader.live.client import HyperliquidTrader

AGENT_JOB = "agent"
log = logging.getLogger("autotrader.agent")


class AgentJob:
    def __init__(
        self, env: JobEnv, booted: Booted, traders: Callable[[Venue], HyperliquidTrader]
    ) -> None:
        from autotrader.decisions.factory import decision_runner
        from autotrader.prop.factory import precision

        self.env = env
        self.booted = booted
        self.traders = traders
        self.runner = decision_runner(env.settings, env.store, env.clock, worker_id=env.worker_id)
        self.decisions = DecisionsJob(self.runner, clone_id=booted.clone_id)
        self.precision = precision(env.store, env.clock)
        self.reconcile_due = env.clock.now_ms()  # the first step reconciles before it decides

    def __call__(self, ctx: TickContext) -> TickReport:
        from autotrader.live.factory import halted

        synced = self._reconcile_if_due() or self._book_exchange_exits()
        if self.booted.venues and halted(self.env.settings):
            summary = "; ".join([*synced, "live trading is halted: nothing decided"])
            return TickReport(summary, idle=True, next_tick_in=self._sleep_s())
        report = self.decisions(ctx)
        return replace(
            report,
            summary="; ".join([*synced, report.summary]),
            next_tick_in=self._sleep_s(),
        )

    def shutdown(self) -> list[str]:
        """Cancel the clone's resting orders that protect nothing (graceful shutdown); one line
        per venue. A venue that cannot be reached is logged, never raised: the agent is
        stopping either way."""
        from autotrader.live.shutdown import cancel_unprotective

        lines = []
        for venue in self.booted.venues:
            try:
                cancelled = cancel_unprotective(
                    self.env.store, self.traders(venue), self.booted.account_ids
                )
            except AutotraderError as exc:
                log.warning("%s: resting orders not cancelled at shutdown: %s", venue, exc)
                lines.append(f"{venue}: resting orders NOT cancelled ({exc})")
                continue
            lines.append(f"{venue}: {len(cancelled)} resting order(s) cancelled")
        return lines

    def _reconcile_if_due(self) -> list[str]:
        from autotrader.live.reconcile import reconcile

        now = self.env.clock.now_ms()
        if not self.booted.venues or now < self.reconcile_due:
            return []
        store, clock = self.env.store, self.env.clock
        results = [
            reconcile(store, clock, venue, self.traders(venue), self.precision)
            for venue in self.booted.venues
        ]
        interval_ms = round(self.env.settings.agent_reconcile_interval_s * SECOND_MS)
        self.reconcile_due = now + interval_ms
        return [r.summary() for r in results]

    def _book_exchange_exits(self) -> list[str]:
        """Book the stops and targets the exchange triggered since the last step."""
        from autotrader.live.reconcile import book_exchange_exits, live_accounts

        booked = []
        for venue in self.booted.venues:
            ours = [
                a
                for a in live_accounts(self.env.store, venue)
                if a["id"] in self.booted.account_ids
            ]
            booked += book_exchange_exits(
                self.env.store, self.env.clock, self.traders(venue), ours, self.precision
            )
        return [f"booked {'; '.join(booked)}"] if booked else []

    def _sleep_s(self) -> float:
        """Seconds until the clone is next due (or the next reconciliation, if sooner), within
        ``AUTOTRADER_AGENT_MIN_SLEEP_S`` … ``AUTOTRADER_AGENT_MAX_SLEEP_S``."""
        settings, now = self.env.settings, self.env.clock.now_ms()
        due = next_due_at(self.env.store, self.booted.clone_id, now, plans=self.runner.plans)
        wake = [due] if due is not None else []
        if self.booted.venues:
            wake.append(self.reconcile_due)
        seconds = (min(wake) - now) / SECOND_MS if wake else settings.agent_max_sleep_s
        return min(max(seconds, settings.agent_min_sleep_s), settings.agent_max_sleep_s)


def agent_job(env: JobEnv) -> AgentJob:
    """Boot the agent for ``env.option("clone_id")`` (:func:`autotrader.agent.boot.boot`) and
    return its step. Raises what boot raises; nothing is traded before it returns."""
    from autotrader.live.factory import trader

    clone_id = env.option("clone_id")
    if clone_id is None:
        raise InvalidInputError("the agent trades one clone: autotrader agent run --clone-id ID")
    clients: dict[Venue, HyperliquidTrader] = {}

    def traders(venue: Venue) -> HyperliquidTrader:
        if venue not in clients:
            clients[venue] = trader(env.settings, venue)
        return clients[venue]

    return AgentJob(env, boot(env.settings, env.store, env.clock, clone_id, traders), traders)
