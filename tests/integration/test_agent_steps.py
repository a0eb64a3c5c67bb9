"""Between two steps of the agent the market moves on the exchange: a stop resting there fires
while the agent sleeps. The next step must decide on the position as the exchange left it —
not on the store's stale copy — even when no full reconciliation is due yet."""

from __future__ import annotations

from decimal import Decimal as D

import ccxt
import pytest

from autotrader.agent.run import run_agent
from autotrader.core.clock import SimulatedClock
from autotrader.core.settings import load_settings
from autotrader.live.factory import trader
from autotrader.live.reconcile import reconcile
from autotrader.market.view import execution_price
from autotrader.prop import repo as prop_repo
from autotrader.prop.accounts import open_account
from autotrader.prop.factory import precision
from autotrader.prop.models import AccountRules
from autotrader.prop.vocabulary import Venue
from tests.fakes.decisions import CLONE_ID, market_template, pipeline_graph, save_pipeline, world
from tests.fakes.hyperliquid_exchange import PRIVATE_KEY, WALLET
from tests.fakes.hyperliquid_exchange import FakeHyperliquidExchange as FakeExchange
from tests.fakes.openai_server import FakeOpenAI, Reply, schema_name_of


class MarketClock(SimulatedClock):
    """A replay clock under which the market moves while time passes: each advance (the
    agent's sleep) sets the exchange's price to ``prices``' next one."""

    def __init__(self, start_ms: int, exchange: FakeExchange, prices: list[str]) -> None:
        super().__init__(start_ms)
        self.exchange, self.prices = exchange, list(prices)

    def advance(self, *, ms: int = 0, seconds: float = 0) -> int:
        now = super().advance(ms=ms, seconds=seconds)
        if self.prices:
            self.exchange.set_price("BTC", self.prices.pop(0))
        return now


def always_buy(price: D):
    """A committee that adds 0.01 BTC (stop 1 % below) at every step, every 10 minutes."""
    stop = f"{price * D('0.99'):.0f}"

    def answer(body: dict) -> Reply:
        role = schema_name_of(body)
        if role == "Plan":
            return Reply.json(
                {"mode": "TRADE", "explore_ratio": 0, "next_wakeup_secs": 600,
                 "strategies": [{"policy_id": "trend_macd", "params": []}]}
            )  # fmt: skip
        if role == "Proposal":
            return Reply.json(
                {"action": "OPEN", "symbol": "BTC", "side": "LONG", "qty": "0.01",
                 "leverage": 2, "exit_plan": {"stop": stop}, "policy_id": "trend_macd"}
            )  # fmt: skip
        return Reply.json({"decision": "APPROVE", "violations": [], "notes": ""})

    return answer


@pytest.fixture
def fakes(monkeypatch):
    with FakeOpenAI() as model, FakeExchange(wallet=WALLET) as exchange:
        exchange.approve_agent(ccxt.Exchange.eth_get_address_from_private_key(PRIVATE_KEY))
        env = {
            "OPENAI_BASE_URL": model.url,
            "OPENAI_API_KEY": "sk-test-agent",
            "AUTOTRADER_LLM_API": "chat",
            "AUTOTRADER_LLM_CACHE": "off",
            "AUTOTRADER_ARTIFACTS": "memory",
            "AUTOTRADER_HYPERLIQUID_TESTNET_URL": exchange.url,
            "AUTOTRADER_LIVE_WALLET_ADDRESS": WALLET,
            "AUTOTRADER_LIVE_PRIVATE_KEY": PRIVATE_KEY,
            "AUTOTRADER_HYPERLIQUID_RATE_LIMIT_MS": "1",
            "AUTOTRADER_AGENT_RECONCILE_INTERVAL_S": "3600",  # no full reconciliation due
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield model, exchange


def test_a_stop_fired_while_the_agent_slept_is_booked_before_its_next_step_decides(
    tmp_path, tmp_path_factory, fakes
):
    model, exchange = fakes
    w = world(market_template(tmp_path_factory), tmp_path, with_account=False)
    save_pipeline(w.store, w.clock, pipeline_graph(engine="committee", symbols=("BTC",)))
    account = open_account(
        w.store, w.clock, clone_id=CLONE_ID, kind="sandbox", starting_balance=D(10_000),
        rules=AccountRules(max_position_notional=D(5_000)), venue=Venue.HYPERLIQUID_TESTNET,
    )  # fmt: skip
    price = execution_price(w.store, "BTC", w.clock.now_ms()).price
    exchange.set_price("BTC", str(price))
    model.responder = always_buy(price)
    # While the agent sleeps after its first step, BTC falls 2 %: through the stop, which the
    # exchange fills; by the second step it is back where it was.
    clock = MarketClock(w.clock.now_ms(), exchange, [str(price * D("0.98")), str(price)])

    run_agent(load_settings(), w.store, clock, CLONE_ID, max_ticks=2)

    assert exchange.position("BTC") == D("0.01")  # the stop closed the first, the step opened one
    [held] = prop_repo.open_positions(w.store, account)
    assert held["qty"] == D("0.01")
    closed = w.store.query("SELECT close_trigger FROM positions WHERE status = 'CLOSED'")
    assert closed == [{"close_trigger": "STOP"}]
    venue = Venue.HYPERLIQUID_TESTNET
    check = reconcile(
        w.store, clock, venue, trader(load_settings(), venue), precision(w.store, clock)
    )
    assert check.drifts == []
    w.store.close()
