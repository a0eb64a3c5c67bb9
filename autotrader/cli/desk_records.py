"""``autotrader desk proposals|missions|events|signals|triggers|reactions``: what the desk
proposed, did and saw, and the rules that make it react."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from autotrader.cli import desk_render as render
from autotrader.cli._context import clock, open_store
from autotrader.cli._options import (
    DbOption,
    JsonOption,
    choice,
    count_option,
    id_argument,
    id_option,
    parse_symbol,
)
from autotrader.cli._render import print_json, say
from autotrader.desk.vocabulary import AgentId, MissionStatus, ProposalStatus

proposals_app = typer.Typer(help="Proposals and the gates that judged them.", no_args_is_help=True)
missions_app = typer.Typer(help="Missions and their steps.", no_args_is_help=True)
events_app = typer.Typer(help="Agent events, newest first.", no_args_is_help=True)
signals_app = typer.Typer(help="Signals from market memory.", no_args_is_help=True)
triggers_app = typer.Typer(help="Trigger rules: reactive and proactive.", no_args_is_help=True)
reactions_app = typer.Typer(help="The reaction matrix.", no_args_is_help=True)

LimitOption = Annotated[int, typer.Option("--limit", min=1, max=10_000, help="At most this many.")]
IdArgument = Annotated[int, id_argument("Its id.")]
# A week: the longest cooldown or schedule a rule may have (desk.company checks it too).
MAX_MINUTES = 7 * 24 * 60


def register(app: typer.Typer) -> None:
    for name, group in (
        ("proposals", proposals_app),
        ("missions", missions_app),
        ("events", events_app),
        ("signals", signals_app),
        ("triggers", triggers_app),
        ("reactions", reactions_app),
    ):
        app.add_typer(group, name=name)


@proposals_app.command("list")
def proposals_list(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", help="pending, accepted, rejected.")
    ] = None,
    agent: Annotated[str | None, typer.Option("--agent", help="Only this agent's.")] = None,
    limit: LimitOption = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Proposals, newest first. Example: autotrader desk proposals list --status rejected"""
    from autotrader.desk.repo.loop import list_proposals

    rows = list_proposals(
        open_store(ctx, db, readonly=True),
        status=choice(status, name="--status", allowed=ProposalStatus),
        agent_id=choice(agent, name="--agent", allowed=AgentId),
        limit=limit,
    )
    if as_json:
        print_json(rows)
        return
    render.proposals(rows)


@proposals_app.command("show")
def proposals_show(
    ctx: typer.Context, proposal_id: IdArgument, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """A proposal, every gate it passed or failed, and its mission.

    Example: autotrader desk proposals show 3
    """
    from autotrader.desk.views import proposal_story

    story = proposal_story(open_store(ctx, db, readonly=True), proposal_id)
    if as_json:
        print_json(story)
        return
    render.proposal_story(story)


@missions_app.command("list")
def missions_list(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", help="approved, running, succeeded, failed.")
    ] = None,
    limit: LimitOption = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Missions, newest first. Example: autotrader desk missions list --status running"""
    from autotrader.desk.repo.loop import list_missions

    status = choice(status, name="--status", allowed=MissionStatus)
    rows = list_missions(open_store(ctx, db, readonly=True), status=status, limit=limit)
    if as_json:
        print_json(rows)
        return
    render.missions(rows)


@missions_app.command("show")
def missions_show(
    ctx: typer.Context, mission_id: IdArgument, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """A mission: its steps with their outputs and every event about it.

    Example: autotrader desk missions show 2
    """
    from autotrader.desk.views import mission_story

    story = mission_story(open_store(ctx, db, readonly=True), mission_id)
    if as_json:
        print_json(story)
        return
    render.mission_story(story)


@events_app.command("list")
def events_list(
    ctx: typer.Context,
    agent: Annotated[str | None, typer.Option("--agent", help="Only this agent's.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="signal, trade, proposal, ...")] = None,
    mission: Annotated[int | None, id_option("--mission", "Only this mission's.")] = None,
    limit: LimitOption = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Agent events, newest first. Example: autotrader desk events list --kind trade"""
    from autotrader.desk.repo.events import list_events

    rows = list_events(
        open_store(ctx, db, readonly=True),
        agent_id=choice(agent, name="--agent", allowed=AgentId),
        kind=kind,
        mission_id=mission,
        limit=limit,
    )
    if as_json:
        print_json(rows)
        return
    render.events(rows)


@events_app.command("show")
def events_show(
    ctx: typer.Context, event_id: IdArgument, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """One event with its tags and references. Example: autotrader desk events show 12"""
    from autotrader.desk.views import event

    row = event(open_store(ctx, db, readonly=True), event_id)
    if as_json:
        print_json(row)
        return
    render.record(f"event {event_id}", row)


@signals_app.command("list")
def signals_list(
    ctx: typer.Context,
    symbol: Annotated[str | None, typer.Option("--symbol", help="Only this symbol.")] = None,
    limit: LimitOption = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Signals, newest first. Example: autotrader desk signals list --symbol BTC"""
    from autotrader.desk.repo.learning import list_signals

    symbol = parse_symbol(symbol, name="--symbol") if symbol is not None else None
    rows = list_signals(open_store(ctx, db, readonly=True), symbol=symbol, limit=limit)
    if as_json:
        print_json(rows)
        return
    render.signals(rows)


@signals_app.command("show")
def signals_show(
    ctx: typer.Context, signal_id: IdArgument, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """One signal with every component of its score. Example: autotrader desk signals show 4"""
    from autotrader.desk.views import signal

    row = signal(open_store(ctx, db, readonly=True), signal_id)
    if as_json:
        print_json(row)
        return
    render.record(f"signal {signal_id}", row)


EnableOption = Annotated[
    bool | None, typer.Option("--enable/--disable", help="Switch it on or off.", show_default=False)
]
CooldownOption = Annotated[
    int | None, count_option("--cooldown", "Minutes between firings.", low=0, high=MAX_MINUTES)
]


@triggers_app.command("list")
def triggers_list(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every trigger rule: conditions, agent, cooldown, fire count.

    Example: autotrader desk triggers list
    """
    from autotrader.desk.repo.config import triggers

    rows = triggers(open_store(ctx, db, readonly=True))
    if as_json:
        print_json(rows)
        return
    render.triggers(rows)


@triggers_app.command("set")
def triggers_set(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The rule, e.g. signal_high_confidence.")],
    enabled: EnableOption = None,
    cooldown: CooldownOption = None,
    interval: Annotated[
        int | None, count_option("--interval", "Proactive: minutes between runs.", high=MAX_MINUTES)
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            min=-1,
            max=100,
            help="The number its condition compares with: a fraction (-1 to 10) or a count.",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Change a trigger rule.

    Example: autotrader desk triggers set signal_high_confidence --threshold 0.85
    """
    from autotrader.desk.company import set_trigger

    rule = set_trigger(
        open_store(ctx, db), clock(ctx), name, enabled=enabled, cooldown_minutes=cooldown,
        interval_minutes=interval, threshold=threshold,
    )  # fmt: skip
    state = "on" if rule["enabled"] else "off"
    say(f"{rule['name']}: {state}, conditions {json.dumps(rule['conditions'])}")


@reactions_app.command("list")
def reactions_list(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """The reaction matrix: source, tags, target, type, probability, cooldown.

    Example: autotrader desk reactions list
    """
    from autotrader.desk.repo.config import patterns

    rows = patterns(open_store(ctx, db, readonly=True))
    if as_json:
        print_json(rows)
        return
    render.patterns(rows)


@reactions_app.command("set")
def reactions_set(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The pattern, e.g. trade_analysis.")],
    enabled: EnableOption = None,
    probability: Annotated[
        float | None, typer.Option("--probability", min=0, max=1, help="Chance of reacting.")
    ] = None,
    cooldown: CooldownOption = None,
    db: DbOption = None,
) -> None:
    """Change a reaction pattern.

    Example: autotrader desk reactions set trade_analysis --probability 1
    """
    from autotrader.desk.company import set_pattern

    pattern = set_pattern(
        open_store(ctx, db), clock(ctx), name, enabled=enabled, probability=probability,
        cooldown_minutes=cooldown,
    )  # fmt: skip
    say(
        f"{pattern['name']}: {'on' if pattern['enabled'] else 'off'}, probability "
        f"{pattern['probability']:g}, cooldown {pattern['cooldown_minutes']} min"
    )
