"""Outside text reaches the terminal as data: escape sequences, control and bidi characters are
made visible, rich markup is never interpreted, and JSON stays exact."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from autotrader.cli import _render
from autotrader.cli._render import clean, line, styled, table, to_json

HOSTILE = [
    "\x1b[2J\x1b[31mred\x1b[0m",  # clear the screen, colour
    "\x1b]0;owned\x07",  # OSC: retitle the terminal
    "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x9b31m",  # C1 CSI
    "\x08\x08\x08\rfake",  # backspaces and a carriage return
    "abc\u202edcba",  # right-to-left override
    "\u2066isolate\u2069",
    "zero\u200bwidth\u200d\ufeff",
    "tag\U000e0041\U000e0042",  # invisible tag characters
    "lone \udcff surrogate",
    "line\u2028separator",
    "\x00nul\x7fdel",
]
UNSAFE = {
    *(chr(c) for c in range(0x20) if chr(c) not in "\n\t"),
    *(chr(c) for c in range(0x7F, 0xA0)),
    "\u202e", "\u2066", "\u2069", "\u200b", "\u200d", "\ufeff", "\U000e0041", "\udcff", "\u2028",
}  # fmt: skip


def rendered(*renderables) -> str:
    buffer = io.StringIO()
    console = _render.SafeConsole(file=buffer, width=200, color_system="truecolor")
    for item in renderables:
        console.print(item)
    return buffer.getvalue()


def styles_only(text: str) -> str:
    """Rendered output without the SGR colour codes rich itself writes."""
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


@pytest.mark.parametrize("text", HOSTILE)
def test_clean_makes_every_control_bidi_and_invisible_character_visible(text):
    shown = clean(text)
    assert not UNSAFE & set(shown)
    assert shown.isprintable()


def test_clean_shows_what_was_there():
    assert clean("\x1b[31mred") == "\\x1b[31mred"
    assert clean("a\u202eb") == "a\\u202eb"
    assert clean("tag\U000e0041") == "tag\\U000e0041"


def test_clean_keeps_newlines_and_tabs_where_a_layout_allows_them():
    assert clean("a\n\tb") == "a\n\tb"
    assert clean("a\n\tb", one_line=True) == "a\\n\\tb"


@pytest.mark.parametrize("text", [*HOSTILE, "[red]not markup[/red] [link=x]y[/link] :warning:"])
def test_table_cells_titles_lines_and_styled_text_render_safely(text):
    out = rendered(
        table(text, ["a", "b"], [(text, styled(text, "red"))]),
        line("said: ", text),
        styled(text, "bold"),
    )
    assert not UNSAFE & set(styles_only(out))


def test_markup_in_outside_text_is_printed_as_written():
    out = rendered(table(None, ["a"], [("[bold red]x[/bold red] :warning:",)]))
    assert "[bold red]x[/bold red] :warning:" in out


def test_plain_strings_printed_through_the_console_are_cleaned_too():
    assert "\\x1b[2J" in rendered("\x1b[2Jcleared?")


def test_say_prints_outside_text_without_interpreting_it(monkeypatch):
    buffer = io.StringIO()
    monkeypatch.setattr(_render, "out", _render.SafeConsole(file=buffer, color_system=None))
    _render.say("reason: ", "\x1b[2J[red]boom[/red]", styled(" ok", "green"))
    assert buffer.getvalue() == "reason: \\x1b[2J[red]boom[/red] ok\n"


def test_fail_line_is_one_line_whatever_the_message(monkeypatch):
    buffer = io.StringIO()
    monkeypatch.setattr(_render, "err", _render.SafeConsole(file=buffer, color_system=None))
    _render.fail_line("bad name 'a\nb\x1b[2J\udcff'")
    assert buffer.getvalue() == "error: bad name 'a\\nb\\x1b[2J\\udcff'\n"


@pytest.mark.parametrize("text", HOSTILE)
def test_json_output_stays_exact_and_carries_no_raw_control_or_bidi_character(text):
    encoded = to_json({"reason": text})
    assert json.loads(encoded) == {"reason": text}
    assert not UNSAFE & set(encoded.replace("\n", ""))


def test_json_keeps_ordinary_non_ascii_text_as_is():
    assert to_json({"name": "Müller ٥ 日本"}) == '{\n  "name": "Müller ٥ 日本"\n}'


def test_the_console_never_interprets_markup_or_emoji_codes():
    buffer = io.StringIO()
    console = _render.SafeConsole(file=buffer, color_system=None)
    console.print("[red]x[/red] :smile:")
    assert buffer.getvalue() == "[red]x[/red] :smile:\n"
    assert isinstance(console, Console)
