"""A simulated day of ``agent run --duration 1d`` (the command, in-process) on the fake
Hyperliquid testnet: the replay clock (``AUTOTRADER_NOW``) over the last 24 h of the bundled
bars, the committee engine against the fake OpenAI server (real openai SDK), orders through
real ccxt to the loopback exchange, whose price follows market memory as the replay clock moves
(so the stops and targets resting there fire by themselves).

The Planner is scripted to trade and to vary its wake-up; the Trader opens a position (with a
stop and a target) when flat and closes it when not; the Judge approves. What is asserted is
what the fake exchange received, then the store: enough trades, never a client order id twice,
no crash (exit 0, no failed step), wake-ups that vary, decision memory that learned, a ledger
that verifies, no drift.
"""

from __future__ import annotations

import json
import re
import threading
from decimal import Decimal as D
from itertools import cycle, pairwise

import ccxt
import pytest

from autotrader.core.clock import DAY_MS, iso_utc, parse_iso_utc
from autotrader.decisions import repo as decisions_repo
from autotrader.market.view import execution_price
from autotrader.prop.accounts import open_account
from autotrader.prop.models import AccountRules
from autotrader.prop.vocabulary import Venue
from tests.fakes.decisions import (
    CLONE_ID,
    market_template,
    open_test_store,
    pipeline_graph,
    replay_start,
    save_pipeline,
    world,
)
from tests.fakes.hyperliquid_exchange import PRIVATE_KEY, WALLET
from tests.fakes.hyperliquid_exchange import FakeHyperliquidExchange as FakeExchange
from tests.fakes.openai_server import FakeOpenAI, Reply, prompt_of, schema_name_of

pytestmark = pytest.mark.slow  # a simulated day: about a hundred model-backed steps

WAKE_UPS = (600, 1500, 900, 2400, 1200, 300)  # seconds: what the Planner asks for, in turn
POLICIES = ("trend_macd", "rsi_mean_reversion")


class ScriptedCommittee:
    """Answers each committee role. Steps run one at a time (one asset), so the Planner's view
    of the position holds for the Trader that follows it. When the Trader is asked, the
    exchange's price moves to market memory's as of the time its context states (the replay
    clock's), firing the stops and targets it crosses, before any order of that step."""

    def __init__(self, exchange: FakeExchange, store) -> None:
        self.exchange, self.store = exchange, store
        self.wake_ups = cycle(WAKE_UPS)
        self.holding = False
        self.opened = 0
        self.lock = threading.Lock()

    def __call__(self, body: dict) -> Reply:
        with self.lock:
            role = schema_name_of(body)
            if role == "Plan":
                return Reply.json(self.plan(prompt_of(body)))
            if role == "Proposal":
                return Reply.json(self.proposal(prompt_of(body)))
            return Reply.json({"decision": "APPROVE", "violations": [], "notes": "within limits"})

    def plan(self, prompt: str) -> dict:
        data = json.loads(prompt.split("DATA (JSON, not instructions):\n", 1)[1].splitlines()[0])
        self.holding = data["position"] is not None
        return {
            "mode": "TRADE",
            "explore_ratio": 0.5,
            "next_wakeup_secs": next(self.wake_ups),
            "strategies": [{"policy_id": p, "params": []} for p in POLICIES],
        }

    def proposal(self, prompt: str) -> dict:
        as_of = parse_iso_utc(re.search(r"Context as of (\S+)\.", prompt)[1])
        latest = execution_price(self.store, "BTC", as_of)
        assert latest is not None
        price = latest.price
        self.exchange.set_price("BTC", str(price))
        policy = re.search(r"run policy '([^']+)'", prompt)[1]
        if self.holding:
            return {"action": "CLOSE", "symbol": "BTC", "policy_id": policy}
        self.opened += 1
        long = self.opened % 2 == 1
        away = price * D("0.006") * (1 if long else -1)  # stop and target 0.6 % away
        return {
            "action": "OPEN",
            "symbol": "BTC",
            "side": "LONG" if long else "SHORT",
            "qty": "0.01",
            "leverage": 2,
            "exit_plan": {"stop": f"{price - away:.0f}", "target": f"{price + away:.0f}"},
            "confidence": 0.7,
            "policy_id": policy,
            "hypothesis": "scripted experiment",
        }


@pytest.fixture
def fakes(monkeypatch):
    with FakeOpenAI() as model, FakeExchange(wallet=WALLET) as exchange:
        exchange.approve_agent(ccxt.Exchange.eth_get_address_from_private_key(PRIVATE_KEY))
        env = {
            "OPENAI_BASE_URL": model.url,
            "OPENAI_API_KEY": "sk-test-agent",
            "AUTOTRADER_LLM_API": "chat",
            "AUTOTRADER_LLM_CACHE": "off",
            "AUTOTRADER_LLM_RETRIES": "0",
            "AUTOTRADER_ARTIFACTS": "memory",
            "AUTOTRADER_LOG_LEVEL": "ERROR",
            "AUTOTRADER_HYPERLIQUID_TESTNET_URL": exchange.url,
            "AUTOTRADER_LIVE_WALLET_ADDRESS": WALLET,
            "AUTOTRADER_LIVE_PRIVATE_KEY": PRIVATE_KEY,
            "AUTOTRADER_HYPERLIQUID_RATE_LIMIT_MS": "1",
            "AUTOTRADER_AGENT_RECONCILE_INTERVAL_S": "1800",
            "AUTOTRADER_NOW": iso_utc(replay_start()),  # the replay clock: the day's start
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield model, exchange


def test_a_simulated_day_on_the_testnet_trades_learns_and_verifies(
    tmp_path, tmp_path_factory, fakes, cli
):
    model, exchange = fakes
    w = world(market_template(tmp_path_factory), tmp_path, with_account=False)
    graph = pipeline_graph(engine="committee", symbols=("BTC",), cadence_s=3600)
    save_pipeline(w.store, w.clock, graph)
    account = open_account(
        w.store,
        w.clock,
        clone_id=CLONE_ID,
        kind="sandbox",
        starting_balance=D(10_000),
        rules=AccountRules(max_position_notional=D(5_000), max_leverage=5),
        venue=Venue.HYPERLIQUID_TESTNET,
    )
    w.store.close()
    reader = open_test_store(w.path)
    model.responder = ScriptedCommittee(exchange, reader)

    day = cli("agent", "run", "--clone-id", str(CLONE_ID), "--duration", "1d", "--db", str(w.path))

    assert day.exit_code == 0, day.output
    assert "agent: stopped (duration) after" in day.stdout
    assert ", 0 failed" in day.stdout
    # What reached the exchange: at least ten filled trades, every client order id once.
    sent = exchange.placed_orders()
    traded = {f["oid"] for f in exchange.fills if not exchange.orders[f["oid"]].trigger_px}
    assert len(traded) >= 10
    cloids = [o.cloid for o in sent]
    assert None not in cloids
    assert len(set(cloids)) == len(cloids)
    assert any(o.trigger_px is not None for o in sent), "no stop or target reached the exchange"
    # The Planner's wake-ups set the pace, through the whole day of the replay clock.
    times = [
        r["created_at"] for r in reader.query("SELECT created_at FROM decision_runs ORDER BY id")
    ]
    assert {b - a for a, b in pairwise(times)} == {s * 1000 for s in WAKE_UPS}
    assert times[-1] - times[0] > DAY_MS - 2400_000
    assert decisions_repo.clone_experiments(reader, CLONE_ID)
    # A stop or target the exchange triggered was booked from its fills at reconciliation.
    closes = reader.query("SELECT close_trigger FROM positions WHERE status = 'CLOSED'")
    assert {"STOP", "TARGET"} & {p["close_trigger"] for p in closes}
    reader.close()

    memory = cli("decisions", "memory", "--clone-id", str(CLONE_ID), "--json", "--db", str(w.path))
    assert memory.exit_code == 0, memory.output
    [learned] = json.loads(memory.stdout)
    assert sum(p["trades"] for p in learned["posteriors"]) >= 5
    verify = cli("ledger", "verify", "--db", str(w.path))
    assert verify.exit_code == 0, verify.output
    status = cli("live", "status", "--account", str(account), "--json", "--db", str(w.path))
    assert json.loads(status.stdout)["drift"] == []
