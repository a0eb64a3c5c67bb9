"""Each shipped registry entry reaches its server as the registry says: the API model name, the
API flavour (``/v1/responses`` or ``/v1/chat/completions``) and the base URL its setting names.
The latency recorded is the HTTP call's, not the SDK's import or client construction."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autotrader.clones.management import add_model
from autotrader.clones.migrations import SEED_MODELS
from autotrader.clones.vocabulary import BaseUrlSetting
from autotrader.core.settings import load_settings
from autotrader.decisions.factory import model_client
from autotrader.prop.models import TradeIntent
from tests.fakes.openai_server import FakeOpenAI

PATHS = {"responses": "/v1/responses", "chat": "/v1/chat/completions"}
DEAD = "http://127.0.0.1:9/v1"  # nothing listens: a call routed here fails
BASE_URL_SETTINGS = tuple(BaseUrlSetting)
SEEDED_SETTING = {"ollama": "OLLAMA_BASE_URL", "vllm": "VLLM_BASE_URL"}


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        server.reply_json({"action": "HOLD", "symbol": "BTC"})
        yield server


def ask(client, model: str):
    return client.complete(
        role="trader",
        model=model,
        system="Output JSON only per schema.",
        prompt="BTC at 100000. Decide.",
        schema=TradeIntent,
        schema_name="TradeIntent",
    )


def route_only_to(monkeypatch, setting: str, url: str) -> None:
    for name in BASE_URL_SETTINGS:
        monkeypatch.setenv(name, url if name == setting else DEAD)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-routing")
    monkeypatch.setenv("AUTOTRADER_LLM_CACHE", "off")
    monkeypatch.setenv("AUTOTRADER_LLM_RETRIES", "0")


@pytest.mark.parametrize("entry", SEED_MODELS, ids=[m[0] for m in SEED_MODELS])
def test_a_shipped_model_reaches_its_own_server_by_its_api_name_over_its_api(
    entry, fake, store, clock, monkeypatch
):
    name, provider, _setting, api_model, api = entry[:5]
    route_only_to(monkeypatch, SEEDED_SETTING.get(provider, "OPENAI_BASE_URL"), fake.url)
    client = model_client(load_settings(), store, clock)
    try:
        result = ask(client, name)
    finally:
        client.close()

    assert result.ok, result.error
    [request] = fake.requests
    assert request["path"] == PATHS[api]
    assert request["body"]["model"] == api_model


@pytest.mark.parametrize("setting", list(BaseUrlSetting))
def test_a_model_added_with_a_base_url_setting_reaches_the_server_that_setting_names(
    setting, fake, store, clock, monkeypatch
):
    add_model(store, clock, name="my-local", provider="local", api_model="mine:7b", api="chat",
              strength=1, input_usd_per_mtok=Decimal(0), output_usd_per_mtok=Decimal(0),
              base_url_setting=setting)  # fmt: skip
    route_only_to(monkeypatch, setting, fake.url)
    client = model_client(load_settings(), store, clock)
    try:
        result = ask(client, "my-local")
    finally:
        client.close()

    assert result.ok, result.error
    assert [r["body"]["model"] for r in fake.requests] == ["mine:7b"]


def test_a_local_model_falls_back_to_openai_base_url_when_its_own_is_unset(
    fake, store, clock, monkeypatch
):
    monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
    monkeypatch.setenv("AUTOTRADER_LLM_RETRIES", "0")
    client = model_client(load_settings(), store, clock)
    try:
        result = ask(client, "llama3.1-8b")
    finally:
        client.close()

    assert result.ok, result.error
    assert [r["path"] for r in fake.requests] == ["/v1/chat/completions"]


def test_the_llm_api_setting_forces_every_call_onto_one_api(fake, store, clock, monkeypatch):
    route_only_to(monkeypatch, "OPENAI_BASE_URL", fake.url)
    monkeypatch.setenv("AUTOTRADER_LLM_API", "chat")
    client = model_client(load_settings(), store, clock)
    try:
        ask(client, "gpt-5-mini")
    finally:
        client.close()

    assert [r["path"] for r in fake.requests] == ["/v1/chat/completions"]


def test_latency_is_the_call_not_the_client_construction(fake, store, clock, monkeypatch):
    import autotrader.llm.client as client_module

    route_only_to(monkeypatch, "OPENAI_BASE_URL", fake.url)
    client = model_client(load_settings(), store, clock)
    real_client = client._client
    slow_construction = 0.5

    def slowly_built(*args):
        client_module.time.sleep(slow_construction)  # as an SDK import on a cold process
        return real_client(*args)

    monkeypatch.setattr(client, "_client", slowly_built)
    try:
        result = ask(client, "gpt-5-mini")
    finally:
        client.close()

    assert result.ok, result.error
    assert result.latency_ms < slow_construction * 1000


@pytest.mark.parametrize(
    ("role", "temperature", "cap"),
    [("planner", 0.5, 200), ("trader", 0.5, 200), ("judge", 0.5, 120)],
)
def test_each_committee_role_samples_as_the_specs_say(
    role, temperature, cap, fake, store, clock, monkeypatch
):
    route_only_to(monkeypatch, "OPENAI_BASE_URL", fake.url)
    client = model_client(load_settings(), store, clock)
    try:
        client.complete(role=role, model="gpt-4.1-mini", system="JSON only.", prompt="Decide.",
                        schema=TradeIntent, schema_name="TradeIntent")  # fmt: skip
    finally:
        client.close()

    [request] = fake.requests
    assert (request["body"]["temperature"], request["body"]["max_output_tokens"]) == (
        temperature,
        cap,
    )


def test_a_role_sampling_setting_is_sent_and_a_reasoning_model_gets_neither(
    fake, store, clock, monkeypatch
):
    route_only_to(monkeypatch, "OPENAI_BASE_URL", fake.url)
    monkeypatch.setenv("AUTOTRADER_LLM_TEMPERATURE_TRADER", "0.9")
    monkeypatch.setenv("AUTOTRADER_LLM_MAX_OUTPUT_TOKENS_TRADER", "150")
    fake.reply_json({"action": "HOLD", "symbol": "BTC"})
    client = model_client(load_settings(), store, clock)
    try:
        ask(client, "gpt-4.1-mini")
        ask(client, "gpt-5-mini")
    finally:
        client.close()

    plain, reasoning = (r["body"] for r in fake.requests)
    assert (plain["temperature"], plain["max_output_tokens"]) == (0.9, 150)
    assert "temperature" not in reasoning
    assert reasoning["max_output_tokens"] == 800  # the general cap: reasoning spends tokens
