"""The payment verifier a command's options name (``--verifier manual|hyperliquid`` with its
``--reference``/``--reason``/``--amount`` or ``--tx``), shared by ``lifecycle fees verify`` and
``arena tickets verify``."""

from __future__ import annotations

from typing import Annotated

import typer

# The options both commands take (each adds its own --amount, whose default differs).
VerifierOption = Annotated[
    str, typer.Option("--verifier", help="manual (an admin act) or hyperliquid.")
]
ReferenceOption = Annotated[
    str | None, typer.Option("--reference", help="manual: the payment's reference or hash.")
]
ReasonOption = Annotated[str | None, typer.Option("--reason", help="manual: why (recorded).")]
TxOption = Annotated[
    str | None, typer.Option("--tx", help="hyperliquid: the transfer's hash, if known.")
]


def payment_verifier(settings, clock, name, reference, reason, amount, tx):
    """A ManualVerifier (an admin's attestation: reference and reason required) or the
    treasury's HyperliquidVerifier; one clear error for options that do not fit it."""
    from autotrader.cli._options import choice
    from autotrader.core.errors import InvalidInputError
    from autotrader.lifecycle.vocabulary import VerifierName

    name = choice(name, name="--verifier", allowed=VerifierName)
    if name == VerifierName.HYPERLIQUID:
        if reference or reason or amount:
            raise InvalidInputError("--reference, --reason and --amount are for --verifier manual")
        from autotrader.bootstrap import require_treasury_verifier

        return require_treasury_verifier(settings, clock)
    if tx:
        raise InvalidInputError("--tx is for --verifier hyperliquid (manual takes --reference)")
    if not reference or not reason:
        raise InvalidInputError("--verifier manual needs --reference and --reason")
    from autotrader.core.money import to_decimal
    from autotrader.lifecycle.economy import real_amount
    from autotrader.lifecycle.verifiers import ManualVerifier

    received = (
        real_amount(to_decimal(amount, field="--amount"), field="--amount") if amount else None
    )
    return ManualVerifier(clock, reference=reference, reason=reason, amount=received)


def transfer_hash(tx: str | None) -> str | None:
    """``--tx`` as the lowercase transaction hash it must be (None when not given)."""
    from autotrader.core.errors import InvalidInputError
    from autotrader.lifecycle.verifiers import normalize_reference

    if tx is None:
        return None
    value = normalize_reference(tx, field="--tx")
    if not value.startswith("0x") or len(value) != 66:
        raise InvalidInputError(f"--tx: {tx!r} is not a transaction hash (0x and 64 hex digits)")
    return value
