"""How the ledger's head-to-head views (leaderboard, NAV, plots) group accounts: by account, by
clone, by the model the clone runs, or by the clone's strategy variant. Clones are read through
the clones repo."""

from __future__ import annotations

from collections.abc import Callable

from autotrader.clones import repo as clones_repo
from autotrader.core.db import Store
from autotrader.core.errors import InvalidInputError

GROUPINGS = ("account", "clone", "model", "variant")
UNLABELLED = "-"  # the group of accounts whose clone has no variant (or is unknown)


def group_key(store: Store, by: str) -> Callable[[dict], str]:
    """A function from an account row to its group's key under ``by`` (InvalidInputError for an
    unknown grouping)."""
    if by not in GROUPINGS:
        raise InvalidInputError(f"--by must be one of {', '.join(GROUPINGS)}")
    if by == "account":
        return lambda account: str(account["id"])
    if by == "clone":
        return lambda account: str(account["clone_id"])
    labels = clones_repo.clone_models(store) if by == "model" else clones_repo.clone_variants(store)
    return lambda account: labels.get(account["clone_id"]) or UNLABELLED
