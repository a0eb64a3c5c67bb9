"""``autotrader desk roundtables|memory|relationships``: the desk's conversations, what its agents
remember and how they get along."""

from __future__ import annotations

from typing import Annotated

import typer

from autotrader.cli import desk_conversations_render as render
from autotrader.cli._context import clock, open_store, settings_for
from autotrader.cli._options import DbOption, JsonOption, choice, id_argument
from autotrader.cli._render import print_json
from autotrader.desk.vocabulary import AgentId, MemoryType, RoundtableFormat, RoundtableStatus

roundtables_app = typer.Typer(
    help="Roundtables: six formats, held turn by turn by the agents' model.",
    no_args_is_help=True,
)
memory_app = typer.Typer(
    help="What the agents remember: insights, patterns, strategies, preferences, lessons.",
    no_args_is_help=True,
)

LimitOption = Annotated[int, typer.Option("--limit", min=1, max=10_000, help="At most this many.")]
IdArgument = Annotated[int, id_argument("Its id.")]
FORMATS = ", ".join(f.value for f in RoundtableFormat)


def register(app: typer.Typer) -> None:
    app.add_typer(roundtables_app, name="roundtables")
    app.add_typer(memory_app, name="memory")
    app.command("relationships")(relationships)


@roundtables_app.command("run")
def roundtables_run(
    ctx: typer.Context,
    format: Annotated[str, typer.Option("--format", help=f"One of: {FORMATS}.")],
    topic: Annotated[
        str | None, typer.Option("--topic", help="What to talk about (default: the desk picks).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Hold one roundtable now (within the day's cap) and print its transcript; exit 1 when
    the conversation failed.

    Example: autotrader desk roundtables run --format morning_standup
    """
    from autotrader.core.errors import ConfigError
    from autotrader.core.worker import worker_identity
    from autotrader.decisions.factory import lazy_model_client
    from autotrader.desk.conversation import NEEDS_A_MODEL
    from autotrader.desk.transcripts import hold_now, transcript

    format = choice(format, name="--format", allowed=RoundtableFormat)
    settings = settings_for(ctx, db)
    if not settings.model_configured:
        raise ConfigError([NEEDS_A_MODEL])
    store, now = open_store(ctx, db), clock(ctx)
    client = lazy_model_client(settings, store, now)
    worker = worker_identity("cli")  # held while this process lives
    held = hold_now(
        store, now, client, format, worker_id=worker, topic=topic, model=settings.desk_model
    )
    story = transcript(store, held.roundtable_id)
    if as_json:
        print_json(story)
    else:
        render.transcript(story)
    if held.status is not RoundtableStatus.SUCCEEDED:
        raise typer.Exit(1)


@roundtables_app.command("list")
def roundtables_list(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", help="queued, running, succeeded, failed.")
    ] = None,
    format: Annotated[str | None, typer.Option("--format", help=f"One of: {FORMATS}.")] = None,
    limit: LimitOption = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Roundtables, newest first. Example: autotrader desk roundtables list --format debate"""
    from autotrader.desk.repo.conversations import list_roundtables

    rows = list_roundtables(
        open_store(ctx, db, readonly=True),
        status=choice(status, name="--status", allowed=RoundtableStatus),
        format=choice(format, name="--format", allowed=RoundtableFormat),
        limit=limit,
    )
    if as_json:
        print_json(rows)
        return
    render.roundtables(rows)


@roundtables_app.command("show")
def roundtables_show(
    ctx: typer.Context, roundtable_id: IdArgument, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """A roundtable's transcript: speakers, costs, and the memories, proposals and drift it made.

    Example: autotrader desk roundtables show 3
    """
    from autotrader.desk.transcripts import transcript

    story = transcript(open_store(ctx, db, readonly=True), roundtable_id)
    if as_json:
        print_json(story)
        return
    render.transcript(story)


@roundtables_app.command("formats")
def roundtables_formats(
    ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """The six formats: who sits at the table, turns, temperature, schedule, probability.

    Example: autotrader desk roundtables formats
    """
    from autotrader.desk.repo.conversations import formats

    rows = formats(open_store(ctx, db, readonly=True))
    if as_json:
        print_json(rows)
        return
    render.formats(rows, settings_for(ctx, db).desk_timezone)


@memory_app.command("list")
def memory_list(
    ctx: typer.Context,
    agent: Annotated[str | None, typer.Option("--agent", help="Only this agent's.")] = None,
    type: Annotated[
        str | None, typer.Option("--type", help=", ".join(t.value for t in MemoryType) + ".")
    ] = None,
    min_confidence: Annotated[
        float, typer.Option("--min-confidence", min=0, max=1, help="At least this confident.")
    ] = 0.0,
    promoted: Annotated[
        bool | None,
        typer.Option(
            "--promoted/--not-promoted",
            help="Only permanent ones, or only the others.",
            show_default=False,
        ),
    ] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Only those tagged so (BTC).")] = None,
    limit: LimitOption = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Memories, the latest first.

    Example: autotrader desk memory list --type lesson --agent sage
    """
    from autotrader.desk.repo.learning import list_memories

    rows = list_memories(
        open_store(ctx, db, readonly=True),
        agent_id=choice(agent, name="--agent", allowed=AgentId),
        memory_type=choice(type, name="--type", allowed=MemoryType),
        min_confidence=min_confidence,
        promoted=promoted,
        tag=tag,
        limit=limit,
    )
    if as_json:
        print_json(rows)
        return
    render.memories(rows)


@memory_app.command("show")
def memory_show(
    ctx: typer.Context, memory_id: IdArgument, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """A memory, where it came from, and every decision it shaped.

    Example: autotrader desk memory show 4
    """
    from autotrader.desk.views import memory_story

    story = memory_story(open_store(ctx, db, readonly=True), memory_id)
    if as_json:
        print_json(story)
        return
    render.memory_story(story)


def relationships(
    ctx: typer.Context,
    history: Annotated[
        int, typer.Option("--history", min=0, max=1000, help="Drift entries shown per pair.")
    ] = 5,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The fifteen pairs: affinity now and as seeded, interactions, and how it drifted.

    Example: autotrader desk relationships --json
    """
    from autotrader.desk.views import relationships as read

    rows = read(open_store(ctx, db, readonly=True), history=history)
    if as_json:
        print_json(rows)
        return
    render.relationships(rows)
