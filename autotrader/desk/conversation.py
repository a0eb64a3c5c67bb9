"""Holding a roundtable: turn by turn, one model call a turn, then what the conversation decided.

1. *Plan*: the number of turns (a draw in the format's range) and the format's temperature.
2. *Context*, read once when it starts — the book and limits, the latest signals, the proposal on
   the table, the memories that shaped its topic, the participants' affinities — so every turn
   of one conversation sees the same data, and a rerun over the same store asks the same
   questions (and is answered from the response cache, byte for byte, at no cost).
3. *Turns*: the next speaker (:mod:`autotrader.desk.speakers`), one call through the model client
   (role ``roundtable``, the strict :class:`~autotrader.desk.answers.TurnAnswer` schema, the
   format's temperature, trace ``desk:roundtable:<id>:turn:<seq>``; the prompt and the judging
   of the answer are :mod:`autotrader.desk.turns`), and the turn recorded in a unit of work of
   its own. A *bad turn* — prose, broken JSON, extra keys, another agent's name,
   a refusal, a truncation, a timeout or a dead server — is recorded with its reason and the
   conversation goes on with the next speaker; :data:`MAX_BAD_IN_A_ROW` bad turns in a row end
   it cleanly, failed, with that reason.
4. *Ending*, in one unit of work: with at least :data:`MIN_SPOKEN` good turns the conversation
   succeeded — its memory candidates are validated and remembered (:mod:`~autotrader.desk.distill`),
   relationships drift (:mod:`~autotrader.desk.drift`), the proposal on the table gets the
   participants' verdict (:func:`~autotrader.desk.proposals.decide_pending`: approved, it faces
   the cap gates again) and up to :data:`MAX_ACTION_ITEMS` action items become proposals through
   :func:`~autotrader.desk.proposals.submit_raw` (source ``worker``, ``source_ref``
   ``roundtable:<id>:turn:<seq>``). Otherwise it failed, and the proposal it was to decide is
   rejected (``roundtable.failed``).

The worker holds the roundtable by its claim; one the heartbeat has failed as stale meanwhile
stops at the next turn and writes nothing more.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.desk import proposals
from autotrader.desk.answers import TurnAnswer
from autotrader.desk.chance import draw
from autotrader.desk.distill import remember_candidates
from autotrader.desk.drift import Exchange, apply_drift, pair
from autotrader.desk.events import Event, emit
from autotrader.desk.formats import Format, load_format
from autotrader.desk.policies import load_policies
from autotrader.desk.prompts import persona
from autotrader.desk.repo import conversations as repo
from autotrader.desk.repo import learning as learning_repo
from autotrader.desk.repo import loop as loop_repo
from autotrader.desk.roundtables import reject_its_proposal
from autotrader.desk.setup import desk_model
from autotrader.desk.speakers import next_speaker
from autotrader.desk.turns import SCHEMA_NAME, SYSTEM, Turn, judge, opening, turn_prompt
from autotrader.desk.vocabulary import (
    AgentId,
    ProposalSource,
    ProposalStatus,
    RoundtableStatus,
    TurnStatus,
    Vote,
)
from autotrader.llm.vocabulary import ModelRole

NEEDS_A_MODEL = (
    "a roundtable needs a model: set OPENAI_API_KEY (or OPENAI_BASE_URL for a local "
    "OpenAI-compatible server such as Ollama or vLLM)"
)
MAX_BAD_IN_A_ROW = 3
MIN_SPOKEN = 2
MAX_ACTION_ITEMS = 3


@dataclass
class Held:
    """How holding one roundtable went."""

    roundtable_id: int
    status: RoundtableStatus | None = None  # None: the claim was lost (failed as stale)
    line: str = ""  # its summary or why it failed
    turns: list[Turn] = field(default_factory=list)
    unreachable: bool = False  # it ended because the model server could not be reached

    @property
    def lost(self) -> bool:
        return self.status is None


@dataclass(frozen=True)
class _Context:
    """What every turn of one conversation is told (read once, when it starts)."""

    roundtable: dict
    format: Format
    participants: tuple[AgentId, ...]
    turns: int
    model: str
    shared: str  # the prompt's opening: the table, the topic, the data
    affinities: dict[tuple[str, str], float]
    proposal: dict | None

    @property
    def id(self) -> int:
        return self.roundtable["id"]

    def affinity(self, a: AgentId | None, b: AgentId) -> float:
        return self.affinities.get(pair(a, b), 0.5) if a is not None else 1.0


class RoundtableRunner:
    """Holds roundtables for one worker, through ``client`` (the product's model client), with
    ``model`` (default: the desk clone's)."""

    def __init__(self, store: Store, clock: Clock, client, *, model: str | None = None) -> None:
        self.store = store
        self.clock = clock
        self.client = client
        self.model = model

    def hold(self, *, worker_id: str, roundtable_id: int | None = None) -> Held | None:
        """Claim the oldest queued roundtable (or that one) and hold it; None when there was
        none to claim."""
        row = repo.claim_roundtable(
            self.store, worker_id=worker_id, now_ms=self.clock.now_ms(), roundtable_id=roundtable_id
        )
        return None if row is None else self.hold_claimed(row, worker_id)

    def hold_claimed(self, row: dict, worker_id: str) -> Held:
        """Hold the roundtable ``row`` that ``worker_id`` has claimed."""
        try:
            return self._hold(row, worker_id)
        except Exception as exc:  # recorded: the conversation fails, its proposal with it
            self.abandon(row, worker_id, f"{type(exc).__name__}: {exc}")
            raise

    def abandon(self, roundtable: dict, worker_id: str, error: str) -> None:
        """Fail a held roundtable whose conversation broke off (and reject its proposal)."""
        now = self.clock.now_ms()
        with self.store.atomic():
            self._finish_failed(roundtable, worker_id, error, now)

    # -- the conversation -------------------------------------------------------------------

    def _hold(self, row: dict, worker_id: str) -> Held:
        context = self._context(row)
        with self.store.atomic():
            repo.plan_roundtable(
                self.store, context.id, turns=context.turns, temperature=context.format.temperature
            )
        held = Held(context.id)
        floor: list[AgentId] = []
        last_spoke: AgentId | None = None
        bad_in_a_row: list[Turn] = []
        for seq in range(context.turns):
            if not repo.holds(self.store, context.id, worker_id):
                return held  # failed as stale meanwhile: nothing more is written
            speaker = next_speaker(
                context.participants,
                floor,
                last_spoke,
                context.affinity,
                draw=draw("speaker", context.id, seq),
            )
            turn = self._turn(context, seq, speaker, held.turns)
            held.turns.append(turn)
            floor.append(speaker)
            if turn.ok:
                last_spoke, bad_in_a_row = speaker, []
                continue
            bad_in_a_row.append(turn)
            if len(bad_in_a_row) == MAX_BAD_IN_A_ROW:
                held.unreachable = all(t.status is TurnStatus.FAILED for t in bad_in_a_row)
                last = bad_in_a_row[-1]
                why = f"{MAX_BAD_IN_A_ROW} bad turns in a row (last: {last.status}: {last.error})"
                return self._fail(context, held, worker_id, why)
        spoken = sum(1 for t in held.turns if t.ok)
        if spoken < MIN_SPOKEN:
            return self._fail(context, held, worker_id, f"only {spoken} good turns")
        return self._succeed(context, held, worker_id)

    def _context(self, row: dict) -> _Context:
        fmt = load_format(self.store, row["format"])
        policies = load_policies(self.store)
        participants = tuple(AgentId(a) for a in row["participants"])
        proposal = None
        if row["proposal_id"] is not None:
            proposal = loop_repo.get_proposal(self.store, row["proposal_id"])
            if proposal is not None and proposal["status"] != ProposalStatus.PENDING:
                proposal = None  # decided meanwhile: nothing is on the table
        memory_ids = [
            memory_id
            for influence in repo.influences(self.store, roundtable_id=row["id"])
            for memory_id in influence["memory_ids"]
        ]
        memories = learning_repo.memories_by_id(self.store, memory_ids)
        shared = opening(self.store, row, fmt, participants, policies, proposal, memories)
        return _Context(
            roundtable=row,
            format=fmt,
            participants=participants,
            turns=fmt.turns(f"roundtable:{row['id']}"),
            model=self.model or desk_model(self.store),
            shared=shared,
            affinities=repo.affinities(self.store),
            proposal=proposal,
        )

    def _turn(self, context: _Context, seq: int, speaker: AgentId, said: list[Turn]) -> Turn:
        result = self.client.complete(
            role=ModelRole.ROUNDTABLE,
            model=context.model,
            system=f"{SYSTEM}\n\n{persona(self.store, speaker)}",
            prompt=turn_prompt(
                context.shared,
                context.participants,
                context.turns,
                context.affinity,
                seq=seq,
                speaker=speaker,
                said=said,
            ),
            schema=TurnAnswer,
            schema_name=SCHEMA_NAME,
            trace_id=f"desk:roundtable:{context.id}:turn:{seq}",
            temperature=context.format.temperature,
        )
        turn = judge(result, seq, speaker, on_the_table=context.proposal is not None)
        with self.store.atomic():
            turn.id = repo.insert_turn(
                self.store,
                {
                    "roundtable_id": context.id,
                    "seq": seq,
                    "speaker": speaker.value,
                    "status": turn.status.value,
                    "message": turn.message,
                    "reaction": turn.reaction.value if turn.reaction else None,
                    "vote": turn.vote.value if turn.vote else None,
                    "memory_candidates": turn.memory_candidates,
                    "action_items": turn.action_items,
                    "error": turn.error,
                    "invocation_id": turn.invocation_id,
                    "created_at": self.clock.now_ms(),
                },
            )
        return turn

    # -- endings ------------------------------------------------------------------------------

    def _finish_failed(self, roundtable: dict, worker_id: str, why: str, now: int) -> bool:
        """Record a held roundtable as failed and reject its proposal (inside the caller's unit
        of work); False when the worker no longer held it."""
        finished = repo.finish_roundtable(
            self.store,
            roundtable["id"],
            worker_id=worker_id,
            status=RoundtableStatus.FAILED.value,
            now_ms=now,
            error=why[:500],
        )
        if finished:
            reason = f"roundtable {roundtable['id']} failed: {why}"[:500]
            reject_its_proposal(
                self.store, roundtable, gate="roundtable.failed", reason=reason, now=now
            )
        return finished

    def _fail(self, context: _Context, held: Held, worker_id: str, why: str) -> Held:
        now = self.clock.now_ms()
        with self.store.atomic():
            if not self._finish_failed(context.roundtable, worker_id, why, now):
                return held
            self._event(context, RoundtableStatus.FAILED, why, now)
        held.status, held.line = RoundtableStatus.FAILED, why
        return held

    def _succeed(self, context: _Context, held: Held, worker_id: str) -> Held:
        now = self.clock.now_ms()
        spoken = [t for t in held.turns if t.ok]
        with self.store.atomic():
            # Under the write lock: a conversation the heartbeat failed meanwhile decides nothing.
            if not repo.holds(self.store, context.id, worker_id):
                return held
            seen: dict[tuple[str, str, str], int] = {}
            for turn in spoken:
                turn.memory_candidates = remember_candidates(
                    self.store,
                    turn.memory_candidates,
                    turn.speaker,
                    trace=f"roundtable:{context.id}:turn:{turn.seq}",
                    seen=seen,
                    now_ms=now,
                )
            drift_policy = load_policies(self.store).relationship_drift_policy
            moved = apply_drift(
                self.store, _exchanges(spoken), drift_policy, roundtable_id=context.id, now_ms=now
            )
            parts = [
                f"{len(spoken)} of {len(held.turns)} turns good",
                _count(len(seen), "memory", "memories"),
                _count(len(moved), "relationship") + " moved",
            ]
            if _still_pending(self.store, context.proposal):
                outcome = proposals.decide_pending(
                    self.store, self.clock, context.proposal["id"], **_verdict(spoken)
                )
                parts.append(f"proposal {outcome.proposal_id} {outcome.status}")
            proposed = self._action_items(context, spoken)
            parts.append(_count(proposed, "action item") + " proposed")
            for turn in spoken:
                repo.record_turn_results(
                    self.store,
                    turn.id,  # type: ignore[arg-type]
                    memory_candidates=turn.memory_candidates,
                    action_items=turn.action_items,
                )
            line = ", ".join(parts)
            repo.finish_roundtable(
                self.store,
                context.id,
                worker_id=worker_id,
                status=RoundtableStatus.SUCCEEDED.value,
                now_ms=now,
                summary=line,
            )
            self._event(context, RoundtableStatus.SUCCEEDED, line, now)
        held.status, held.line = RoundtableStatus.SUCCEEDED, line
        return held

    def _action_items(self, context: _Context, spoken: list[Turn]) -> int:
        """Submit the conversation's first action items as their speakers' proposals; each
        item keeps what became of it."""
        proposed = 0
        for turn in spoken:
            results = []
            for item in turn.action_items:
                if proposed == MAX_ACTION_ITEMS:
                    results.append(
                        {**item, "skipped": f"at most {MAX_ACTION_ITEMS} action items a roundtable"}
                    )
                    continue
                outcome = proposals.submit_raw(
                    self.store,
                    self.clock,
                    item,
                    agent=turn.speaker,
                    source=ProposalSource.WORKER,
                    source_ref=f"roundtable:{context.id}:turn:{turn.seq}",
                )
                proposed += 1
                verdict = {"proposal_id": outcome.proposal_id, "status": outcome.status.value}
                verdict |= {"gate": outcome.gate, "reason": outcome.reason}
                results.append({**item, **verdict})
            turn.action_items = results
        return proposed

    def _event(self, context: _Context, status: RoundtableStatus, line: str, now: int) -> None:
        fmt = context.format.format
        emit(
            self.store,
            Event(
                context.participants[0],
                "roundtable",
                f"roundtable {context.id} ({fmt}) {status}: {context.roundtable['topic']}",
                ("roundtable", status.value, fmt.value),
                summary=line,
                proposal_id=context.proposal["id"] if context.proposal else None,
            ),
            now_ms=now,
        )


def _still_pending(store: Store, proposal: dict | None) -> bool:
    if proposal is None:
        return False
    now = loop_repo.get_proposal(store, proposal["id"])
    return now is not None and now["status"] == ProposalStatus.PENDING


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _exchanges(spoken: list[Turn]) -> list[Exchange]:
    """Each good turn's reaction to the good turn before it (by another agent)."""
    return [
        Exchange(turn.speaker, before.speaker, turn.reaction)  # type: ignore[arg-type]
        for before, turn in itertools.pairwise(spoken)
        if before.speaker != turn.speaker
    ]


def _verdict(spoken: list[Turn]) -> dict:
    """The participants' verdict: each one's last vote; approved when approvals outnumber
    rejections (nothing is approved by omission)."""
    votes = {turn.speaker: turn.vote for turn in spoken if turn.vote is not None}
    approve = sorted(a.value for a, v in votes.items() if v is Vote.APPROVE)
    reject = sorted(a.value for a, v in votes.items() if v is Vote.REJECT)
    if not votes:
        return {"approved": False, "verdict": "no one voted: nothing is approved by omission"}
    sides = ((approve, "approve"), (reject, "reject"))
    said = "; ".join(f"{', '.join(names)} {word}" for names, word in sides if names)
    approved = len(approve) > len(reject)
    return {
        "approved": approved,
        "verdict": f"roundtable {'approved' if approved else 'rejected'} it "
        f"{len(approve)}–{len(reject)} ({said})",
    }
