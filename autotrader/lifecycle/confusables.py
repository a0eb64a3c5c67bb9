"""Public names folded case- and confusable-insensitively, so "PAYPAL", "Paypa1", "PaypaI" and
"Рaypal" (a Cyrillic Р) all collide with "Paypal".

Folding follows Unicode's UTS #39 *skeleton* over the confusables data the
``confusable_homoglyphs`` package ships (Unicode's confusables.txt): every character replaced
by the representative of its look-alike class (the package lists each look-alike pair both
ways; a class is their union, represented by an ASCII letter, else digit, when it has one),
after NFKC, and the separators a reader skims over (spaces, '.', '_', '-') dropped. The skeleton
is case-sensitive by design ("I" looks like "l", "i" does not), so a name has two keys: folded
case first (the case-insensitive one: "CASINO" is "casino") and look-alikes first (the
confusable one: "PaypaI" is "Paypal"). Two names collide when either key does.
"""

from __future__ import annotations

import functools
import unicodedata

_LRM = "\u200e"  # the package pads right-to-left characters with it for display
_SEPARATORS = frozenset(" ._-")


@functools.cache
def _classes() -> dict[str, str]:
    from confusable_homoglyphs.confusables import confusables_data

    parent: dict[str, str] = {}

    def find(char: str) -> str:
        while parent.setdefault(char, char) != char:
            parent[char] = parent[parent[char]]
            char = parent[char]
        return char

    def better(a: str, b: str) -> str:
        # An ASCII lowercase letter first, then any ASCII letter, digit: case folding then
        # merges "O" with "o", so "0" (whose class "O" represents) reads as "o" too.
        def rank(c: str) -> tuple[bool, bool, bool, int]:
            ascii_ = c.isascii()
            return (not (ascii_ and c.islower()), not (ascii_ and c.isalpha()), not ascii_, ord(c))

        return min(a, b, key=rank)

    sequences: dict[str, str] = {}
    for source, glyphs in confusables_data.items():
        source = source.replace(_LRM, "")
        targets = [g["c"].replace(_LRM, "") for g in glyphs]
        if len(source) != 1:
            continue
        for target in targets:
            if len(target) == 1:
                a, b = find(source), find(target)
                if a != b:
                    keep = better(a, b)
                    parent[a if keep == b else b] = keep
            elif len(targets) == 1:
                sequences[source] = target  # one character that reads as several ("m" ~ "rn")
    mapping = {char: find(char) for char in parent}
    for source, target in sequences.items():
        mapping.setdefault(source, target)
        if mapping[source] == source:
            mapping[source] = target
    return mapping


def _map(text: str) -> str:
    classes = _classes()
    return unicodedata.normalize(
        "NFD", "".join(classes.get(c, c) for c in unicodedata.normalize("NFD", text))
    )


def name_keys(name: str) -> tuple[str, str]:
    """``(case key, look-alike key)`` of a name (see the module docstring)."""
    text = unicodedata.normalize("NFKC", name)
    case_first = _map(_map(text.casefold()).casefold())
    look_alike_first = _map(_map(text).casefold())
    return _squeeze(case_first), _squeeze(look_alike_first)


def _squeeze(text: str) -> str:
    return "".join(c for c in text if c not in _SEPARATORS)
