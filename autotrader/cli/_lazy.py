"""Command groups imported only when invoked, so ``autotrader --help`` stays fast.

Building every group eagerly imported every CLI module, and through them most of the package,
on each start (0.7 s for ``--help`` against freqtrade's 0.3 s). The root group instead holds one
:class:`Entry` per top-level command: its name, where it lives (``module:attribute``) and the
one-line summary the root's help lists. ``autotrader ledger show`` imports ``cli.ledger`` only;
the root's help imports none. A test checks that every summary is the first paragraph of its
command's own help, so the two never drift apart.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import typer
import typer.main
from typer.core import TyperGroup


@dataclass(frozen=True)
class Entry:
    """One top-level command: ``target`` is ``module:attribute``, a ``typer.Typer`` group (or,
    with ``command=True``, a command function); ``summary`` is what the root's help lists."""

    name: str
    target: str
    summary: str
    command: bool = False
    hidden: bool = False

    def load(self) -> Any:
        """The click command this entry stands for (its module imported now)."""
        module_name, attribute = self.target.split(":")
        target = getattr(importlib.import_module(module_name), attribute)
        if self.command:
            single = typer.Typer(add_completion=False, rich_markup_mode="rich")
            single.command(self.name)(target)
            loaded = typer.main.get_command(single)
        else:
            loaded = typer.main.get_group(target)  # a sub-group: no completion options
        loaded.name = self.name
        loaded.hidden = self.hidden
        return loaded

    def stub(self) -> Any:
        """A stand-in carrying the name and summary only: what the root's help needs."""
        return typer.core.TyperCommand(name=self.name, help=self.summary, hidden=self.hidden)


class LazyGroup(TyperGroup):
    """A root group whose top-level commands come from :class:`Entry` rows: each is a stub in
    ``commands`` (so listing, ordering and typo suggestions work as usual) until it is looked
    up outside the root's own help, when its module is imported and the real command replaces
    the stub."""

    entries: tuple[Entry, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A command added the usual way (``add_typer``) under the same name wins.
        self._pending = {e.name: e for e in self.entries if e.name not in self.commands}
        for entry in self._pending.values():
            self.add_command(entry.stub(), entry.name)
        self._listing = False

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        entry = self._pending.get(cmd_name)
        if entry is not None and not self._listing:
            self.commands[cmd_name] = entry.load()
            del self._pending[cmd_name]
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True  # the stubs carry all the root's help shows
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
