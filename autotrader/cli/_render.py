"""Output helpers: one console for stdout, one for stderr, JSON that keeps Decimals exact."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from autotrader.core.jsonout import cli_dumps

# Piped output (cron logs, `| less`) gets wide tables instead of rich's 80-column default.
_WIDTH = None if sys.stdout.isatty() else 160
out = Console(highlight=False, soft_wrap=True, width=_WIDTH)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """Print ``data`` as JSON on stdout, bypassing rich markup so it stays parseable; decimals
    (floats included) are strings, as the README promises."""
    out.print(cli_dumps(data), markup=False, highlight=False, soft_wrap=True)


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    result = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        numeric = column.endswith(("_s", "ticks", "failures")) or column in {"age", "pid"}
        result.add_column(column, justify="right" if numeric else "left")
    for row in rows:
        result.add_row(*(_cell(cell) for cell in row))
    return result


def _cell(value: Any) -> str | Text:
    """Cells are data, never markup: text from outside (an error, a market question) is escaped.
    Styled cells are passed as ``Text`` (see :func:`styled`)."""
    if value is None:
        return ""
    if isinstance(value, Text):
        return value
    if isinstance(value, float):
        return f"{value:.10g}"
    return escape(str(value))


def styled(text: str, style: str) -> Text:
    """A table cell with a style (``styled("STALE", "red")``)."""
    return Text(text, style=style)


def say(message: str) -> None:
    out.print(message)


def fail_line(message: str) -> None:
    """One line on stderr, no markup interpretation (messages may contain brackets)."""
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)


def warn_line(message: str) -> None:
    """One warning line on stderr: the command goes on, the user should know."""
    err.print(f"warning: {message}", markup=False, highlight=False, soft_wrap=True)


def human_age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"
