"""Roundtables as people read them: hold one now, and the transcript of one — its turns with their
speakers and costs, and the memories, proposals and drift it produced."""

from __future__ import annotations

from decimal import Decimal

from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.errors import ConflictError, InvalidInputError, NotFoundError
from autotrader.desk.conversation import Held, RoundtableRunner
from autotrader.desk.formats import load_format, parse_format
from autotrader.desk.repo import conversations as repo
from autotrader.desk.repo import learning as learning_repo
from autotrader.desk.repo import loop as loop_repo
from autotrader.desk.roundtables import convene
from autotrader.llm import repo as llm_repo

MAX_TOPIC_CHARS = 300


def hold_now(
    store: Store,
    clock: Clock,
    client,
    format_name: str,
    *,
    worker_id: str,
    topic: str | None = None,
    model: str | None = None,
) -> Held:
    """Convene a ``format_name`` roundtable (through the daily cap) and hold it at once, claimed
    by ``worker_id`` as it is created.

    Raises InvalidInputError for an unknown format or topic, ConflictError when the roundtable
    gates refuse it (nothing is queued then).
    """
    fmt = load_format(store, parse_format(format_name))
    if topic is not None:
        topic = " ".join(topic.split())
        if not 1 <= len(topic) <= MAX_TOPIC_CHARS:
            raise InvalidInputError(f"--topic: 1 to {MAX_TOPIC_CHARS} characters")
    convened = convene(store, clock, fmt, topic=topic, claimed_by=worker_id)
    if convened.refused is not None:
        raise ConflictError(f"{convened.refused.gate}: {convened.refused.reason}")
    assert convened.roundtable_id is not None  # only a scheduled slot can be taken
    row = repo.get_roundtable(store, convened.roundtable_id)
    return RoundtableRunner(store, clock, client, model=model).hold_claimed(row, worker_id)


def transcript(store: Store, roundtable_id: int) -> dict:
    """Everything about one roundtable, as ``desk roundtables show`` prints it."""
    roundtable = repo.get_roundtable(store, roundtable_id)
    if roundtable is None:
        raise NotFoundError(
            f"no desk roundtable {roundtable_id} (see `autotrader desk roundtables list`)"
        )
    turns = repo.turns(store, roundtable_id)
    usage = llm_repo.invocation_usage(
        store, [t["invocation_id"] for t in turns if t["invocation_id"]]
    )
    for turn in turns:
        spent = usage.get(turn["invocation_id"] or 0, {})
        turn["cost_usd"] = spent.get("cost_usd", Decimal(0))
        turn["tokens"] = spent.get("input_tokens", 0) + spent.get("output_tokens", 0)
        turn["cached"] = spent.get("cached", False)
    memory_ids = sorted(
        {c["memory_id"] for t in turns for c in t["memory_candidates"] if "memory_id" in c}
    )
    proposal_ids = [
        a["proposal_id"] for t in turns for a in t["action_items"] if "proposal_id" in a
    ]
    proposals = [loop_repo.get_proposal(store, pid) for pid in proposal_ids]
    return {
        "roundtable": roundtable,
        "turns": turns,
        "cost_usd": sum((t["cost_usd"] for t in turns), Decimal(0)),
        "tokens": sum(t["tokens"] for t in turns),
        "cached_turns": sum(1 for t in turns if t["cached"]),
        "decided": loop_repo.get_proposal(store, roundtable["proposal_id"])
        if roundtable["proposal_id"]
        else None,
        "memories": learning_repo.memories_by_id(store, memory_ids),
        "proposals": [p for p in proposals if p is not None],
        "drift": repo.drift_log(store, roundtable_id=roundtable_id)[::-1],
        "influence": repo.influences(store, roundtable_id=roundtable_id),
    }
