"""Live accounts from the command line: ``prop accounts create --venue``, ``prop order`` on the
fake Hyperliquid testnet (real ccxt, loopback), and the credentials kept out of everything."""

from __future__ import annotations

import json
import shlex
from decimal import Decimal as D
from pathlib import Path

import pytest

from autotrader.bootstrap import open_store
from autotrader.clones.management import create_clone
from autotrader.core.clock import SimulatedClock, iso_utc
from autotrader.core.settings import load_settings
from tests.fakes.hyperliquid_exchange import PRIVATE_KEY, WALLET
from tests.fakes.hyperliquid_exchange import FakeHyperliquidExchange as FakeExchange
from tests.fakes.market import MINUTE, seed_prices

NOW = 1_700_000_040_000
CREATE = shlex.split("prop accounts create --clone-id 42 --balance 1000 --json")


@pytest.fixture
def exchange(monkeypatch: pytest.MonkeyPatch):
    with FakeExchange(wallet=WALLET) as fake:
        fake.set_price("BTC", "60000")
        monkeypatch.setenv("AUTOTRADER_HYPERLIQUID_TESTNET_URL", fake.url)
        monkeypatch.setenv("AUTOTRADER_HYPERLIQUID_URL", fake.url)
        monkeypatch.setenv("AUTOTRADER_LIVE_WALLET_ADDRESS", WALLET)
        monkeypatch.setenv("AUTOTRADER_LIVE_PRIVATE_KEY", PRIVATE_KEY)
        monkeypatch.setenv("AUTOTRADER_HYPERLIQUID_RATE_LIMIT_MS", "1")
        yield fake


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AUTOTRADER_NOW", iso_utc(NOW))
    path = tmp_path / "live.db"
    store = open_store(load_settings(), path=path)
    clock = SimulatedClock(NOW)
    seed_prices(store, clock, "BTC", [60_000.0], NOW - MINUTE)
    create_clone(store, clock, name="momentum", clone_id=42)
    store.close()
    return str(path)


def run(cli, db: str, *args: str):
    return cli(*args, "--db", db)


def one_line_error(result, *words: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output + result.stderr
    for word in words:
        assert word in lines[0]


def test_paper_stays_the_default_venue(cli, db):
    data = json.loads(run(cli, db, *CREATE).stdout)
    assert (data["venue"], data["deposit_cap"]) == ("paper", None)


def test_refuses_a_real_venue_account_without_a_cap_and_opens_none(cli, db):
    one_line_error(run(cli, db, *CREATE, "--venue", "hyperliquid"), "needs a deposit cap")
    listed = json.loads(run(cli, db, "prop", "accounts", "list", "--json").stdout)
    assert listed == []


def test_refuses_an_unknown_venue(cli, db):
    one_line_error(run(cli, db, *CREATE, "--venue", "binance"), "--venue", "binance")


def test_a_real_account_takes_the_cap_setting_when_no_cap_is_given(cli, db, monkeypatch):
    monkeypatch.setenv("AUTOTRADER_DEPOSIT_CAP_USDC", "250")
    result = run(cli, db, *CREATE, "--venue", "hyperliquid")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["venue"], data["deposit_cap"]) == ("hyperliquid", "250")


def test_a_testnet_order_reaches_the_exchange_and_the_key_reaches_nothing(cli, db, exchange):
    account = json.loads(run(cli, db, *CREATE, "--venue", "hyperliquid-testnet").stdout)["id"]
    result = run(
        cli, db, "prop", "order", "--account", str(account), "--symbol", "BTC", "--side", "long",
        "--qty", "0.001", "--idempotency-key", "manual-1", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    [order] = exchange.placed_orders()
    assert order.orig_sz == D("0.001")
    assert PRIVATE_KEY not in result.output + result.stderr
    stored = b"".join(p.read_bytes() for p in Path(db).parent.glob("live.db*"))
    assert PRIVATE_KEY.removeprefix("0x").encode() not in stored


def test_a_real_account_order_past_the_cap_never_reaches_the_exchange(cli, db, exchange):
    created = run(cli, db, *CREATE, "--venue", "hyperliquid", "--deposit-cap", "50")
    account = json.loads(created.stdout)["id"]
    result = run(
        cli, db, "prop", "order", "--account", str(account), "--symbol", "BTC", "--side", "long",
        "--qty", "0.001",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "deposit cap" in result.output
    assert exchange.actions == []
