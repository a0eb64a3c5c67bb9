"""Options shared by every command group, so ``--db`` and ``--json`` mean one thing everywhere."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="SQLite store to use (overrides AUTOTRADER_DB).",
        dir_okay=False,
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON (decimals as strings).")
]
LoopOption = Annotated[
    bool, typer.Option("--loop", help="Keep running as a worker instead of one pass.")
]
IntervalOption = Annotated[
    float | None,
    typer.Option(
        "--interval",
        min=0.01,
        help="Seconds between ticks with --loop (default AUTOTRADER_WORKER_INTERVAL).",
        show_default=False,
    ),
]
MaxTicksOption = Annotated[
    int | None,
    typer.Option("--max-ticks", min=1, help="Stop after this many ticks (for tests and cron)."),
]


def split_csv(value: str | None, *, name: str, allowed: Iterable[str] | None = None) -> list[str]:
    """Parse a comma-separated option: ``[]`` when it is not given (``None``); a given value
    must name at least one item, and unknown items are one clear error naming them all."""
    from autotrader.core.errors import InvalidInputError

    if value is None:
        return []
    known = None if allowed is None else tuple(str(item) for item in allowed)
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        choose = f" (choose from {', '.join(known)})" if known else ""
        raise InvalidInputError(f"{name}: give at least one value{choose}")
    if known is not None:
        unknown = [item for item in items if item not in known]
        if unknown:
            names = ", ".join(map(_shown, unknown))
            raise InvalidInputError(f"{name}: unknown {names} (choose from {', '.join(known)})")
    return list(dict.fromkeys(items))


def choice(value: str | None, *, name: str, allowed: Iterable[str]) -> str | None:
    """A single-valued option from a closed set, stripped (``None`` when not given): an empty,
    unknown or comma-listed value is one clear error naming the choices."""
    from autotrader.core.errors import InvalidInputError

    if value is None:
        return None
    known = tuple(str(item) for item in allowed)
    text = value.strip()
    if text not in known:
        raise InvalidInputError(f"{name}: {_shown(text)} is not one of {', '.join(known)}")
    return text


def _shown(text: str) -> str:
    """Echo of a refused value, cut short: it may be ten thousand characters of anything."""
    return repr(text if len(text) <= 40 else text[:39] + "…")


def parse_time(value: str, *, name: str) -> int:
    """An ISO-8601 option value as epoch ms, or an InvalidInputError naming the option."""
    from autotrader.core.clock import parse_iso_utc
    from autotrader.core.errors import InvalidInputError

    try:
        return parse_iso_utc(value)
    except ValueError as exc:
        raise InvalidInputError(f"{name}: {exc}") from None
