"""``autotrader init``: create or migrate the store (idempotent)."""

from __future__ import annotations

import typer

from autotrader.cli._context import open_store
from autotrader.cli._options import DbOption
from autotrader.cli._render import say


def init_command(ctx: typer.Context, db: DbOption = None) -> None:
    """Create the store if it is missing and apply pending migrations. Safe to run again; a
    damaged store, a foreign file or a store a newer autotrader migrated is refused.

    Example: autotrader init --db ./autotrader.db
    """
    store = open_store(ctx, db, migrate=False)
    store.require_intact()
    applied = store.migrate()
    total = len(store.migration_status())
    verb = "initialised" if applied else "already up to date:"
    say(f"{verb} {store.path} ({len(applied)} migrations applied now, {total} in all)")
