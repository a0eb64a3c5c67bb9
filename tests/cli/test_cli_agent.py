"""``autotrader agent run`` from the command line: a paper clone on the replay clock, and the
boot failures — each one line and a non-zero exit, with nothing sent to the (fake) exchange."""

from __future__ import annotations

import json
from decimal import Decimal as D

import ccxt
import pytest

from autotrader.core.clock import HOUR_MS, iso_utc
from autotrader.market.view import execution_price
from autotrader.prop.accounts import open_account
from autotrader.prop.models import AccountRules
from autotrader.prop.vocabulary import Venue
from tests.fakes.decisions import (
    CLONE_ID,
    World,
    market_template,
    pipeline_graph,
    replay_start,
    save_pipeline,
    world,
)
from tests.fakes.hyperliquid_exchange import PRIVATE_KEY, WALLET
from tests.fakes.hyperliquid_exchange import FakeHyperliquidExchange as FakeExchange

OTHER_KEY = "0x" + "22" * 32  # signs as a wallet that is neither ours nor an approved agent


@pytest.fixture
def replay(monkeypatch):
    monkeypatch.setenv("AUTOTRADER_NOW", iso_utc(replay_start()))
    monkeypatch.setenv("AUTOTRADER_ARTIFACTS", "memory")
    monkeypatch.setenv("AUTOTRADER_LOG_LEVEL", "ERROR")


@pytest.fixture
def exchange(monkeypatch):
    with FakeExchange(wallet=WALLET) as fake:
        monkeypatch.setenv("AUTOTRADER_HYPERLIQUID_TESTNET_URL", fake.url)
        monkeypatch.setenv("AUTOTRADER_LIVE_WALLET_ADDRESS", WALLET)
        monkeypatch.setenv("AUTOTRADER_LIVE_PRIVATE_KEY", PRIVATE_KEY)
        monkeypatch.setenv("AUTOTRADER_HYPERLIQUID_RATE_LIMIT_MS", "1")
        monkeypatch.setenv("AUTOTRADER_HTTP_RETRIES", "0")
        yield fake


def paper_world(tmp_path, tmp_path_factory) -> World:
    w = world(market_template(tmp_path_factory), tmp_path)
    w.store.close()
    return w


def live_world(tmp_path, tmp_path_factory, exchange) -> World:
    """Clone 42 trading BTC by the rules engine every five minutes, on a testnet account only,
    with the exchange's price at market memory's and our key approved as the wallet's agent."""
    exchange.approve_agent(ccxt.Exchange.eth_get_address_from_private_key(PRIVATE_KEY))
    w = world(market_template(tmp_path_factory), tmp_path, with_account=False)
    save_pipeline(w.store, w.clock, pipeline_graph(symbols=("BTC",)))
    price = execution_price(w.store, "BTC", w.clock.now_ms())
    assert price is not None
    exchange.set_price("BTC", str(price.price))
    open_account(
        w.store,
        w.clock,
        clone_id=CLONE_ID,
        kind="sandbox",
        starting_balance=D(10_000),
        rules=AccountRules(max_position_notional=D(5_000)),
        venue=Venue.HYPERLIQUID_TESTNET,
    )
    w.store.close()
    return w


def agent(cli, w: World, *args: str):
    return cli("agent", "run", "--clone-id", str(CLONE_ID), *args, "--db", str(w.path))


def one_line_error(result, *words: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]


def test_a_paper_clone_runs_on_the_replay_clock_until_its_duration_is_up(
    cli, tmp_path, tmp_path_factory, replay
):
    w = paper_world(tmp_path, tmp_path_factory)
    result = agent(cli, w, "--duration", "2h")
    assert result.exit_code == 0, result.output
    assert "stopped (duration)" in result.stdout
    from tests.fakes.decisions import open_test_store

    store = open_test_store(w.path)
    times = [r["created_at"] for r in store.query("SELECT created_at FROM decision_runs")]
    beats = store.query("SELECT name, last_status FROM worker_heartbeats")
    store.close()
    # The rules pipeline is due every five minutes: the sleeps moved the replay clock, not the
    # wall clock, through the two hours.
    assert min(times) == replay_start()
    assert max(times) - min(times) >= 2 * HOUR_MS - 5 * 60_000
    assert beats == [{"name": "agent", "last_status": "stopped"}]


def test_an_unknown_clone_is_one_line(cli, tmp_path, tmp_path_factory, replay):
    w = paper_world(tmp_path, tmp_path_factory)
    result = cli("agent", "run", "--clone-id", "77", "--max-ticks", "1", "--db", str(w.path))
    one_line_error(result, "clone 77 does not exist")


def test_a_clone_without_an_active_account_is_one_line(cli, tmp_path, tmp_path_factory, replay):
    w = world(market_template(tmp_path_factory), tmp_path, with_account=False)
    w.store.close()
    one_line_error(agent(cli, w, "--max-ticks", "1"), "no active prop account")


def test_bad_credentials_on_a_live_account_stop_the_boot_before_any_order(
    cli, tmp_path, tmp_path_factory, replay, exchange, monkeypatch
):
    w = live_world(tmp_path, tmp_path_factory, exchange)
    monkeypatch.setenv("AUTOTRADER_LIVE_PRIVATE_KEY", OTHER_KEY)
    result = agent(cli, w, "--max-ticks", "3")
    one_line_error(result, "neither the wallet nor an agent it approved")
    assert exchange.actions == []
    assert OTHER_KEY not in result.output


def test_missing_credentials_on_a_live_account_are_one_line(
    cli, tmp_path, tmp_path_factory, replay, exchange, monkeypatch
):
    w = live_world(tmp_path, tmp_path_factory, exchange)
    monkeypatch.delenv("AUTOTRADER_LIVE_PRIVATE_KEY")
    one_line_error(agent(cli, w, "--max-ticks", "1"), "AUTOTRADER_LIVE_PRIVATE_KEY")
    assert exchange.actions == []


def test_a_halt_keeps_the_agent_from_sending_any_order(
    cli, tmp_path, tmp_path_factory, replay, exchange, monkeypatch
):
    w = live_world(tmp_path, tmp_path_factory, exchange)
    monkeypatch.setenv("AUTOTRADER_LIVE_HALT", "true")
    result = agent(cli, w, "--duration", "2h")
    assert result.exit_code == 0, result.output
    assert exchange.actions == []
    assert exchange.placed_orders() == []
    from tests.fakes.decisions import open_test_store

    store = open_test_store(w.path)
    runs = store.scalar("SELECT COUNT(*) FROM decision_runs")
    store.close()
    assert runs == 0  # nothing decided while halted: no model call, no order


def test_the_same_testnet_clone_trades_once_the_halt_is_lifted(
    cli, tmp_path, tmp_path_factory, replay, exchange
):
    w = live_world(tmp_path, tmp_path_factory, exchange)
    result = agent(cli, w, "--duration", "6h")
    assert result.exit_code == 0, result.output
    assert "hyperliquid-testnet: the key is the approved agent autotrader" in result.stdout
    assert exchange.placed_orders(), "the rules engine traded nothing in six hours"
    assert "hyperliquid-testnet: 0 resting order(s) cancelled" in result.stdout


def test_drift_found_at_boot_freezes_the_account_and_the_agent_trades_nothing(
    cli, tmp_path, tmp_path_factory, replay, exchange
):
    w = live_world(tmp_path, tmp_path_factory, exchange)
    exchange.open_position("ETH", "2", "3000")  # opened elsewhere: the store knows nothing of it
    result = agent(cli, w, "--duration", "1h")
    assert result.exit_code == 0, result.output
    assert exchange.placed_orders() == []
    status = json.loads(cli("live", "status", "--json", "--db", str(w.path)).stdout)
    [account] = status["accounts"]
    assert account["status"] == "frozen"
    assert {d["kind"] for d in status["drift"]} == {"UNKNOWN_POSITION"}  # at every reconcile
