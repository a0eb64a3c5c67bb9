"""``autotrader db``: migrations, checks and backups of the SQLite store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from autotrader.cli._context import open_store
from autotrader.cli._options import DbOption, ForceOption, JsonOption
from autotrader.cli._render import fail_line, out, print_json, say, table

app = typer.Typer(
    help="Migrate, inspect, check and back up the SQLite store.", no_args_is_help=True
)


@app.command("migrate")
def migrate(ctx: typer.Context, db: DbOption = None) -> None:
    """Apply pending migrations (also done automatically on first use); a damaged store, or one
    a newer autotrader migrated, is refused.

    Example: autotrader db migrate --db ./autotrader.db
    """
    store = open_store(ctx, db, migrate=False)
    store.require_intact()
    applied = store.migrate()
    for state in applied:
        say(f"applied {state.migration_set}.{state.name}")
    say(f"{store.path}: {len(applied)} applied, {len(store.pending_migrations())} pending")


@app.command("status")
def status(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """List applied and pending migrations, the store's path and pragmas, and whether it passes
    SQLite's quick check (exit 1 if not; a few seconds on a large store).

    Example: autotrader db status --json
    """
    from autotrader.core.db import damaged
    from autotrader.core.errors import OperationalError

    store = open_store(ctx, db, readonly=True, current=False)
    states = store.migration_status()
    problems = store.integrity_problems(limit=10)
    if as_json:
        print_json(
            {
                "path": str(store.path),
                "journal_mode": store.pragma("journal_mode"),
                "foreign_keys": bool(store.pragma("foreign_keys")),
                "integrity": problems or "ok",
                "unknown_migrations": store.unknown_migrations(),
                "migrations": [
                    {"set": s.migration_set, "name": s.name, "applied_at": s.applied_at}
                    for s in states
                ],
            }
        )
    else:
        rows = [(s.migration_set, s.name, s.applied_at or "pending") for s in states]
        title = f"Migrations — {store.path}"
        out.print(table(title, ["set", "migration", "applied at (UTC)"], rows))
        pending = sum(1 for s in states if not s.applied)
        unknown = len(store.unknown_migrations())
        say(
            f"{len(states) - pending} applied, {pending} pending"
            + (f", {unknown} unknown to this version" if unknown else "")
            + f"; journal_mode={store.pragma('journal_mode')}"
            + f"; quick_check={'ok' if not problems else 'FAILED'}"
        )
    if problems:
        raise OperationalError(damaged(store.path, problems[0]))


@app.command("check")
def check(ctx: typer.Context, db: DbOption = None) -> None:
    """Verify every page and index, every foreign key and the migration history; one line per
    problem and exit 1 if there is any. Read-only; on a large store it takes a while (about a
    minute per 500 MB).

    Example: autotrader db check --db ./autotrader.db
    """
    from autotrader.core.store_check import store_problems

    store = open_store(ctx, db, readonly=True, current=False)
    problems = store_problems(store)
    for problem in problems:
        fail_line(problem)
    if problems:
        raise typer.Exit(1)
    known = len(store.migration_status())
    say(f"{store.path}: ok (every page and index, every foreign key, {known} migrations)")


@app.command("backup")
def backup(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Where to write the copy.", dir_okay=False)],
    db: DbOption = None,
    force: ForceOption = False,
) -> None:
    """Copy the store with SQLite's online backup API (safe while workers write).

    The copy appears whole or not at all; it never replaces the store or its -wal/-shm/-journal
    files, and replaces another existing file only with --force.
    Example: autotrader db backup ./backups/autotrader-$(date +%F).db
    """
    store = open_store(ctx, db, readonly=True, current=False)
    target = store.backup(path, force=force)
    say(f"backed up {store.path} → {target} ({target.stat().st_size:,} bytes)")
