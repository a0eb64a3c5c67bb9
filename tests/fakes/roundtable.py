"""A responder for the fake OpenAI server that plays the desk's agents at a roundtable.

Every turn is answered in the name of the speaker whose turn the prompt says it is, agreeing with
the previous speaker and saying which turn it is; any turn can be scripted, by number (1 =
the first turn): a dict merged into the answer (a vote, memory candidates, action items, another
speaker's name, an extra key), or any :class:`Reply` (prose, a refusal, a truncation, an answer
too late for the client's timeout, an HTTP error)::

    talk = Talk({2: Reply.text("Sure! Let's buy."), 3: {"vote": "approve"}})
    fake.responder = talk
    ...
    talk.asked  # [(1, "atlas"), (2, "intel"), ...]: who was asked, turn by turn
"""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.openai_server import Reply, prompt_of

TURN = re.compile(r"Turn (\d+) of (\d+): you are (\w+); it is your turn\.")


def turn_of(body: dict[str, Any]) -> tuple[int, str]:
    """(turn number, speaker) a roundtable request asks for."""
    match = TURN.search(prompt_of(body))
    assert match, "not a roundtable turn"
    return int(match[1]), match[3]


def said(turn: int, speaker: str) -> str:
    """What an unscripted speaker says on a turn."""
    return f"{speaker.upper()} on turn {turn}: the data favours patience."


def answer(turn: int, speaker: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """A good answer of ``speaker`` on ``turn``, with ``fields`` changed or added."""
    return {
        "speaker": speaker,
        "message": said(turn, speaker),
        "reaction": "neutral" if turn == 1 else "agree",
        "vote": None,
        "memory_candidates": [],
        "action_items": [],
        **(fields or {}),
    }


def memory(**fields: Any) -> dict[str, Any]:
    """A memory candidate (a valid lesson unless ``fields`` say otherwise)."""
    return {
        "type": "lesson",
        "key": "chasing_pumps",
        "content": "Do not chase a pump after a 50% move inside an hour",
        "confidence": 0.6,
        "tags": ["BTC"],
        **fields,
    }


def action(*steps: dict[str, Any], title: str = "An action item", **fields: Any) -> dict:
    """An action item (a proposal answer) with ``steps``."""
    full = [
        {"symbol": None, "side": None, "notional_usd": None, "position_id": None, **s}
        for s in steps
    ]
    return {
        "title": title,
        "rationale": "from the roundtable",
        "confidence": 0.9,
        "steps": full,
        **fields,
    }


class Talk:
    """The responder: see the module."""

    def __init__(self, turns: dict[int, Reply | dict[str, Any]] | None = None) -> None:
        self.turns = dict(turns or {})
        self.asked: list[tuple[int, str]] = []

    def __call__(self, body: dict[str, Any]) -> Reply:
        turn, speaker = turn_of(body)
        self.asked.append((turn, speaker))
        scripted = self.turns.get(turn)
        if isinstance(scripted, Reply):
            return scripted
        return Reply.json(answer(turn, speaker, scripted))
