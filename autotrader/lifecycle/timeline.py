"""The lifecycle timeline seen from a prop account: what ``ledger trace`` shows below an
audition account's fills — the fee that paid for it, its start, its verdict and what followed."""

from __future__ import annotations

from autotrader.core.db import Store
from autotrader.lifecycle.repo import auditions as auditions_repo
from autotrader.lifecycle.repo import timeline as repo


def account_timeline(store: Store, account_id: int) -> list[dict]:
    """Every event naming the audition this account served or the fee that paid for it, oldest
    first; empty for an account no audition used."""
    audition = auditions_repo.audition_of_account(store, account_id)
    if audition is None:
        return []
    return repo.events_of_audition(store, audition["id"], audition["fee_id"])
