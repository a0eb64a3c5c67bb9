"""A roundtable format as data (``desk_roundtable_formats``): who sits at the table, how many
turns, how warm the model runs, when it meets. Pure once loaded: every choice is a draw seeded by
what the roundtable is about, so a replay seats the same agents for the same number of turns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError, NotFoundError
from autotrader.desk.chance import draw
from autotrader.desk.repo import conversations as repo
from autotrader.desk.vocabulary import AgentId, RoundtableFormat, Weekday


@dataclass(frozen=True)
class Format:
    format: RoundtableFormat
    purpose: str
    participants: tuple[AgentId, ...]
    pool: tuple[AgentId, ...]
    min_participants: int
    max_participants: int
    min_turns: int
    max_turns: int
    temperature: float
    days: tuple[Weekday, ...]
    at: str | None
    probability: float
    conditions: dict[str, Any]
    enabled: bool

    @classmethod
    def from_row(cls, row: dict) -> Format:
        return cls(
            format=RoundtableFormat(row["format"]),
            purpose=row["purpose"],
            participants=tuple(AgentId(a) for a in row["participants"]),
            pool=tuple(AgentId(a) for a in row["pool"]),
            min_participants=row["min_participants"],
            max_participants=row["max_participants"],
            min_turns=row["min_turns"],
            max_turns=row["max_turns"],
            temperature=row["temperature"],
            days=tuple(Weekday(d) for d in row["days"]),
            at=row["at"],
            probability=row["probability"],
            conditions=row["conditions"],
            enabled=bool(row["enabled"]),
        )

    @property
    def scheduled(self) -> bool:
        """Whether it meets at a wall-clock time (a debate meets ad hoc)."""
        return self.at is not None and bool(self.days)

    def seat(self, key: str, *, first: Sequence[AgentId] = ()) -> tuple[AgentId, ...]:
        """Who sits at the table of the roundtable ``key``: ``first`` (a proposer, a debating
        pair) and the format's participants, then agents drawn from its pool up to a drawn
        number of seats. The first agent opens the conversation (at a table with no fixed
        participants, the first drawn)."""
        seated = list(dict.fromkeys([*first, *self.participants]))
        others = [a for a in dict.fromkeys(self.pool) if a not in seated]
        others.sort(key=lambda agent: draw("seat", key, agent.value))
        wanted = _between(self.min_participants, self.max_participants, draw("seats", key))
        seated += others[: max(0, wanted - len(seated))]
        return tuple(seated)

    def turns(self, key: str) -> int:
        """How many turns the roundtable ``key`` has (a draw in the format's range)."""
        return _between(self.min_turns, self.max_turns, draw("turns", key))


def _between(low: int, high: int, drawn: float) -> int:
    return low + min(int(drawn * (high - low + 1)), high - low)


def load_format(store: Store, name: RoundtableFormat | str) -> Format:
    row = repo.get_format(store, str(name))
    if row is None:
        raise NotFoundError("the desk is not set up: run `autotrader desk init`")
    return Format.from_row(row)


def load_formats(store: Store) -> list[Format]:
    return [Format.from_row(row) for row in repo.formats(store)]


def parse_format(name: str) -> RoundtableFormat:
    try:
        return RoundtableFormat(name.strip().lower())
    except ValueError:
        raise InvalidInputError(
            f"unknown format {name!r} (formats: {', '.join(f.value for f in RoundtableFormat)})"
        ) from None
