"""EVM addresses: parse one, refuse a mistyped one, and write it in its EIP-55 checksummed form.

Owners are paid from and the treasury receives at EVM addresses (Hyperliquid accounts are EVM
addresses). EIP-55 encodes a checksum in the letters' case: an address written in mixed case
must match its checksum, so a single mistyped character is caught before money is matched
against it; an all-lowercase or all-uppercase address carries no checksum and is accepted.
Exchanges answer in lowercase, so addresses are compared in their checksummed form.
"""

from __future__ import annotations

import re

from Crypto.Hash import keccak

from autotrader.core.errors import InvalidInputError

_HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def _checksummed(hex40: str) -> str:
    """EIP-55: a hex letter is upper case when the matching nibble of keccak-256 of the
    lowercase hex text is 8 or more."""
    lower = hex40.lower()
    digest = keccak.new(digest_bits=256, data=lower.encode("ascii")).hexdigest()
    return "0x" + "".join(
        char.upper() if char.isalpha() and int(nibble, 16) >= 8 else char
        for char, nibble in zip(lower, digest, strict=False)
    )


def checksum_address(text: str, *, field: str = "address") -> str:
    """``text`` as an EIP-55 checksummed address. Raises ``InvalidInputError`` naming ``field``
    when it is not ``0x`` + 40 hex digits, or when its mixed case contradicts the checksum."""
    candidate = text.strip() if isinstance(text, str) else ""
    if not _HEX_ADDRESS.match(candidate):
        raise InvalidInputError(f"{field}: {text!r} is not an EVM address (0x and 40 hex digits)")
    hex40 = candidate[2:]
    result = _checksummed(hex40)
    if hex40 not in (hex40.lower(), hex40.upper()) and result != candidate:
        raise InvalidInputError(
            f"{field}: {candidate} fails its EIP-55 checksum (a character is mistyped?)"
        )
    return result


def is_address(text: object) -> bool:
    """Whether ``text`` is ``0x`` + 40 hex digits (any case; the checksum is not checked)."""
    return isinstance(text, str) and _HEX_ADDRESS.match(text) is not None
