"""``autotrader lifecycle``: clones move sandbox → audition → arena — fees, auditions, public
profiles and moderation, the promotion queue and the arena, one timeline per clone."""

from __future__ import annotations

from typing import Annotated

import typer

from autotrader.cli import lifecycle_arena, lifecycle_auditions, lifecycle_fees
from autotrader.cli import lifecycle_render as render
from autotrader.cli._context import open_store, settings_for
from autotrader.cli._options import DbOption, JsonOption, id_option

app = typer.Typer(
    help="Lifecycle: audition fees, auditions, profiles, moderation, the arena.",
    no_args_is_help=True,
)
app.add_typer(lifecycle_fees.app, name="fees")
app.add_typer(lifecycle_auditions.app, name="auditions")
app.add_typer(lifecycle_arena.profiles_app, name="profiles")
app.add_typer(lifecycle_arena.moderation_app, name="moderation")
app.add_typer(lifecycle_arena.arena_app, name="arena")
app.add_typer(lifecycle_arena.entry_app, name="arena-entry")
app.add_typer(lifecycle_fees.economy_app, name="economy")
rules_app = typer.Typer(help="The audition rules and pass criteria.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@app.command("status")
def status(
    ctx: typer.Context,
    clone_id: Annotated[int, id_option("--clone-id", "The clone's id, e.g. 42.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """A clone's stage and its whole timeline (who, when, why, which fee/audition/account).

    Example: autotrader lifecycle status --clone-id 42
    """
    from autotrader.clones.owners import owner_of_clone
    from autotrader.lifecycle.state import stage_of, timeline

    store = open_store(ctx, db, readonly=True)
    owner_of_clone(store, clone_id)  # an unknown clone is one clear line
    render.timeline(clone_id, stage_of(store, clone_id), timeline(store, clone_id), as_json=as_json)


@rules_app.command("show")
def rules_show(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """The rules a new audition gets (each audition keeps the rules it started with).

    Example: autotrader lifecycle rules show --json
    """
    from autotrader.lifecycle.rules import rules_view

    view = rules_view(settings_for(ctx, db))
    if as_json:
        render.print_json(view)
        return
    render.out.print(render.table("Audition rules", ["rule", "value", "setting"], view["rows"]))
