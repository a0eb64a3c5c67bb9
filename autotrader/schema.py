"""Every migration set of the product, in the order they apply.

Each feature owns its tables and its ``migrations`` module; this list is the one place that knows
them all. Sets apply in dependency order (``core`` first), so a later set may reference an earlier
set's tables.
"""

from __future__ import annotations

from autotrader.alerts import migrations as alerts_migrations
from autotrader.arena import migrations as arena_migrations
from autotrader.arena_models import migrations as arena_models_migrations
from autotrader.artifacts import migrations as artifacts_migrations
from autotrader.backtest import migrations as backtest_migrations
from autotrader.clones import migrations as clones_migrations
from autotrader.core import migrations as core_migrations
from autotrader.core._sqlite_utils import Migrations
from autotrader.decisions import migrations as decisions_migrations
from autotrader.desk import migrations as desk_migrations
from autotrader.ledger import migrations as ledger_migrations
from autotrader.lifecycle import migrations as lifecycle_migrations
from autotrader.live import migrations as live_migrations
from autotrader.llm import migrations as llm_migrations
from autotrader.market import migrations as market_migrations
from autotrader.prop import migrations as prop_migrations

MIGRATION_SETS: tuple[Migrations, ...] = (
    core_migrations.migrations,
    market_migrations.migrations,
    prop_migrations.migrations,
    clones_migrations.migrations,
    llm_migrations.migrations,
    decisions_migrations.migrations,
    artifacts_migrations.migrations,
    ledger_migrations.migrations,
    arena_models_migrations.migrations,
    desk_migrations.migrations,
    lifecycle_migrations.migrations,
    alerts_migrations.migrations,
    arena_migrations.migrations,
    live_migrations.migrations,
    backtest_migrations.migrations,
)
