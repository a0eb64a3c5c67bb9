"""A trade-executor process that claims one execute_trade step and hangs inside it, for the
kill -9 test: ``python -m tests.fakes.desk_stuck_worker DB NOW_ISO``.

It is the real worker and the real executor over the real prop desk, except that the prop
desk's ``submit`` first says ``claimed <step id>`` on stdout and then waits (inside the step's
unit of work, as a slow venue would) until the process is killed.
"""

from __future__ import annotations

import sys
import time

from autotrader.core.clock import SimulatedClock, parse_iso_utc
from autotrader.core.worker import TickContext, worker_identity
from autotrader.desk.executor import TradeExecutor
from autotrader.desk.jobs import StepWorker
from autotrader.desk.vocabulary import DeskWorker
from autotrader.prop.factory import prop_desk
from tests.fakes.decisions import open_test_store


class _HangingDesk:
    def __init__(self, real) -> None:
        self.real = real

    def submit(self, account_id, intent, **kwargs):
        print(f"claimed {kwargs['idempotency_key'].removeprefix('desk-step:')}", flush=True)
        time.sleep(600)
        return self.real.submit(account_id, intent, **kwargs)


def main(db: str, now: str) -> None:
    store = open_test_store(db)
    clock = SimulatedClock(parse_iso_utc(now))
    executor = TradeExecutor(store, clock, _HangingDesk(prop_desk(store, clock)))
    worker = StepWorker(store, clock, DeskWorker.TRADE_EXECUTOR, executor.handlers(), batch=1)
    worker(TickContext(store, clock, worker_identity("trade-executor"), 1, lambda: False))


if __name__ == "__main__":
    main(*sys.argv[1:])
