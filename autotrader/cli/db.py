"""``autotrader db``: migrations and backups of the SQLite store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from autotrader.cli._context import open_store
from autotrader.cli._options import DbOption, JsonOption
from autotrader.cli._render import out, print_json, say, table

app = typer.Typer(help="Migrate, inspect and back up the SQLite store.", no_args_is_help=True)


@app.command("migrate")
def migrate(ctx: typer.Context, db: DbOption = None) -> None:
    """Apply pending migrations (also done automatically on first use).

    Example: autotrader db migrate --db ./autotrader.db
    """
    store = open_store(ctx, db, migrate=False)
    applied = store.migrate()
    for state in applied:
        say(f"applied {state.migration_set}.{state.name}")
    say(f"{store.path}: {len(applied)} applied, {len(store.pending_migrations())} pending")


@app.command("status")
def status(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """List applied and pending migrations, with the store's path and pragmas.

    Example: autotrader db status --json
    """
    store = open_store(ctx, db, migrate=False)
    states = store.migration_status()
    if as_json:
        print_json(
            {
                "path": str(store.path),
                "journal_mode": store.pragma("journal_mode"),
                "foreign_keys": bool(store.pragma("foreign_keys")),
                "migrations": [
                    {"set": s.migration_set, "name": s.name, "applied_at": s.applied_at}
                    for s in states
                ],
            }
        )
        return
    rows = [(s.migration_set, s.name, s.applied_at or "pending") for s in states]
    out.print(table(f"Migrations — {store.path}", ["set", "migration", "applied at (UTC)"], rows))
    pending = sum(1 for s in states if not s.applied)
    say(
        f"{len(states) - pending} applied, {pending} pending; "
        f"journal_mode={store.pragma('journal_mode')}"
    )


@app.command("backup")
def backup(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Where to write the copy.", dir_okay=False)],
    db: DbOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Copy the store with SQLite's online backup API (safe while workers write).

    Example: autotrader db backup ./backups/autotrader-$(date +%F).db
    """
    from autotrader.core.errors import ConflictError

    if path.exists() and not force:
        raise ConflictError(f"{path} exists; pass --force to overwrite it")
    store = open_store(ctx, db)
    if path.resolve() == store.path.resolve():
        raise ConflictError("the backup path is the store itself")
    if path.exists():
        path.unlink()
    target = store.backup(path)
    say(f"backed up {store.path} → {target} ({target.stat().st_size:,} bytes)")
