"""Every migration set of the product, in the order they apply.

Each feature owns its tables and its ``migrations`` module; this list is the one place that knows
them all. Sets apply in dependency order (``core`` first), so a later set may reference an earlier
set's tables.
"""

from __future__ import annotations

from autotrader.core import migrations as core_migrations
from autotrader.core._sqlite_utils import Migrations
from autotrader.market import migrations as market_migrations
from autotrader.prop import migrations as prop_migrations

MIGRATION_SETS: tuple[Migrations, ...] = (
    core_migrations.migrations,
    market_migrations.migrations,
    prop_migrations.migrations,
)
