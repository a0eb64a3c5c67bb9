"""Seeded chance: every probabilistic choice of the desk draws from an RNG seeded by what it is
about (an event and a pattern, an agent and a time slot), never from global randomness, so a
replay of the same history makes the same choices."""

from __future__ import annotations

import hashlib
import random


def draw(*about: object) -> float:
    """A number in [0, 1) that depends only on ``about``."""
    key = ":".join(str(part) for part in about)
    digest = hashlib.sha256(key.encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big")).random()
