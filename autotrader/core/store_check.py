"""``autotrader db check``: everything that can be verified about a store, one line per problem.

Every page and index (SQLite's ``integrity_check``: about 50 s on a 450 MB store, so it runs
only when asked), every foreign key, and the migration history against this version.
"""

from __future__ import annotations

from autotrader.core.db import Store


def store_problems(store: Store) -> list[str]:
    """One line per problem found in ``store``; empty when it is sound."""
    problems = [f"integrity: {line}" for line in store.integrity_problems(full=True)]
    problems += [f"foreign key: {line}" for line in store.foreign_key_problems()]
    unknown = store.unknown_migrations()
    if unknown:
        newer = store.recorded_version() or "a newer version"
        problems.append(
            f"migrations: {len(unknown)} applied by autotrader {newer} that autotrader"
            f" {store.version or 'this version'} does not know ({', '.join(unknown)});"
            " upgrade autotrader to write to this store"
        )
    return problems
