"""The ``autotrader`` command: one root callback that loads settings, one group per module.

Errors are handled in one place (:class:`_Root`): our own errors become one line on stderr and
exit 1; anything unexpected also becomes one line unless ``--debug`` asks for the traceback.
Command modules import their services inside the command functions, so ``--help`` stays fast.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from autotrader import __version__
from autotrader.cli import alerts as alerts_cli
from autotrader.cli import arena_models as arena_models_cli
from autotrader.cli import clones as clones_cli
from autotrader.cli import config as config_cli
from autotrader.cli import db as db_cli
from autotrader.cli import decisions as decisions_cli
from autotrader.cli import desk as desk_cli
from autotrader.cli import ingest as ingest_cli
from autotrader.cli import ledger as ledger_cli
from autotrader.cli import lifecycle as lifecycle_cli
from autotrader.cli import prop as prop_cli
from autotrader.cli import workers as workers_cli
from autotrader.cli._context import CliState, state
from autotrader.cli._render import fail_line
from autotrader.cli.backtest import backtest_command
from autotrader.cli.demo import demo_command
from autotrader.cli.init import init_command
from autotrader.cli.serve import serve_command


class _Root(TyperGroup):
    """The root group: turns every error into one line and an exit code."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.TyperException, typer.Exit, typer.Abort):
            raise  # usage errors (exit 2), explicit exits, aborts: typer reports them
        except KeyboardInterrupt:
            fail_line("interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:
            from autotrader.core.errors import AutotraderError, ConfigError

            if _debug(ctx):
                raise
            if isinstance(exc, ConfigError):
                for problem in exc.problems:
                    fail_line(problem)
            elif isinstance(exc, AutotraderError):
                fail_line(str(exc))
            elif isinstance(exc, OSError) and exc.strerror:
                # A file the user named cannot be written or read: their problem to fix, not a bug.
                where = f": {exc.filename}" if exc.filename else ""
                fail_line(f"{exc.strerror}{where}")
            else:
                fail_line(
                    f"unexpected {type(exc).__name__}: {exc} "
                    "(a bug: rerun with --debug for the traceback and report it)"
                )
            raise typer.Exit(1) from None


def _debug(ctx: typer.Context) -> bool:
    st = ctx.obj if isinstance(ctx.obj, CliState) else None
    if st is not None and st.debug:
        return True
    return os.environ.get("AUTOTRADER_DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}


app = typer.Typer(
    cls=_Root,
    name="autotrader",
    help="Autonomous, model-driven crypto paper trading with safety gates and an audit trail.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,  # locals can hold API keys
    add_completion=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"autotrader {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks (also AUTOTRADER_DEBUG=1).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Autonomous, model-driven crypto paper trading with safety gates and an audit trail."""
    from autotrader.core.errors import ConfigError
    from autotrader.core.logging import configure
    from autotrader.core.settings import load_settings

    st = state(ctx)
    st.debug = debug or _debug(ctx)
    try:
        st.settings = load_settings()
    except ConfigError as exc:
        # Kept, not raised: `config check` lists the problems; other commands raise it on use.
        st.settings_error = exc
    settings = st.settings
    configure(
        level="DEBUG" if st.debug else (settings.log_level if settings else "INFO"),
        fmt=settings.log_format if settings else "auto",
        secrets=settings.secret_values() if settings else (),
    )


app.command("init")(init_command)
app.command("demo")(demo_command)
app.add_typer(config_cli.app, name="config")
app.add_typer(db_cli.app, name="db")
app.add_typer(workers_cli.app, name="workers")
app.add_typer(ingest_cli.app, name="ingest")
app.add_typer(prop_cli.app, name="prop")
app.add_typer(clones_cli.app, name="clones")
app.add_typer(decisions_cli.app, name="decisions")
app.add_typer(decisions_cli.app, name="decide", hidden=True)
app.add_typer(ledger_cli.app, name="ledger")
app.command("backtest")(backtest_command)
app.add_typer(arena_models_cli.app, name="arena-models")
app.add_typer(desk_cli.app, name="desk")
app.add_typer(lifecycle_cli.app, name="lifecycle")
app.command("serve")(serve_command)
app.add_typer(alerts_cli.app, name="alerts")


def main() -> None:
    """Console-script entry point."""
    app()
