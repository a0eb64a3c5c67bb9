"""Output helpers: one console for stdout, one for stderr, JSON that keeps Decimals exact.

Much of what the CLI prints came from outside: model output, gate reasons, names, Polymarket
questions, error messages that quote a file. All of it is data, made safe here, in one place:

- :class:`SafeConsole` never interprets rich markup or emoji codes, and cleans every string it
  renders (table cells, titles, tree labels, ``say``): escape sequences, C0/C1 control
  characters, bidi overrides and isolates, zero-width and other invisible format characters and
  lone surrogates are shown escaped (``\\x1b[2J``, ``\\u202e``), so a terminal never acts on them
  and a reader sees that they were there. Newlines and tabs stay where a layout allows them.
- Styles come only from :func:`styled` / :func:`line` (``Text`` objects, cleaned the same way).
- JSON (``--json`` here, the HTTP API in ``server``) is written by ``core.jsonout.dumps``,
  which keeps it exact: the same characters are written as ``\\uXXXX`` escapes
  (``core.safe_text.json_text``), which read back as the original string.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from autotrader.core.jsonout import cli_dumps
from autotrader.core.safe_text import replace_unsafe

_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escaped(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def clean(text: str, *, one_line: bool = False) -> str:
    """``text`` with every character a terminal could act on, or that hides what a line says,
    shown escaped (``\\x1b``, ``\\u202e``). Newlines and tabs are kept, unless ``one_line``."""
    return replace_unsafe(text, _escaped, keep="" if one_line else "\n\t")


def _clean_text(text: Text) -> Text:
    """A styled ``Text`` made safe: unchanged when it is, else its characters cleaned with its
    overall style kept (per-span styles would no longer line up with the escaped text)."""
    cleaned = clean(text.plain)
    if cleaned == text.plain:
        return text
    return Text(cleaned, style=text.style, justify=text.justify)


class SafeConsole(Console):
    """A rich console for outside text: no markup, no emoji codes, no highlighting, and every
    string it renders cleaned (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(markup=False, emoji=False, highlight=False, **kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        kwargs.update(markup=False, emoji=False)
        return super().render_str(clean(text), **kwargs)


# Piped output (cron logs, `| less`) gets wide tables instead of rich's 80-column default.
_WIDTH = None if sys.stdout.isatty() else 160
out = SafeConsole(soft_wrap=True, width=_WIDTH)
err = SafeConsole(stderr=True, soft_wrap=True)


def to_json(data: Any) -> str:
    """``data`` as ``--json`` writes it (``core.jsonout.cli_dumps``: Decimals exact, floats as
    decimal text, unsafe characters as ``\\u`` escapes)."""
    return cli_dumps(data)


def print_json(data: Any) -> None:
    """Print ``data`` as JSON on stdout, bypassing rich markup so it stays parseable; decimals
    (floats included) are strings, as the README promises."""
    out.print(to_json(data), soft_wrap=True)


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    heading = Text(clean(title)) if title is not None else None
    result = Table(title=heading, title_justify="left", header_style="bold")
    for column in columns:
        numeric = column.endswith(("_s", "ticks", "failures")) or column in {"age", "pid"}
        result.add_column(column, justify="right" if numeric else "left")
    for row in rows:
        result.add_row(*(_cell(cell) for cell in row))
    return result


def _cell(value: Any) -> Text:
    """Cells are data, never markup; styled cells are passed as ``Text`` (see :func:`styled`)."""
    if value is None:
        return Text("")
    if isinstance(value, Text):
        return _clean_text(value)
    if isinstance(value, float):
        return Text(f"{value:.10g}")
    return Text(clean(str(value)))


def styled(text: str, style: str) -> Text:
    """Text in a style, cleaned (``styled("STALE", "red")``, a table cell or a part of a line)."""
    return Text(clean(text), style=style)


def line(*parts: str | Text) -> Text:
    """One line of output from plain parts (outside text welcome) and :func:`styled` parts."""
    result = Text()
    for part in parts:
        result.append_text(_clean_text(part) if isinstance(part, Text) else Text(clean(part)))
    return result


def say(*parts: str | Text) -> None:
    """Print a line made of plain and styled parts (see :func:`line`); nothing in it is markup."""
    out.print(line(*parts))


def fail_line(message: str) -> None:
    """One line on stderr, whatever the message holds (newlines in it are shown escaped)."""
    err.print(Text(f"error: {clean(message, one_line=True)}"), soft_wrap=True)


def warn_line(message: str) -> None:
    """One warning line on stderr: the command goes on, the user should know."""
    err.print(Text(f"warning: {clean(message, one_line=True)}"), soft_wrap=True)


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
