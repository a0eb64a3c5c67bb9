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


def a_testnet_account(cli, db: str) -> int:
    return json.loads(run(cli, db, *CREATE, "--venue", "hyperliquid-testnet").stdout)["id"]


def buy_btc(cli, db: str, account: int, key: str) -> None:
    result = run(
        cli, db, "prop", "order", "--account", str(account), "--symbol", "BTC", "--side", "long",
        "--qty", "0.001", "--idempotency-key", key,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr


def test_check_refuses_a_key_the_wallet_never_approved(cli, db, exchange):
    account = a_testnet_account(cli, db)
    one_line_error(run(cli, db, "live", "check", "--account", str(account)), "approved")
    assert exchange.actions == []


def test_check_reads_balance_and_positions_of_an_approved_agent(cli, db, exchange):
    import ccxt

    exchange.approve_agent(ccxt.Exchange.eth_get_address_from_private_key(PRIVATE_KEY))
    account = a_testnet_account(cli, db)
    result = run(cli, db, "live", "check", "--account", str(account), "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert "approved agent" in data["signer"]
    assert D(data["account_value"]) == D(10_000)
    assert exchange.actions == []  # nothing traded, nothing signed


def test_config_show_masks_the_credentials(cli, db, exchange):
    result = cli("config", "show")
    assert result.exit_code == 0
    assert PRIVATE_KEY not in result.output
    assert WALLET not in result.output


def test_an_unknown_position_on_the_exchange_freezes_the_account(cli, db, exchange):
    account = a_testnet_account(cli, db)
    buy_btc(cli, db, account, "before-drift")
    exchange.open_position("ETH", "-0.2", "3000")  # opened by hand on the exchange's UI
    result = run(cli, db, "live", "reconcile")
    assert result.exit_code == 0, result.stderr
    assert "1 drift" in result.stdout
    status = json.loads(run(cli, db, "live", "status", "--json").stdout)
    [drift] = status["drift"]
    assert (drift["kind"], drift["symbol"], drift["froze"]) == ("UNKNOWN_POSITION", "ETH", 1)
    [shown] = status["accounts"]
    assert shown["status"] == "frozen"
    human = run(cli, db, "live", "status")
    assert human.exit_code == 0
    assert "UNKNOWN_POSITION" in human.stdout
    refused = run(
        cli, db, "prop", "order", "--account", str(account), "--symbol", "BTC", "--side", "long",
        "--qty", "0.001",
    )  # fmt: skip
    assert refused.exit_code == 1
    assert len(exchange.placed_orders()) == 1  # nothing traded on top of unknown state


def test_a_matching_exchange_is_no_drift(cli, db, exchange):
    account = a_testnet_account(cli, db)
    buy_btc(cli, db, account, "in-sync")
    assert "0 drift" in run(cli, db, "live", "reconcile").stdout
    status = json.loads(run(cli, db, "live", "status", "--json").stdout)
    assert status["accounts"][0]["status"] == "active"


def test_halt_writes_the_halt_file_and_flatten_closes_on_the_exchange(cli, db, exchange, tmp_path):
    account = a_testnet_account(cli, db)
    buy_btc(cli, db, account, "to-flatten")
    result = run(cli, db, "live", "halt", "--flatten")
    assert result.exit_code == 0, result.stderr
    assert exchange.position("BTC") == 0
    assert exchange.placed_orders()[-1].reduce_only
    positions = json.loads(run(cli, db, "prop", "positions", "--json").stdout)
    assert [p for p in positions if p["status"] == "OPEN"] == []
    assert json.loads(run(cli, db, "live", "status", "--json").stdout)["halted"] is True
    sent = len(exchange.actions)
    blocked = run(
        cli, db, "prop", "order", "--account", str(account), "--symbol", "BTC", "--side", "long",
        "--qty", "0.001",
    )  # fmt: skip
    assert blocked.exit_code == 1
    assert "halted" in blocked.output
    assert len(exchange.actions) == sent  # the halt stops it before the exchange
    assert run(cli, db, "live", "resume").exit_code == 0
    assert json.loads(run(cli, db, "live", "status", "--json").stdout)["halted"] is False
    assert run(cli, db, "ledger", "verify").exit_code == 0


def test_prop_admin_close_all_refuses_a_live_account(cli, db, exchange):
    account = a_testnet_account(cli, db)
    buy_btc(cli, db, account, "admin")
    result = run(
        cli, db, "prop", "admin", "close-all", "--account", str(account), "--reason", "test"
    )
    one_line_error(result, "live halt")
    assert exchange.position("BTC") == D("0.001")


def test_a_live_order_without_credentials_is_one_clear_error(cli, db, exchange, monkeypatch):
    monkeypatch.delenv("AUTOTRADER_LIVE_PRIVATE_KEY")
    account = a_testnet_account(cli, db)
    result = run(
        cli, db, "prop", "order", "--account", str(account), "--symbol", "BTC", "--side", "long",
        "--qty", "0.001",
    )  # fmt: skip
    one_line_error(result, "AUTOTRADER_LIVE_PRIVATE_KEY")
    assert exchange.actions == []
