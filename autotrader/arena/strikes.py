"""Retirement strikes: a clone finishing in the bottom ``ARENA_STRIKE_BOTTOM`` of a race gets a
strike (never the winner: in a two-clone race with a bottom of 3, only the second); with
``ARENA_STRIKES_TO_RETIRE`` strikes it retires — through the lifecycle's state machine, so its
arena slot is freed and its timeline shows the strikes and why it retired — and enters the Hall
of Fame. Each strike is also a ``strike`` note on the clone's timeline. Runs inside the
settlement's transaction: a settlement and its strikes commit together, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from autotrader.arena import hall_of_fame
from autotrader.arena.models import ArenaPolicy
from autotrader.arena.repo import records as repo
from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.lifecycle import state
from autotrader.lifecycle.state import Concerns
from autotrader.lifecycle.vocabulary import EventKind, Stage


@dataclass
class StrikeReport:
    struck: list[int] = field(default_factory=list)  # clone ids
    retired: list[int] = field(default_factory=list)


def struck_positions(entrants: int, bottom: int) -> range:
    """The finishing positions (1 = the winner) that get a strike in a race of ``entrants``."""
    return range(max(entrants - bottom, 1) + 1, entrants + 1)


def strike_bottom(
    store: Store,
    clock: Clock,
    race_id: int,
    finishers: Sequence[dict],
    policy: ArenaPolicy,
    *,
    actor: str,
) -> StrikeReport:
    """Strike the bottom of ``finishers`` (entrant rows, winner first) and retire those with
    enough strikes (inside the caller's transaction)."""
    report = StrikeReport()
    now = clock.now_ms()
    for position in struck_positions(len(finishers), policy.strike_bottom):
        entrant = finishers[position - 1]
        clone_id = entrant["clone_id"]
        if repo.insert_strike(store, clone_id=clone_id, race_id=race_id, finish=position,
                              entrants=len(finishers), now_ms=now) is None:  # fmt: skip
            continue
        report.struck.append(clone_id)
        strikes = repo.strikes_of(store, clone_id)
        state.note(
            store,
            clone_id,
            EventKind.STRIKE,
            actor=actor,
            reason=f"finished {position} of {len(finishers)} in race {race_id}: strike"
            f" {len(strikes)} of {policy.strikes_to_retire}",
            now_ms=now,
            concerns=Concerns(account_id=entrant["account_id"]),
        )
        if len(strikes) >= policy.strikes_to_retire and (
            state.stage_of(store, clone_id) == Stage.ARENA
        ):
            races = ", ".join(str(s["race_id"]) for s in strikes)
            hall_of_fame.retire_clone(
                store,
                clock,
                clone_id,
                reason=f"{len(strikes)} strikes (bottom finishes in races {races})",
                actor=actor,
            )
            report.retired.append(clone_id)
    return report
