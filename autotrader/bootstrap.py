"""Wiring: build the real collaborators from settings (the CLI's only way to get services)."""

from __future__ import annotations

from pathlib import Path

from autotrader.core.db import Store
from autotrader.core.settings import Settings
from autotrader.schema import MIGRATION_SETS


def open_store(settings: Settings, *, path: Path | None = None, migrate: bool = True) -> Store:
    """Open the store at ``path`` (default: the settings' store) with every migration set."""
    return Store(
        path or settings.db_path,
        migrations=MIGRATION_SETS,
        busy_timeout_ms=settings.db_busy_timeout_ms,
        migrate=migrate,
    )
