"""LLM strategies in ``autotrader backtest``: through the CLI and the real openai SDK against the
loopback FakeOpenAI. Answers come from the response cache; a miss holds unless new calls are
allowed, and new calls spend a budget reserved before each call that fails closed."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from autotrader.backtest.repo import get_run
from autotrader.clones.management import add_model, set_model
from autotrader.core.clock import SimulatedClock, iso_utc
from tests.fakes.decisions import (
    CLONE_ID,
    HOUR,
    copy_store,
    market_template,
    open_test_store,
    replay_start,
)
from tests.fakes.openai_server import FakeOpenAI, Reply, prompt_of

FROM = iso_utc(replay_start())
TO = iso_utc(replay_start() + 3 * HOUR)
MODEL = "replay-test-model"
OUTPUT_USD_PER_MTOK = Decimal(10)  # input is free: every call's worst case is its answer cap
ANSWER_CAP = 200  # tokens; the fake reports every answer at the cap, so a call costs its reserve
CALL_COST = ANSWER_CAP * OUTPUT_USD_PER_MTOK / 1_000_000  # $0.002
_DECIDED = re.compile(r"You decide one action for (\S+) on")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return market_template(tmp_path_factory)


@pytest.fixture
def source(template, tmp_path) -> Path:
    """The bundled market with clone 42 on a model the registry prices by output only."""
    path = copy_store(template, tmp_path / "market.db")
    store = open_test_store(path)
    clock = SimulatedClock(replay_start())
    add_model(store, clock, name=MODEL, provider="openai", api_model=MODEL, api="responses",
              strength=1, input_usd_per_mtok=Decimal(0),
              output_usd_per_mtok=OUTPUT_USD_PER_MTOK)  # fmt: skip
    set_model(store, clock, CLONE_ID, MODEL)
    store.close()
    return path


def trader(body: dict) -> Reply:
    """Opens the decided symbol when flat, closes it when a position is open."""
    prompt = prompt_of(body)
    symbol = _DECIDED.search(prompt).group(1)
    if "## Open positions\nnone" in prompt:
        intent = {"action": "OPEN", "symbol": symbol, "side": "LONG", "notional_usd": "500"}
    else:
        intent = {"action": "CLOSE", "symbol": symbol}
    return Reply.json(intent, input_tokens=900, output_tokens=ANSWER_CAP)


@pytest.fixture
def fake(monkeypatch):
    with FakeOpenAI() as server:
        server.responder = trader
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-backtest")
        monkeypatch.setenv("AUTOTRADER_LLM_MAX_OUTPUT_TOKENS_TRADER", str(ANSWER_CAP))
        monkeypatch.setenv("AUTOTRADER_LLM_RETRIES", "0")
        yield server


def backtest(cli, source: Path, out: Path, *args: str) -> dict:
    result = cli("backtest", "--db", str(source), "--out", str(out), "--clone-id", str(CLONE_ID),
                 "--from", FROM, "--to", TO, "--engine", "llm", "--json", *args)  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_cache_only_replay_makes_no_http_call_and_holds_every_miss(cli, source, fake, tmp_path):
    report = backtest(cli, source, tmp_path / "runs")
    assert fake.requests == []
    models = report["models"]
    assert models["calls"] == 0
    assert models["cache_hits"] == 0
    assert models["held"]["cache_miss"] > 0
    assert report["clones"][0]["trades"] == 0
    refused = open_test_store(Path(report["store"])).query("SELECT status, error FROM invocations")
    assert len(refused) == models["held"]["cache_miss"]
    assert {r["status"] for r in refused} == {"failed"}
    assert all(r["error"].startswith("cache_miss") for r in refused)


def test_a_rerun_from_the_cache_costs_nothing_and_books_the_same_ledger(
    cli, source, fake, tmp_path
):
    paid = backtest(cli, source, tmp_path / "a", "--allow-model-calls", "--budget-usd", "100")
    sent = len(fake.requests)
    assert paid["models"]["calls"] == sent > 0
    assert paid["clones"][0]["trades"] > 0

    replayed = backtest(cli, source, tmp_path / "b")
    assert len(fake.requests) == sent  # not one HTTP request more
    assert replayed["models"]["calls"] == 0
    assert replayed["models"]["cache_hits"] == sent
    assert replayed["models"]["held"] == {}
    assert replayed["models"]["spent_usd"] == "0"
    assert replayed["ledger_sha256"] == paid["ledger_sha256"]
    assert replayed["clones"] == paid["clones"]


def test_the_budget_is_reserved_before_each_call_and_fails_closed(cli, source, fake, tmp_path):
    budget = 3 * CALL_COST
    report = backtest(cli, source, tmp_path / "runs", "--allow-model-calls",
                      "--budget-usd", str(budget))  # fmt: skip
    assert len(fake.requests) == 3  # the fourth call could not be covered: never sent
    models = report["models"]
    assert models["calls"] == 3
    assert Decimal(models["spent_usd"]) == budget
    assert models["budget_usd"] == str(budget)
    assert models["held"]["budget_exhausted"] > 0
    store = open_test_store(Path(report["store"]))
    held = store.query("SELECT error FROM invocations WHERE status = 'failed'")
    assert len(held) == models["held"]["budget_exhausted"]
    assert all(r["error"].startswith("budget_exhausted") for r in held)
    assert get_run(store, report["run_id"])["models"] == models


def test_a_model_without_a_price_is_never_called_on_a_budget(
    cli, source, fake, tmp_path, monkeypatch
):
    monkeypatch.setenv("AUTOTRADER_MODEL_TRADER", "a-model-the-registry-does-not-know")
    report = backtest(cli, source, tmp_path / "runs", "--allow-model-calls", "--budget-usd", "5")
    assert fake.requests == []
    assert report["models"]["held"]["unpriced_model"] > 0


# -- --blind ------------------------------------------------------------------------------------

_LAST_CLOSE = re.compile(r"### ohlcv \S+ 1h.*\n(?:.*\n)*?.*,([\d.]+),[\d.]+\n###")


def blind_trader(body: dict) -> Reply:
    """Opens flat assets long with a stop 3 % under the last close it was shown, closes open
    ones: every level it answers is on the prompt's (disguised) scale."""
    prompt = prompt_of(body)
    symbol = _DECIDED.search(prompt).group(1)
    if "## Open positions\nnone" not in prompt:
        return Reply.json({"action": "CLOSE", "symbol": symbol})
    close = Decimal(_LAST_CLOSE.search(prompt).group(1))
    stop = f"{close * Decimal('0.97'):.6f}"
    intent = {"action": "OPEN", "symbol": symbol, "side": "LONG", "notional_usd": "500",
              "exit_plan": {"stop": stop}}  # fmt: skip
    return Reply.json(intent, input_tokens=900, output_tokens=ANSWER_CAP)


def test_a_blind_prompt_names_no_asset_and_shows_no_real_date_or_price(cli, source, fake, tmp_path):
    fake.responder = blind_trader
    report = backtest(cli, source, tmp_path / "runs", "--blind", "--allow-model-calls",
                      "--budget-usd", "100")  # fmt: skip
    prompts = [prompt_of(r["body"]) for r in fake.requests]
    assert prompts
    real = open_test_store(source).query(
        "SELECT DISTINCT close FROM candles WHERE symbol IN ('BTC', 'ETH') AND timeframe = '1h'"
    )
    for prompt in prompts:
        assert re.search(r"\b(BTC|ETH)\b", prompt) is None
        assert "2026-" not in prompt
        assert "ASSET_" in prompt
    shown = set(re.findall(r"\d+\.\d+", "\n".join(prompts)))
    assert not shown & {f"{r['close']:g}" for r in real}
    assert report["clones"][0]["trades"] > 0


def test_an_answer_in_blind_prices_is_booked_at_real_levels(cli, source, fake, tmp_path):
    fake.responder = blind_trader
    report = backtest(cli, source, tmp_path / "runs", "--blind", "--allow-model-calls",
                      "--budget-usd", "100")  # fmt: skip
    positions = open_test_store(Path(report["store"])).query(
        "SELECT symbol, qty, entry_price, stop FROM positions"
    )
    assert {p["symbol"] for p in positions} == {"BTC", "ETH"}
    for p in positions:
        # The model asked for a stop 3 % under the close it saw: 3 % under the real price.
        assert 0.96 < float(Decimal(p["stop"]) / Decimal(p["entry_price"])) < 0.98


def test_blind_prompts_have_cache_entries_of_their_own(cli, source, fake, tmp_path):
    fake.responder = blind_trader
    blind = backtest(cli, source, tmp_path / "a", "--blind", "--allow-model-calls",
                     "--budget-usd", "100")  # fmt: skip
    sent = len(fake.requests)
    again = backtest(cli, source, tmp_path / "b", "--blind")
    assert len(fake.requests) == sent
    assert again["ledger_sha256"] == blind["ledger_sha256"]
    assert again["models"]["cache_hits"] == sent
    plain = backtest(cli, source, tmp_path / "c")
    assert plain["models"]["cache_hits"] == 0
    assert plain["models"]["held"]["cache_miss"] > 0
