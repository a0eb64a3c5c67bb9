"""A hostile model on a real-money account: however large the sizes it asks for, what reaches
the exchange stays within the deposit cap. Asserted on the fake exchange's own orders and
position, not on our rows: the llm engine, the decision runner, the gates and the live venue
all run for real (the openai SDK against FakeOpenAI, ccxt against the fake Hyperliquid)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from autotrader.market.view import execution_price
from autotrader.prop.accounts import open_account
from autotrader.prop.models import AccountRules
from autotrader.prop.vocabulary import Venue
from tests.fakes.decisions import (
    CLONE_ID,
    make_runner,
    market_template,
    pipeline_graph,
    save_pipeline,
    world,
)
from tests.fakes.hyperliquid_exchange import PRIVATE_KEY, WALLET
from tests.fakes.hyperliquid_exchange import FakeHyperliquidExchange as FakeExchange
from tests.fakes.openai_server import FakeOpenAI

CAP = D(500)
HOSTILE_SIZES = ["5", "0.5", "0.05", "0.0099", "0.007", "0.007", "0.0081"]  # one fits


@pytest.fixture
def fakes(monkeypatch):
    with FakeOpenAI() as model, FakeExchange(wallet=WALLET) as exchange:
        monkeypatch.setenv("OPENAI_BASE_URL", model.url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-hostile")
        monkeypatch.setenv("AUTOTRADER_LLM_API", "chat")
        monkeypatch.setenv("AUTOTRADER_LLM_CACHE", "off")
        monkeypatch.setenv("AUTOTRADER_LLM_RETRIES", "0")
        monkeypatch.setenv("AUTOTRADER_ARTIFACTS", "memory")
        monkeypatch.setenv("AUTOTRADER_HYPERLIQUID_URL", exchange.url)
        monkeypatch.setenv("AUTOTRADER_LIVE_WALLET_ADDRESS", WALLET)
        monkeypatch.setenv("AUTOTRADER_LIVE_PRIVATE_KEY", PRIVATE_KEY)
        monkeypatch.setenv("AUTOTRADER_HYPERLIQUID_RATE_LIMIT_MS", "1")
        yield model, exchange


def without_the_cap_gate(monkeypatch) -> None:
    """A gate change that drops the deposit cap from the OPEN pipeline."""
    from autotrader.prop import gates
    from autotrader.prop.models import Action

    opening = tuple(g for g in gates._PIPELINES[Action.OPEN] if g.__name__ != "_deposit_cap")
    monkeypatch.setitem(gates._PIPELINES, Action.OPEN, opening)


@pytest.mark.parametrize("gate", ["with the gate", "with the gate removed"])
def test_a_hostile_model_never_gets_an_order_past_the_deposit_cap(
    tmp_path, tmp_path_factory, fakes, monkeypatch, gate
):
    model, exchange = fakes
    if gate == "with the gate removed":
        without_the_cap_gate(monkeypatch)
    w = world(market_template(tmp_path_factory), tmp_path, with_account=False)
    save_pipeline(w.store, w.clock, pipeline_graph(engine="llm", symbols=("BTC",)))
    price = execution_price(w.store, "BTC", w.clock.now_ms())
    assert price is not None
    exchange.set_price("BTC", str(price.price))
    open_account(
        w.store,
        w.clock,
        clone_id=CLONE_ID,
        kind="sandbox",
        starting_balance=D(10_000),
        rules=AccountRules(max_position_notional=D(1_000_000), max_leverage=10),
        venue=Venue.HYPERLIQUID,
        deposit_cap=CAP,
    )
    for qty in HOSTILE_SIZES:
        model.reply_json(
            {
                "action": "OPEN",
                "symbol": "BTC",
                "side": "LONG",
                "qty": qty,
                "leverage": 10,
                "policy_id": "all_in",
                "hypothesis": "size is conviction",
            }
        )
        make_runner(w.store, w.clock).tick(clone_id=CLONE_ID, force=True, only_scheduled=True)

    sent = exchange.placed_orders()
    assert [o.orig_sz for o in sent] == [D("0.007")]  # the one that fits, once
    assert sum(o.orig_sz * o.limit_px for o in sent) <= CAP
    assert abs(exchange.position("BTC")) * price.price <= CAP
    codes = [r["reject_code"] for r in w.store.query("SELECT reject_code FROM prop_intents")]
    assert codes.count(None) == 1
    assert codes.count("deposit_cap_exceeded") >= len(HOSTILE_SIZES) - 2  # qty 5 may fail margin
    w.store.close()
