"""A settling process that hangs inside a race's settlement transaction, for the kill -9 test:
``python -m tests.fakes.arena_stuck_settler DB NOW_ISO``.

It is the real settler over the real store, except that the store's write of a settlement's
economy legs (one statement for every leg) first says ``booking <txn>`` on stdout and then
waits — inside the settlement's one transaction, with the finishes and expired tickets already
written — until the process is killed.
"""

from __future__ import annotations

import sys
import time

from autotrader.arena.models import ArenaPolicy
from autotrader.arena.settlement import RaceSettler
from autotrader.core.clock import SimulatedClock, parse_iso_utc
from autotrader.core.settings import load_settings
from autotrader.prop.factory import precision
from tests.fakes.decisions import open_test_store


class _HangingStore:
    """The real store, but for the settlement's economy booking."""

    def __init__(self, real) -> None:
        self._real = real

    def __getattr__(self, name):
        return getattr(self._real, name)

    def executemany(self, sql, rows):
        rows = list(rows)
        if sql.startswith("INSERT INTO economy_entries") and rows[0][0].endswith(":settlement"):
            print(f"booking {rows[0][0]}", flush=True)
            time.sleep(600)
        return self._real.executemany(sql, rows)


def main(db: str, now: str) -> None:
    store = _HangingStore(open_test_store(db))
    clock = SimulatedClock(parse_iso_utc(now))
    settings = load_settings(env_file=None)
    policy = ArenaPolicy.from_settings(settings)
    settler = RaceSettler(store, clock, precision(store, clock), policy,
                          worker_id="stuck@test:1", stale_after_ms=60_000)  # fmt: skip
    settler.settle_due()


if __name__ == "__main__":
    main(*sys.argv[1:])
