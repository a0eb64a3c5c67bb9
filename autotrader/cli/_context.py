"""Per-invocation state: settings loaded once by the root callback, services built on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from autotrader.core.clock import Clock
    from autotrader.core.db import Store
    from autotrader.core.errors import ConfigError
    from autotrader.core.settings import Settings


@dataclass
class CliState:
    """What the root callback leaves in ``ctx.obj`` for every command."""

    debug: bool = False
    settings: Settings | None = None
    settings_error: ConfigError | None = None
    overridden: set[str] = field(default_factory=set)


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def settings_for(ctx: typer.Context, db: Path | None = None) -> Settings:
    """The effective settings, with ``--db`` applied; raises ConfigError if they are invalid."""
    st = state(ctx)
    if st.settings is None:
        from autotrader.core.settings import load_settings

        if st.settings_error is not None:
            raise st.settings_error
        st.settings = load_settings()
    if db is not None:
        st.overridden.add("db")
        return st.settings.model_copy(update={"db": db})
    return st.settings


def open_store(
    ctx: typer.Context,
    db: Path | None = None,
    *,
    migrate: bool = True,
    readonly: bool = False,
    current: bool = True,
) -> Store:
    """Open the store named by ``--db`` or the settings; it is closed when the command ends.

    By default the store is created and migrated on first use. A command that only reads passes
    ``readonly``: the store must exist, is never written (no migration, no seeding, no ``-wal``
    left behind), and must be up to date unless ``current=False`` (``db status``, ``db check``,
    ``db backup`` work on any store).
    """
    from autotrader.bootstrap import open_store as _open
    from autotrader.core.errors import NotFoundError, OperationalError

    settings = settings_for(ctx, db)
    if readonly and not settings.db_path.exists():
        raise NotFoundError(f"no store at {settings.db_path} (create it with: autotrader init)")
    store = _open(settings, migrate=migrate, readonly=readonly)
    ctx.call_on_close(store.close)
    if readonly and current:
        pending = len(store.pending_migrations())
        if pending == len(store.migration_status()):
            raise NotFoundError(f"{store.path} is an empty store (initialise it: autotrader init)")
        if pending:
            raise OperationalError(
                f"the store {store.path} has {pending} pending migration(s); apply them with:"
                " autotrader db migrate"
            )
    return store


def clock(ctx: typer.Context) -> Clock:
    """The command's clock: the wall clock, or the replay clock ``AUTOTRADER_NOW`` names."""
    return settings_for(ctx).clock()


def actor() -> str:
    """Who runs this command, as lifecycle records name them: ``cli:<login name>``."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "cli"
