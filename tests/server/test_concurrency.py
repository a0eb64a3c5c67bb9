"""The server reads while the engine writes: many concurrent readers over real HTTP, a writer
trading through the prop desk at the same time, and no error on either side (WAL readers on
read-only connections never block the writer, and the writer never blocks them)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from autotrader.core.clock import SimulatedClock
from autotrader.server.app import create_app
from tests.fakes.decisions import open_test_store
from tests.fakes.live_server import LiveServer
from tests.fakes.server_world import settings_for

READERS = 40
SECONDS = 3.0


@pytest.mark.slow
def test_concurrent_readers_and_a_trading_writer_see_no_error(world):
    from autotrader.bootstrap import prop_desk
    from autotrader.prop.models import parse_intent

    settings = settings_for(world.path, world.artifacts, server_rate_limit=1_000_000)
    app = create_app(settings, clock=SimulatedClock(world.now_ms))
    paths = ["/", f"/accounts/{world.manual_account}", "/api/v1/ledger?limit=20",
             f"/api/v1/trace/fill:{world.llm_fill}", "/api/v1/internal/health/workers"]  # fmt: skip
    deadline = time.monotonic() + SECONDS
    writer_errors: list[str] = []
    steps = 0

    def write() -> None:
        nonlocal steps
        store = open_test_store(world.path)
        desk = prop_desk(store, SimulatedClock(world.now_ms))
        opened = {"action": "OPEN", "symbol": "ETH", "side": "LONG", "notional_usd": "100",
                  "leverage": 2}  # fmt: skip
        try:
            # At most 45 OPENs: the account's daily-trade limit (50) must not refuse the writer.
            while time.monotonic() < deadline and steps < 90:
                intent = parse_intent(opened if steps % 2 == 0 else {"action": "CLOSE",
                                                                      "symbol": "ETH"})  # fmt: skip
                result = desk.submit(world.manual_account, intent, idempotency_key=f"c:{steps}")
                if not result.accepted:
                    writer_errors.append(result.reason)
                steps += 1
        except Exception as exc:  # the test reports it below
            writer_errors.append(repr(exc))
        finally:
            store.close()

    def read(offset: int) -> list[str]:
        problems, turn = [], offset
        with httpx.Client(base_url=server.url, timeout=30) as client:
            while time.monotonic() < deadline:
                response = client.get(paths[turn % len(paths)])
                if response.status_code != 200:
                    problems.append(f"{paths[turn % len(paths)]}: {response.status_code}")
                turn += 1
        return problems

    with LiveServer(app) as server:
        writer = threading.Thread(target=write)
        writer.start()
        with ThreadPoolExecutor(READERS) as pool:
            reader_problems = [p for found in pool.map(read, range(READERS)) for p in found]
        writer.join()
    assert reader_problems == []
    assert writer_errors == []
    assert steps > 10
