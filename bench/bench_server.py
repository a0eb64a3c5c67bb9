"""``autotrader serve`` on the 1,000,000-entry bench store (``--quick``: 100,000), over real HTTP.

Targets (issue 19): p95 ≤ 50 ms for the leaderboard, an account page and a ledger page; 200
concurrent readers while a writer trades, with no error on either side.

The store is ``bench_ledger``'s (1,000 accounts); the server is ``autotrader serve`` in a process
of its own, measured from this one with httpx over a kept-alive connection. Baselines, same run:
the HTTP floor (``/api/v1/health``: routing, a snapshot, JSON) and the raw SQL of a ledger page.
The leaderboard is served from the server's read cache; the first (cold) computation is reported
on its own. The writer is a separate process trading through the real prop desk (intent, gates,
order, fill, position and ledger entries in one transaction each, as a decision worker's fills
are), flat out, while the readers hammer the leaderboard, account pages and ledger pages.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._harness import BenchResult, median_seconds

P95_TARGET_S = 0.05
READERS = 200
WRITER_ACCOUNTS = 10


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _add_market(path: Path) -> int:
    """Import the bundled BTC/ETH candles so the writer's orders have a price; the replay end
    (epoch ms) is the clock the server and the writer run on."""
    from autotrader.bootstrap import open_store
    from autotrader.core.clock import SimulatedClock
    from autotrader.core.settings import load_settings
    from autotrader.demo import bundled_candles, replay_end_ms
    from autotrader.market.ingest import Ingestor
    from autotrader.market.registry import ensure_assets

    files = bundled_candles()
    end = replay_end_ms(files)
    store = open_store(load_settings(env_file=None), path=path)
    try:
        clock = SimulatedClock(end)
        ensure_assets(store, clock)
        for symbol, (file, timeframe) in files.items():
            Ingestor(store, clock).import_file(file, symbol=symbol, timeframe=timeframe)
    finally:
        store.close()
    return end


def write_flat_out(path: Path, now_ms: int, seconds: float) -> dict:
    """The writer process: round trips (OPEN then CLOSE of BTC) on the first accounts through
    the prop desk until ``seconds`` pass. Returns counts and commit latencies."""
    from autotrader.bootstrap import open_store, prop_desk
    from autotrader.core.clock import SimulatedClock
    from autotrader.core.errors import AutotraderError
    from autotrader.core.settings import load_settings
    from autotrader.prop.models import parse_intent

    store = open_store(load_settings(env_file=None), path=path)
    desk = prop_desk(store, SimulatedClock(now_ms))
    opened = {"action": "OPEN", "symbol": "BTC", "side": "LONG", "notional_usd": "200",
              "leverage": 2}  # fmt: skip
    closed = {"action": "CLOSE", "symbol": "BTC"}
    steps, errors, latencies = 0, [], []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        account = 1 + (steps // 2) % WRITER_ACCOUNTS
        intent = parse_intent(opened if steps % 2 == 0 else closed)
        started = time.perf_counter()
        try:
            desk.submit(account, intent, idempotency_key=f"bench-writer:{steps}")
        except AutotraderError as exc:
            errors.append(str(exc))
        latencies.append(time.perf_counter() - started)
        steps += 1
    store.close()
    return {"steps": steps, "errors": errors[:5], "error_count": len(errors),
            "p95_s": _p95(latencies)}  # fmt: skip


def _start_server(path: Path, port: int, now_ms: int) -> subprocess.Popen:
    from autotrader.core.clock import iso_utc

    env = {**os.environ, "AUTOTRADER_NOW": iso_utc(now_ms), "AUTOTRADER_LOG_LEVEL": "WARNING",
           "AUTOTRADER_SERVER_RATE_LIMIT": "1000000"}  # fmt: skip
    script = Path(sys.executable).with_name("autotrader")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "autotrader"]
    server = subprocess.Popen(
        [*command, "serve", "--db", str(path), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"the server did not start: {server.stderr.read().decode()[-500:]}")


def _timed_gets(client, path: str, n: int) -> list[float]:
    client.get(path).raise_for_status()  # warm: connection, caches
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(path)
        samples.append(time.perf_counter() - started)
        response.raise_for_status()
    return samples


async def _readers(base: str, paths: list[str], seconds: float) -> tuple[int, list[str], float]:
    """``READERS`` clients, each looping over ``paths`` until ``seconds`` pass: (requests,
    errors, p95 latency under load)."""
    import httpx

    errors: list[str] = []
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=READERS, max_keepalive_connections=READERS)
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def reader(offset: int) -> None:
            turn = offset
            while time.monotonic() < deadline:
                path = paths[turn % len(paths)]
                turn += 1
                started = time.perf_counter()
                try:
                    response = await client.get(path)
                    if response.status_code != 200:
                        errors.append(f"{path}: HTTP {response.status_code}")
                except httpx.HTTPError as exc:
                    errors.append(f"{path}: {type(exc).__name__}")
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(reader(i) for i in range(READERS)))
    return len(latencies), errors, _p95(latencies)


def run(quick: bool = False) -> list[BenchResult]:
    from bench.bench_ledger import build_ledger

    entries, accounts = (100_000, 1_000) if quick else (1_000_000, 1_000)
    samples, load_s = (60, 5.0) if quick else (200, 15.0)
    middle = accounts // 2
    with tempfile.TemporaryDirectory(prefix="bench-server-") as folder:
        path = Path(folder) / "ledger.db"
        started = time.perf_counter()
        build_ledger(path, entries=entries, accounts=accounts)
        now = _add_market(path)
        print(f"   built {entries:,} entries in {time.perf_counter() - started:.1f} s", flush=True)
        raw_sql = _raw_ledger_page(path, middle)
        port = _free_port()
        server = _start_server(path, port, now)
        try:
            import httpx

            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
                started = time.perf_counter()
                client.get("/api/v1/leaderboard").raise_for_status()
                cold = time.perf_counter() - started
                floor = _p95(_timed_gets(client, "/api/v1/health", samples))
                board = _p95(_timed_gets(client, "/api/v1/leaderboard", samples))
                board_page = _p95(_timed_gets(client, "/", samples))
                account = _p95(_timed_gets(client, f"/accounts/{middle}", samples))
                ledger = _p95(_timed_gets(client, f"/api/v1/ledger?account_id={middle}", samples))
                deep = _deep_cursor(client, middle)
                ledger_deep = _p95(_timed_gets(client, deep, samples))
            writer = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bench.bench_server",
                    "--write",
                    str(path),
                    str(now),
                    str(load_s + 2),
                ],
                stdout=subprocess.PIPE,
                cwd=Path(__file__).resolve().parents[1],
            )
            time.sleep(1)  # the writer is trading before the readers start
            paths = ["/api/v1/leaderboard", "/", f"/accounts/{middle}",
                     f"/api/v1/ledger?account_id={middle}", "/api/v1/ledger",
                     "/api/v1/accounts/1", "/api/v1/internal/health/workers"]  # fmt: skip
            requests, errors, loaded_p95 = asyncio.run(
                _readers(f"http://127.0.0.1:{port}", paths, load_s)
            )
            written = json.loads(writer.communicate(timeout=120)[0])
        finally:
            server.terminate()
            server.wait(timeout=30)
    failures = len(errors) + written["error_count"]
    if errors or written["errors"]:
        print(f"   reader errors: {errors[:5]}; writer errors: {written['errors']}", flush=True)
    under_load = f"{READERS} readers"
    return [
        BenchResult("leaderboard, first (cold) computation", cold, "s"),
        _p95_result(f"GET /api/v1/leaderboard p95 ({accounts} accounts)", board, floor),
        _p95_result("GET / (leaderboard page) p95", board_page, floor),
        _p95_result("GET /accounts/ID (account page) p95", account, floor),
        _p95_result("GET /api/v1/ledger?account_id= p95", ledger, raw_sql, "vs raw SQL"),
        _p95_result("GET /api/v1/ledger, 100 pages deep, p95", ledger_deep, raw_sql, "vs raw SQL"),
        BenchResult(f"{under_load}: requests in {load_s:.0f} s", requests, "req"),
        BenchResult(f"{under_load}: p95 latency under load", loaded_p95, "s", floor, "vs floor"),
        BenchResult(f"writer: trading steps beside {under_load}", written["steps"], "steps"),
        BenchResult("writer: p95 of one trading transaction", written["p95_s"], "s"),
        BenchResult(
            f"{under_load} + a writer: errors",
            failures,
            "errors",
            target="0",
            passed=failures == 0,
        ),
    ]


def _p95_result(name: str, value: float, baseline: float, label: str = "vs floor") -> BenchResult:
    return BenchResult(
        name, value, "s", baseline, label, f"<= {P95_TARGET_S} s", value <= P95_TARGET_S
    )


def _raw_ledger_page(path: Path, account: int) -> float:
    """The raw SQL of one account's first ledger page (sqlite3, no decoding): the floor of
    what the ledger endpoint does."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        sql = ("SELECT * FROM ledger_entries WHERE account_id = ?"
               " ORDER BY created_at DESC, id DESC LIMIT 51")  # fmt: skip
        return median_seconds(lambda: conn.execute(sql, (account,)).fetchall(), repeat=50)
    finally:
        conn.close()


def _deep_cursor(client, account: int) -> str:
    """The URL of the 101st page of an account's ledger (a cursor 100 pages in)."""
    path = f"/api/v1/ledger?account_id={account}&limit=5"
    cursor = None
    for _ in range(100):
        page = client.get(path + (f"&cursor={cursor}" if cursor else "")).json()
        cursor = page["next_cursor"] or cursor
    return path + f"&cursor={cursor}"


if __name__ == "__main__":
    if sys.argv[1:2] == ["--write"]:
        store_path, now_text, seconds_text = sys.argv[2:5]
        print(json.dumps(write_flat_out(Path(store_path), int(now_text), float(seconds_text))))
    else:
        for result in run(quick="--quick" in sys.argv):
            print(result)
