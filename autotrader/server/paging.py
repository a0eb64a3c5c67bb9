"""Opaque cursors for ledger-sized lists: a page hands back ``next_cursor``; passing it as
``?cursor=`` returns the page after it. A cursor is URL-safe base64 of the keyset position
(e.g. ``created_at:id`` of the last entry shown), so paging stays an index walk however deep
it goes, and rows written meanwhile never shift a page."""

from __future__ import annotations

import base64
import binascii

from autotrader.core.errors import InvalidInputError

MAX_KEY = 2**63 - 1  # SQLite's INTEGER range; anything larger is not a position in a table


def encode_cursor(*parts: int) -> str:
    raw = ":".join(str(p) for p in parts).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, *, parts: int) -> tuple[int, ...]:
    """The integers of a cursor made by :func:`encode_cursor`; InvalidInputError for anything
    else (a cursor is never trusted: it came back from a client)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
        values = tuple(int(p) for p in raw.split(":"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInputError("cursor: not a cursor this API handed out") from None
    if len(values) != parts or not all(-MAX_KEY <= v <= MAX_KEY for v in values):
        raise InvalidInputError("cursor: not a cursor this API handed out")
    return values
