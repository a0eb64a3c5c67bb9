"""Characters a terminal may act on, or that hide what a line says, and how each is escaped.

Text from outside (model output, names, market questions, error messages quoting a file) is
data. The CLI shows it cleaned (``cli/_render.clean``: ``\\x1b[2J``, ``\\u202e``), and every
JSON we write — ``--json`` and the HTTP API alike, both through :mod:`autotrader.core.jsonout` —
spells those characters as ``\\uXXXX`` escapes (:func:`json_text`): the same JSON, reading back as
the original string, and safe on a terminal.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

# Control characters (C0 and C1: ESC, CSI, BEL, backspace, carriage return..., DEL), format
# characters (bidi embeddings, overrides, isolates and marks, zero-width characters, invisible
# tag characters), line and paragraph separators, and lone surrogates (undecodable bytes on the
# command line).
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_ASCII_CONTROL = re.compile("[\x00-\x1f\x7f]")


def replace_unsafe(text: str, escape: Callable[[str], str], keep: str) -> str:
    """``text`` with each unsafe character but those in ``keep`` replaced by ``escape(char)``."""
    if text.isascii():  # the common case: one regex pass
        return _ASCII_CONTROL.sub(lambda m: m[0] if m[0] in keep else escape(m[0]), text)
    return "".join(
        escape(c) if c not in keep and unicodedata.category(c) in UNSAFE_CATEGORIES else c
        for c in text
    )


def _json_escape(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    high, low = divmod(code - 0x10000, 0x400)  # a UTF-16 surrogate pair, as JSON spells it
    return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"


def json_text(text: str) -> str:
    """JSON text with every unsafe character written as a ``\\u`` escape: still the same JSON
    (outside its strings JSON has only ASCII and whitespace, and escapes read back unchanged),
    and safe on a terminal."""
    return replace_unsafe(text, _json_escape, keep="\n")
