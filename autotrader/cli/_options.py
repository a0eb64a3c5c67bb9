"""Options shared by every command group, so ``--db`` and ``--json`` mean one thing everywhere."""

from __future__ import annotations

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
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Replace an existing file (never the store or its -wal/-shm/-journal files).",
    ),
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


def split_csv(value: str | None, *, name: str, allowed: tuple[str, ...] | None = None) -> list[str]:
    """Parse a comma-separated option; unknown values are one clear error naming them all."""
    from autotrader.core.errors import InvalidInputError

    items = [item.strip() for item in (value or "").split(",") if item.strip()]
    if allowed is not None:
        unknown = [item for item in items if item not in allowed]
        if unknown:
            raise InvalidInputError(
                f"{name}: unknown {', '.join(unknown)} (choose from {', '.join(allowed)})"
            )
    return list(dict.fromkeys(items))


def parse_time(value: str, *, name: str) -> int:
    """An ISO-8601 option value as epoch ms, or an InvalidInputError naming the option."""
    from autotrader.core.clock import parse_iso_utc
    from autotrader.core.errors import InvalidInputError

    try:
        return parse_iso_utc(value)
    except ValueError as exc:
        raise InvalidInputError(f"{name}: {exc}") from None


_DURATION_UNITS_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_duration(value: str, *, name: str) -> int:
    """A duration such as ``15m``, ``1h`` or ``1d`` as milliseconds, or an InvalidInputError
    naming the option."""
    import re

    from autotrader.core.errors import InvalidInputError

    match = re.fullmatch(r"\s*([1-9][0-9]{0,5})\s*([smhd])\s*", value)
    if match is None:
        raise InvalidInputError(f"{name}: give a duration such as 15m, 1h or 1d, not {value!r}")
    return int(match[1]) * _DURATION_UNITS_MS[match[2]]
