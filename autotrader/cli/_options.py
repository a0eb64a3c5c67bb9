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
