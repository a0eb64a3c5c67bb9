"""The composition root: open the store with every migration set, and the factories that build
the real collaborators from settings (the CLI's only way to get services). Each factory lives
with its package; they are gathered here so commands and tests have one place to ask."""

from __future__ import annotations

from pathlib import Path

from autotrader import __version__
from autotrader.core.db import Store
from autotrader.core.settings import Settings
from autotrader.decisions.factory import decision_runner, engines, model_client
from autotrader.lifecycle.factory import audition_evaluator, require_treasury_verifier
from autotrader.market.factory import build_ingestor as ingestor
from autotrader.prop.factory import precision, prop_desk
from autotrader.schema import MIGRATION_SETS


def open_store(
    settings: Settings,
    *,
    path: Path | None = None,
    migrate: bool = True,
    readonly: bool = False,
) -> Store:
    """Open the store at ``path`` (default: the settings' store) with every migration set;
    ``readonly`` opens an existing store without writing to it (nor migrating it)."""
    return Store(
        path or settings.db_path,
        migrations=MIGRATION_SETS,
        busy_timeout_ms=settings.db_busy_timeout_ms,
        migrate=migrate and not readonly,
        readonly=readonly,
        version=__version__,
    )


__all__ = [
    "audition_evaluator",
    "decision_runner",
    "engines",
    "ingestor",
    "model_client",
    "open_store",
    "precision",
    "prop_desk",
    "require_treasury_verifier",
]
