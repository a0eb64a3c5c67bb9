"""``autotrader config``: effective settings, where each came from, whether they are valid."""

from __future__ import annotations

import typer

from autotrader.cli._context import settings_for, state
from autotrader.cli._options import JsonOption
from autotrader.cli._render import fail_line, out, print_json, say, table

app = typer.Typer(
    help="Show and check settings (environment, .env file, defaults).", no_args_is_help=True
)


@app.command("show")
def show(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Print every effective setting and where it came from (secrets masked).

    Example: autotrader config show --json
    """
    from autotrader.core.settings import describe_settings

    settings = settings_for(ctx)
    views = describe_settings(settings, overridden=state(ctx).overridden)
    if as_json:
        print_json([{"name": v.name, "value": v.value, "source": v.source} for v in views])
        return
    rows = [(v.name, v.value, v.source, v.description) for v in views]
    out.print(table("Settings", ["name", "value", "source", "about"], rows))


@app.command("check")
def check(ctx: typer.Context) -> None:
    """Validate the settings; list every problem, one per line, and exit 1 if there is any.

    Example: AUTOTRADER_MODE=paper autotrader config check
    """
    from autotrader.core.errors import ConfigError
    from autotrader.core.settings import check_settings

    try:
        problems = check_settings(settings_for(ctx))
    except ConfigError as exc:
        problems = exc.problems
    for problem in problems:
        fail_line(problem)
    if problems:
        raise typer.Exit(1)
    say("settings OK")
