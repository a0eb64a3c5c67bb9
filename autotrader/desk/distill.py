"""Memories from a conversation: each candidate a turn offered is validated, then remembered.

A candidate becomes a memory of its speaker when its type is one of the five, its confidence lies
in that type's range (the seed's: a lesson 0.55–0.75, an insight 0.65–0.85, ...), its key is
snake_case and it says something (eight characters or more). A new memory starts at the
candidate's confidence; a key the speaker already remembers gains one piece of evidence (one per
conversation, however often the conversation repeats it). Its source trace is the turn:
``roundtable:<id>:turn:<seq>``. A refused candidate keeps its reason on the turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from autotrader.core.db import Store
from autotrader.desk.learning import MemoryNote, remember
from autotrader.desk.models import MEMORY_RANGES
from autotrader.desk.vocabulary import AgentId, MemoryType

KEY = re.compile(r"[a-z0-9][a-z0-9_:.-]{0,59}")
MIN_CONTENT_CHARS = 8


@dataclass(frozen=True)
class Candidate:
    """A valid candidate: the note to remember and the confidence it was offered at."""

    note: MemoryNote
    confidence: float


def check(candidate: dict, speaker: AgentId) -> Candidate | str:
    """The valid memory in ``candidate`` (as the turn's model wrote it), or why it is refused."""
    kind = str(candidate["type"]).strip().lower()
    try:
        memory_type = MemoryType(kind)
    except ValueError:
        known = ", ".join(t.value for t in MemoryType)
        return f"unknown type {kind!r} (types: {known})"
    span, confidence = MEMORY_RANGES[memory_type], float(candidate["confidence"])
    if confidence not in span:
        return f"confidence {confidence:.2f} outside the {memory_type} range {span}"
    key = "_".join(str(candidate["key"]).strip().lower().split())
    if not KEY.fullmatch(key):
        return f"key {candidate['key']!r}: snake_case letters, digits, _ : . - (1 to 60)"
    content = " ".join(str(candidate["content"]).split())
    if len(content) < MIN_CONTENT_CHARS:
        return f"content {content!r} says too little"
    tags = tuple(dict.fromkeys(t.strip() for t in candidate["tags"] if t.strip()))
    return Candidate(MemoryNote(speaker, memory_type, key, content, tags), confidence)


def remember_candidates(
    store: Store,
    candidates: list[dict],
    speaker: AgentId,
    *,
    trace: str,
    seen: dict[tuple[str, str, str], int],
    now_ms: int,
) -> list[dict]:
    """Validate and remember one turn's candidates (inside the caller's unit of work); each
    candidate with its verdict: ``memory_id``, or ``refused`` and why. ``seen`` holds the
    memories this conversation already added evidence to."""
    results = []
    for candidate in candidates:
        checked = check(candidate, speaker)
        if isinstance(checked, str):
            results.append({**candidate, "refused": checked})
            continue
        note = checked.note
        about = (note.agent.value, note.type.value, note.key)
        if about in seen:
            results.append({**candidate, "memory_id": seen[about], "evidence": "already counted"})
            continue
        memory_id = remember(store, note, trace=trace, now_ms=now_ms, confidence=checked.confidence)
        seen[about] = memory_id
        results.append({**candidate, "memory_id": memory_id})
    return results
