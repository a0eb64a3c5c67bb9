"""A public name folded case- and confusable-insensitively, so "Paypa1", "PAYPAL" and "Рaypal"
(a Cyrillic Р) all fold to the same key.

The key follows Unicode's UTS #39 *skeleton* over the confusables data that the
``confusable_homoglyphs`` package ships (Unicode's confusables.txt): NFKC, then every character
replaced by the representative of its look-alike class, case-folded, mapped again (case
folding can reveal a new look-alike), and the separators a reader skims over (spaces, '.', '_',
'-') dropped. The package lists each look-alike pair in both directions; the classes are their
union, represented by an ASCII member when there is one.
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
        return min(a, b, key=lambda c: (not (c.isascii() and c.isalnum()), ord(c)))

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


def name_key(name: str) -> str:
    """The folded key two public names collide on (see the module docstring)."""
    folded = _map(_map(unicodedata.normalize("NFKC", name)).casefold())
    return "".join(c for c in folded if c not in _SEPARATORS)
