"""The ``autotrader`` command: one root callback that loads settings, one group per module.

Errors are handled in one place (:class:`_Root`): our own errors become one line on stderr and
exit 1; anything unexpected also becomes one line unless ``--debug`` asks for the traceback.
Each command group's module is imported only when that group runs (``cli._lazy``), and command
modules import their services inside the command functions, so ``--help`` stays fast.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from autotrader import __version__
from autotrader.cli._context import CliState, state
from autotrader.cli._lazy import Entry, LazyGroup
from autotrader.cli._render import fail_line

# Every top-level command, in the order the root's help lists them; each module is imported
# only when its command runs (``cli._lazy``). A summary is its command's first help paragraph.
ENTRIES = (
    Entry(
        "init",
        "autotrader.cli.init:init_command",
        "Create the store if it is missing and apply pending migrations. Safe to run again; a\n"
        "damaged store, a foreign file or a store a newer autotrader migrated is refused.",
        command=True,
    ),
    Entry(
        "demo",
        "autotrader.cli.demo:demo_command",
        "Run the embedded default end to end: SQLite, bundled data, rules engine; no network.",
        command=True,
    ),
    Entry(
        "serve",
        "autotrader.cli.serve:serve_command",
        "Serve the read-only JSON API (OpenAPI at /docs) and the dashboard until interrupted.",
        command=True,
    ),
    Entry(
        "config",
        "autotrader.cli.config:app",
        "Show and check settings (environment, .env file, defaults).",
    ),
    Entry("db", "autotrader.cli.db:app", "Migrate, inspect, check and back up the SQLite store."),
    Entry(
        "workers",
        "autotrader.cli.workers:app",
        "Registered jobs, their workers, and store housekeeping.",
    ),
    Entry(
        "ingest",
        "autotrader.cli.ingest:app",
        "Market memory: Hyperliquid, Polymarket, DefiLlama, files.",
    ),
    Entry(
        "prop",
        "autotrader.cli.prop:app",
        "Prop accounts: manual intents, positions, mark-to-market, admin.",
    ),
    Entry(
        "clones",
        "autotrader.cli.clones:app",
        "Clones: models, entitlements, strategy graphs, context.",
    ),
    Entry(
        "decisions",
        "autotrader.cli.decisions:app",
        "Decision runs: context → engine → intents → gates → fills.",
    ),
    Entry(
        "decide",
        "autotrader.cli.decisions:app",
        "Decision runs: context → engine → intents → gates → fills.",
        hidden=True,
    ),
    Entry(
        "ledger",
        "autotrader.cli.ledger:app",
        "Audit the ledger: entries, trades, traces, verify, export, leaderboard, NAV, plots.",
    ),
    Entry(
        "backtest",
        "autotrader.cli.backtest:backtest_command",
        "Replay clones over market memory into a new backtest store; print the report.",
        command=True,
    ),
    Entry(
        "arena-models",
        "autotrader.cli.arena_models:app",
        "Model arenas: models × variants on identical accounts, ranked live.",
    ),
    Entry(
        "desk",
        "autotrader.cli.desk:app",
        "The desk: six agents proposing, approving and running trading missions.",
    ),
    Entry(
        "lifecycle",
        "autotrader.cli.lifecycle:app",
        "Lifecycle: audition fees, auditions, profiles, moderation, the arena.",
    ),
    Entry(
        "arena", "autotrader.cli.arena:app", "Races, tickets, payouts, balances, the Hall of Fame."
    ),
    Entry(
        "alerts",
        "autotrader.cli.alerts:app",
        "Alerts to Telegram, Discord, Slack, e-mail, ... (apprise URLs).",
    ),
    Entry(
        "live",
        "autotrader.cli.live:app",
        "Live venues: check credentials, status, reconcile, halt.",
    ),
    Entry(
        "agent",
        "autotrader.cli.agent:app",
        "The agent: one clone's boot → reconcile → decision loop.",
    ),
)


class _Root(LazyGroup):
    """The root group: turns every error into one line and an exit code."""

    entries = ENTRIES

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


def main() -> None:
    """Console-script entry point."""
    app()
