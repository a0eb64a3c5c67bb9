"""``autotrader lifecycle profiles``, ``moderation``, ``arena`` and ``arena-entry``: public
profiles and their review, the promotion queue and the arena's slots."""

from __future__ import annotations

from typing import Annotated

import typer

from autotrader.cli import lifecycle_render as render
from autotrader.cli._context import actor, clock, open_store, settings_for
from autotrader.cli._loop import run_job
from autotrader.cli._options import (
    DbOption,
    IntervalOption,
    JsonOption,
    MaxTicksOption,
    choice,
    id_argument,
    id_option,
)
from autotrader.cli._render import say

profiles_app = typer.Typer(
    help="Public clone profiles (shown once approved).", no_args_is_help=True
)
moderation_app = typer.Typer(help="Review pending profile versions.", no_args_is_help=True)
arena_app = typer.Typer(help="The arena's slots and the promotion queue.", no_args_is_help=True)
entry_app = typer.Typer(help="Admit the promotion queue into free slots.", no_args_is_help=True)

CloneIdOption = Annotated[int, id_option("--clone-id", "The clone's id, e.g. 42.")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (recorded in the timeline).")]
VersionArgument = Annotated[int, id_argument("The profile version's id (see queue).")]


@profiles_app.command("set")
def profiles_set(
    ctx: typer.Context,
    clone_id: CloneIdOption,
    name: Annotated[str, typer.Option("--name", help="Public name, 2–32 characters.")],
    bio: Annotated[str, typer.Option("--bio", help="Up to 280 characters.")] = "",
    avatar_url: Annotated[
        str | None, typer.Option("--avatar-url", help="An https:// image URL.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Submit a profile version: automatic checks, then the moderation queue.

    Example: autotrader lifecycle profiles set --clone-id 42 --name "Momentum" --bio "Trend rules"
    """
    from autotrader.lifecycle.profiles import denylist, set_profile

    version = set_profile(
        open_store(ctx, db),
        clock(ctx),
        clone_id,
        name=name,
        bio=bio,
        avatar_url=avatar_url,
        denied=denylist(settings_for(ctx, db).profile_denylist),
        actor=actor(),
    )
    if as_json:
        render.print_json(version)
        return
    say(f"profile version {version['version']} of clone {clone_id} (id {version['id']}) waits"
        " for moderation: `lifecycle moderation queue`")  # fmt: skip


@profiles_app.command("show")
def profiles_show(
    ctx: typer.Context, clone_id: CloneIdOption, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """The public profile and every version.

    Example: autotrader lifecycle profiles show --clone-id 42
    """
    from autotrader.lifecycle.profiles import profile_of

    render.profile(profile_of(open_store(ctx, db, readonly=True), clone_id), as_json=as_json)


@moderation_app.command("queue")
def moderation_queue(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Profile versions waiting for review. Example: autotrader lifecycle moderation queue"""
    from autotrader.lifecycle.moderation import queue

    rows = queue(open_store(ctx, db, readonly=True))
    if as_json:
        render.print_json(rows)
        return
    render.versions(rows, title="Moderation queue")


@moderation_app.command("approve")
def moderation_approve(
    ctx: typer.Context, version_id: VersionArgument, reason: ReasonOption, db: DbOption = None
) -> None:
    """Publish a pending version. Example: autotrader lifecycle moderation approve 3 --reason ok"""
    from autotrader.lifecycle.moderation import approve

    version = approve(open_store(ctx, db), clock(ctx), version_id, reason=reason, actor=actor())
    say(f"clone {version['clone_id']}'s public profile is now {version['name']!r}")


@moderation_app.command("reject")
def moderation_reject(
    ctx: typer.Context, version_id: VersionArgument, reason: ReasonOption, db: DbOption = None
) -> None:
    """Refuse a pending version (the last approved one stays public).

    Example: autotrader lifecycle moderation reject 3 --reason "impersonates a brand"
    """
    from autotrader.lifecycle.moderation import reject

    version = reject(open_store(ctx, db), clock(ctx), version_id, reason=reason, actor=actor())
    say(f"profile version {version['id']} of clone {version['clone_id']} rejected")


@arena_app.command("list")
def arena_list(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", help="active, removed or retired (default all).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The arena's slots. Example: autotrader lifecycle arena list --status retired"""
    from autotrader.lifecycle.promotion import arena
    from autotrader.lifecycle.vocabulary import SlotStatus

    status = choice(status, name="--status", allowed=SlotStatus)
    render.slots(arena(open_store(ctx, db, readonly=True), status=status), as_json=as_json)


@arena_app.command("queue")
def arena_queue(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """The promotion queue in admission order. Example: autotrader lifecycle arena queue"""
    from autotrader.lifecycle.promotion import queue

    render.queue(queue(open_store(ctx, db, readonly=True)), as_json=as_json)


@arena_app.command("show")
def arena_show(
    ctx: typer.Context, clone_id: CloneIdOption, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """A clone's place: stage, queue entry, every slot it held.

    Example: autotrader lifecycle arena show --clone-id 42
    """
    from autotrader.lifecycle.promotion import arena_detail

    detail = arena_detail(open_store(ctx, db, readonly=True), clone_id)
    if as_json:
        render.print_json(detail)
        return
    say(f"clone {clone_id} is {detail['stage']}")
    if detail["queue"]:
        render.queue([detail["queue"]], as_json=False)
    render.slots(detail["slots"], as_json=False, title=f"Arena slots of clone {clone_id}")


@arena_app.command("remove")
def arena_remove(
    ctx: typer.Context, clone_id: CloneIdOption, reason: ReasonOption, db: DbOption = None
) -> None:
    """Take a clone out of the queue or the arena (admin).

    Example: autotrader lifecycle arena remove --clone-id 42 --reason "rule breach"
    """
    from autotrader.lifecycle.promotion import remove

    stage = remove(open_store(ctx, db), clock(ctx), clone_id, reason=reason, actor=actor())
    say(f"clone {clone_id} is {stage}")


@arena_app.command("retire")
def arena_retire(
    ctx: typer.Context, clone_id: CloneIdOption, reason: ReasonOption, db: DbOption = None
) -> None:
    """Retire an arena clone into the Hall of Fame, its record kept as it stands (admin).

    Example: autotrader lifecycle arena retire --clone-id 42 --reason "season over"
    """
    from autotrader.arena.hall_of_fame import retire_clone

    stage = retire_clone(open_store(ctx, db), clock(ctx), clone_id, reason=reason, actor=actor())
    say(f"clone {clone_id} is {stage}")


@entry_app.command("run-once")
def entry_run_once(ctx: typer.Context, db: DbOption = None) -> None:
    """Admit the queue's head into free slots once.

    Example: autotrader lifecycle arena-entry run-once
    """
    report = run_job(ctx, "lifecycle-arena-entry", db=db)
    result = report.result
    say(f"arena-entry: {report.summary}")
    for clone_id, why in result.deferred.items():
        say(f"clone {clone_id} keeps its place: {why}")


@entry_app.command("worker")
def entry_worker(
    ctx: typer.Context,
    interval: IntervalOption = None,
    max_ticks: MaxTicksOption = None,
    db: DbOption = None,
) -> None:
    """Admit from the queue forever (any number of workers may share a store).

    Example: autotrader lifecycle arena-entry worker --interval 300
    """
    run_job(ctx, "lifecycle-arena-entry", db=db, loop=True, interval=interval, max_ticks=max_ticks)
