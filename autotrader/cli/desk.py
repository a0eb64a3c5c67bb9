"""``autotrader desk``: the six-agent trading company — set it up, watch it, run its heartbeat
and workers, report on it, and edit its agents and policies. The records (proposals, missions,
events, signals, triggers, reactions) are in :mod:`autotrader.cli.desk_records`; roundtables,
memory and relationships in :mod:`autotrader.cli.desk_conversations`."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Annotated, Any

import typer

from autotrader.cli import desk_conversations, desk_records
from autotrader.cli import desk_render as render
from autotrader.cli._context import clock, open_store, settings_for
from autotrader.cli._loop import run_job
from autotrader.cli._options import (
    DbOption,
    IntervalOption,
    JsonOption,
    LoopOption,
    MaxTicksOption,
    choice,
    decimal_option,
)
from autotrader.cli._render import print_json, say
from autotrader.desk.vocabulary import AgentId, DeskWorker, PolicyKey

app = typer.Typer(
    help="The desk: six agents proposing, approving and running trading missions.",
    no_args_is_help=True,
)
agents_app = typer.Typer(help="The six agents: role, directive, tone, quirk.", no_args_is_help=True)
policy_app = typer.Typer(help="The seven policy keys, validated.", no_args_is_help=True)
app.add_typer(agents_app, name="agents")
app.add_typer(policy_app, name="policy")
desk_records.register(app)

WORKERS = tuple(w.value for w in DeskWorker)


@app.command("init")
def init(
    ctx: typer.Context,
    balance: Annotated[
        Decimal,
        decimal_option("--balance", "USDC the desk's new prop account starts with.", positive=True),
    ] = Decimal(1000),
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create the desk's clone and prop account and seed its company (idempotent).

    Example: autotrader desk init --balance 1000
    """
    from autotrader.desk.setup import init_desk

    setup = init_desk(open_store(ctx, db), clock(ctx), balance=balance)
    if as_json:
        print_json(asdict(setup))
        return
    opened = "opened" if setup.account_opened else "already open"
    seeded = ", ".join(f"{n} {kind}" for kind, n in setup.seeded.items() if n) or "nothing new"
    say(f"desk clone {setup.clone_id}, prop account {setup.account_id} ({opened}); seeded {seeded}")


@app.command("status")
def status(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """The book, every worker (breaker and live processes), the last heartbeat, today's work.

    Example: autotrader desk status
    """
    from autotrader.desk.status import desk_status

    settings = settings_for(ctx, db)
    store = open_store(ctx, db, readonly=True)
    report = desk_status(store, clock(ctx), stale_after_s=settings.worker_stale_after)
    if as_json:
        print_json(asdict(report))
        return
    render.status(report)


@app.command("heartbeat")
def heartbeat(
    ctx: typer.Context,
    loop: LoopOption = False,
    interval: IntervalOption = None,
    max_ticks: MaxTicksOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """One heartbeat (six budgeted operations, 15 s at most), or every 5 minutes with --loop.

    One pass exits 1 when an operation failed (each is recorded either way).
    Example: autotrader desk heartbeat --loop
    """
    report = run_job(
        ctx, "desk-heartbeat", db=db, loop=loop, interval=interval, max_ticks=max_ticks
    )
    if report is None:
        return
    if as_json:
        print_json(report.result)
    else:
        render.heartbeat(report.result)
    if report.result.failed:
        raise typer.Exit(1)


@app.command("worker")
def worker(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help=f"One of: {', '.join(WORKERS)}.")],
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit (cron).")] = False,
    reset: Annotated[
        bool, typer.Option("--reset", help="Re-enable a worker its breaker disabled, first.")
    ] = False,
    interval: IntervalOption = None,
    max_ticks: MaxTicksOption = None,
    db: DbOption = None,
) -> None:
    """Run one of the desk's workers (tmux/systemd); it polls every 15–30 s.

    Example: autotrader desk worker trade-executor --reset
    """
    from autotrader.desk.breaker import Breaker

    chosen = DeskWorker(choice(name, name="NAME", allowed=WORKERS))
    if reset:
        Breaker(open_store(ctx, db), clock(ctx), chosen).reset()
        say(f"{name}: re-enabled")
    report = run_job(ctx, chosen.job, db=db, loop=not once, interval=interval, max_ticks=max_ticks)
    if report is not None:
        say(report.summary)
        if report.failed:
            raise typer.Exit(1)


@app.command("report")
def report(
    ctx: typer.Context,
    days: Annotated[int, typer.Option("--days", min=1, max=365, help="The window, in days.")] = 7,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The seed's success metrics over the last days, each computed from the tables.

    Example: autotrader desk report --days 7
    """
    from autotrader.desk.report import desk_report

    found = desk_report(open_store(ctx, db, readonly=True), clock(ctx), days=days)
    if as_json:
        print_json(asdict(found))
        return
    render.report(found)


# -- agents ------------------------------------------------------------------------------------

AgentArgument = Annotated[
    str, typer.Argument(help=f"One of: {', '.join(a.value for a in AgentId)}.")
]


@agents_app.command("list")
def agents_list(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """The six agents and their roles. Example: autotrader desk agents list"""
    from autotrader.desk.company import list_agents

    agents = list_agents(open_store(ctx, db, readonly=True))
    if as_json:
        print_json(agents)
        return
    render.agents(agents)


@agents_app.command("show")
def agents_show(
    ctx: typer.Context, agent: AgentArgument, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """One agent: profile, relationships, strongest memories.

    Example: autotrader desk agents show sage
    """
    from autotrader.desk.company import show_agent

    view = show_agent(open_store(ctx, db, readonly=True), agent)
    if as_json:
        print_json(asdict(view))
        return
    render.agent(view)


def _text_option(name: str) -> Any:
    return typer.Option(f"--{name}", help=f"The agent's new {name}.", show_default=False)


@agents_app.command("set")
def agents_set(
    ctx: typer.Context,
    agent: AgentArgument,
    role: Annotated[str | None, _text_option("role")] = None,
    personality: Annotated[str | None, _text_option("personality")] = None,
    tone: Annotated[str | None, _text_option("tone")] = None,
    quirk: Annotated[str | None, _text_option("quirk")] = None,
    voice: Annotated[str | None, _text_option("voice")] = None,
    directive: Annotated[str | None, _text_option("directive")] = None,
    db: DbOption = None,
) -> None:
    """Edit an agent's profile.

    Example: autotrader desk agents set sage --tone "Show me the stop."
    """
    from autotrader.desk.company import set_agent

    row = set_agent(
        open_store(ctx, db), clock(ctx), agent, role=role, personality=personality, tone=tone,
        quirk=quirk, voice=voice, directive=directive,
    )  # fmt: skip
    say(f"{row['name']} updated")


# -- policy ------------------------------------------------------------------------------------


@policy_app.command("show")
def policy_show(
    ctx: typer.Context,
    key: Annotated[
        str | None, typer.Argument(help=f"One of: {', '.join(k.value for k in PolicyKey)}.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every policy (or one) as stored, defaults filled in.

    Example: autotrader desk policy show trade_limits
    """
    from autotrader.desk.policies import parse_key, policy_values

    values = policy_values(open_store(ctx, db, readonly=True))
    if key is not None:
        values = {parse_key(key).value: values[parse_key(key).value]}
    if as_json:
        print_json(values)
        return
    render.policies(values)


@policy_app.command("set")
def policy_set(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The policy key.")],
    value: Annotated[str, typer.Argument(help="A JSON object of the fields to change.")],
    db: DbOption = None,
) -> None:
    """Change fields of a policy; an invalid value changes nothing and names every bad field.

    Example: autotrader desk policy set trade_limits '{"max_daily_trades": 4}'
    """
    import json

    from autotrader.desk.policies import set_policy

    stored = set_policy(open_store(ctx, db), clock(ctx), key, value)
    say(f"{key}: {json.dumps(stored, sort_keys=True)}")


desk_conversations.register(app)  # after the commands above, so `desk --help` lists them first
