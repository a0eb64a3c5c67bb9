"""A model arena end to end: three fake models × the four variants, set up by
``arena-models setup``'s service over the bundled day on the replay clock, every decision a
real model call through the openai SDK to the loopback FakeOpenAI, which answers per model:

- ``fake-alpha`` (API name ``alpha-1``) follows its variant's persona: the size, leverage and
  side it states, with a full exit plan;
- ``fake-beta`` (``beta-1``) oversizes its Apex orders (the gates refuse them) and otherwise
  shorts with a tight invalidation price, which mark-to-market acts on;
- ``fake-gamma`` (``gamma-1``) answers prose for Contrarian and Sovereign (failed tool calls)
  and holds otherwise.

The grid runs once per module: 24 hourly ticks of the decision loop (each clone decides each
asset every two hours) and mark-to-market; each test reads what it left.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from decimal import Decimal

import pytest

from autotrader.arena_models.grid import ArenaSpec, set_up
from autotrader.arena_models.status import arena_status
from autotrader.clones.management import add_model, create_clone
from autotrader.clones.variants import PRESETS
from autotrader.clones.vocabulary import Variant
from autotrader.core.clock import HOUR_MS
from autotrader.core.errors import ConflictError
from autotrader.decisions.model_stats import minutes, model_stats
from autotrader.ledger.leaderboard import leaderboard
from autotrader.ledger.nav import nav_series
from tests.fakes.decisions import make_runner, market_template, world
from tests.fakes.openai_server import FakeOpenAI, Reply, prompt_of

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("model-arena")]

MODELS = {"fake-alpha": "alpha-1", "fake-beta": "beta-1", "fake-gamma": "gamma-1"}
SYMBOLS = ("BTC", "ETH")
HOURS = 24
CADENCE_S = 2 * 3600
BALANCE = Decimal(10_000)


def _symbol(prompt: str) -> str:
    return re.search(r"You decide one action for (\S+) on", prompt)[1]


def _variant(prompt: str) -> Variant:
    return Variant(re.search(r"Strategy variant: (\w+),", prompt)[1])


def _holds(prompt: str, symbol: str) -> bool:
    positions = prompt.split("## Open positions", 1)[1].split("\n## ", 1)[0]
    return re.search(rf"^{re.escape(symbol)},", positions, re.MULTILINE) is not None


def _last_close(prompt: str, symbol: str) -> Decimal:
    """The close of the newest 1h bar the prompt shows for ``symbol``."""
    block = prompt.split(f"### ohlcv {symbol} 1h", 1)[1].split("\n#", 1)[0]
    rows = [line for line in block.splitlines()[2:] if line and line[0].isdigit()]
    return Decimal(rows[-1].split(",")[4])


def _level(price: Decimal, factor: str) -> str:
    return str((price * Decimal(factor)).quantize(Decimal("0.01")))


def _open(symbol: str, side: str, preset, price: Decimal, notional: str | None = None) -> dict:
    against, towards = ("0.97", "1.06") if side == "LONG" else ("1.03", "0.94")
    return {
        "action": "OPEN",
        "symbol": symbol,
        "side": side,
        "notional_usd": notional or preset.notional_usd,
        "leverage": preset.leverage,
        "exit_plan": {
            "stop": _level(price, against),
            "target": _level(price, towards),
            "invalidation": "the move reverses",
            "invalidation_price": _level(price, "0.99" if side == "LONG" else "1.003"),
        },
        "policy_id": f"arena_{preset.variant.value.lower()}",
        "hypothesis": f"{preset.title} at work",
    }


def answer(body: dict) -> Reply:
    """What each fake model answers to a Trader call."""
    prompt, model = prompt_of(body), body["model"]
    symbol, variant = _symbol(prompt), _variant(prompt)
    preset = PRESETS[variant]
    hold = {"action": "HOLD", "symbol": symbol, "hypothesis": "waiting"}
    usage = {"input_tokens": 1200, "output_tokens": 80}
    if model == "gamma-1":
        if variant in (Variant.CONTRARIAN, Variant.SOVEREIGN):
            return Reply.text("The market is uncertain; I would rather explain than act.", **usage)
        return Reply.json(hold, **usage)
    if _holds(prompt, symbol):
        return Reply.json(hold, **usage)
    price = _last_close(prompt, symbol)
    if model == "alpha-1":
        side = "SHORT" if variant is Variant.CONTRARIAN else "LONG"
        return Reply.json(_open(symbol, side, preset, price), **usage)
    if variant is Variant.APEX:  # beta's Apex swings for the fences
        return Reply.json(_open(symbol, "LONG", preset, price, notional="50000"), **usage)
    return Reply.json(_open(symbol, "SHORT", preset, price), **usage)


@pytest.fixture(scope="module")
def arena(tmp_path_factory):
    """The arena after its replayed day: ``(store, clock, grid, fake, buckets)``, ``buckets``
    the number of cadence buckets the ticks fell in (each clone's runs per asset)."""
    from autotrader.prop.mtm import MarkToMarket

    monkeypatch = pytest.MonkeyPatch()
    fake = FakeOpenAI()
    fake.responder = answer
    for name, value in {
        "OPENAI_BASE_URL": fake.url,
        "OPENAI_API_KEY": "sk-test-arena",
        "AUTOTRADER_LLM_API": "chat",
        "AUTOTRADER_LLM_CACHE": "off",
        "AUTOTRADER_LLM_RETRIES": "0",
        "AUTOTRADER_ARTIFACTS": "memory",
    }.items():
        monkeypatch.setenv(name, value)
    made = world(market_template(tmp_path_factory), tmp_path_factory.mktemp("arena"),
                 with_account=False)  # fmt: skip
    store, clock = made.store, made.clock
    for name, api_model in MODELS.items():
        add_model(store, clock, name=name, provider="fake", api_model=api_model, api="chat",
                  strength=1, input_usd_per_mtok=Decimal("0.5"),
                  output_usd_per_mtok=Decimal("2"))  # fmt: skip
    spec = ArenaSpec(models=tuple(MODELS), variants=tuple(Variant), starting_balance=BALANCE,
                     symbols=SYMBOLS, engine="llm", cadence_s=CADENCE_S)  # fmt: skip
    grid = set_up(store, clock, spec)
    runner = make_runner(store, clock)
    mtm = MarkToMarket(store, clock, runner.desk.precision)
    buckets = set()
    for _ in range(HOURS):
        clock.advance(ms=HOUR_MS)
        buckets.add(clock.now_ms() // (CADENCE_S * 1000))
        runner.tick()
        mtm.run()
    yield store, clock, grid, fake, len(buckets)
    fake.close()
    store.close()
    monkeypatch.undo()


def q(store, sql: str, params: tuple = ()) -> list[dict]:
    return store.query(sql, params)


def test_every_member_decides_each_asset_at_its_cadence_through_its_model(arena):
    store, _, grid, fake, buckets = arena

    runs = q(store, "SELECT clone_id, model, status, engine FROM decision_runs")
    variants = {m.clone_id: m.variant for m in grid.members}

    per_clone = defaultdict(int)
    for run in runs:
        per_clone[run["clone_id"]] += 1
    assert len(grid.members) == 12
    assert per_clone == {m.clone_id: buckets * len(SYMBOLS) for m in grid.members}
    assert {r["engine"] for r in runs} == {"llm"}
    # gamma's prose for Contrarian and Sovereign is no usable answer: those runs failed.
    prose = {Variant.CONTRARIAN, Variant.SOVEREIGN}
    assert {
        (r["model"], variants[r["clone_id"]] in prose) for r in runs if r["status"] == "failed"
    } == {("fake-gamma", True)}
    assert all(
        r["status"] == "succeeded"
        for r in runs
        if not (r["model"] == "fake-gamma" and variants[r["clone_id"]] in prose)
    )
    assert {r["body"]["model"] for r in fake.requests} == set(MODELS.values())
    assert len(fake.requests) == len(runs)


def test_every_trade_stayed_within_its_gates(arena):
    store, *_ = arena

    acted = q(store, "SELECT * FROM decision_actions WHERE action != 'HOLD'")

    assert acted
    for action in acted:
        gates = json.loads(action["gate_results"])
        if action["status"] == "executed":
            assert all(g["passed"] for g in gates)
        else:
            assert action["status"] == "rejected"
            assert action["reject_code"] == gates[-1]["code"]
    beta_apex = q(store, "SELECT a.status, a.reject_code FROM decision_actions a"
                  " JOIN decision_runs r ON r.id = a.run_id JOIN clones c ON c.id = r.clone_id"
                  " WHERE c.name = 'arena-fake-beta-apex' AND a.action = 'OPEN'")  # fmt: skip
    assert beta_apex
    assert {(a["status"], a["reject_code"]) for a in beta_apex} == {
        ("rejected", "position_notional_above_max")
    }
    for position in q(store, "SELECT p.*, a.rules FROM positions p"
                      " JOIN prop_accounts a ON a.id = p.account_id"):  # fmt: skip
        rules = json.loads(position["rules"])
        notional = Decimal(position["max_qty"]) * Decimal(position["entry_price"])
        assert notional <= Decimal(rules["max_position_notional"])
        assert Decimal(position["leverage"]) <= rules["max_leverage"]
        assert position["symbol"] in rules["allowed_symbols"]


def test_each_persona_traded_as_its_variant_says(arena):
    store, *_ = arena

    opened = q(store, "SELECT c.variant, p.side, p.leverage FROM positions p"
               " JOIN prop_accounts a ON a.id = p.account_id JOIN clones c ON c.id = a.clone_id"
               " WHERE c.model = 'fake-alpha'")  # fmt: skip

    assert {o["variant"] for o in opened} == {v.value for v in Variant}
    for row in opened:
        variant = Variant(row["variant"])
        assert row["side"] == ("SHORT" if variant is Variant.CONTRARIAN else "LONG")
        assert Decimal(row["leverage"]) == PRESETS[variant].leverage


def test_mark_to_market_acted_on_the_exit_plans(arena):
    store, *_ = arena

    triggers = {
        row["close_trigger"]
        for row in q(store, "SELECT close_trigger FROM positions WHERE status = 'CLOSED'")
    }

    assert "INVALIDATION" in triggers


def test_model_stats_equal_the_counts_in_invocations_and_tool_calls(arena):
    store, *_ = arena

    stats = {s.model: s for s in model_stats(store)}

    assert set(stats) == set(MODELS)
    for model, s in stats.items():
        calls = q(store, "SELECT * FROM invocations WHERE model = ?", (model,))
        tools = q(store, "SELECT t.* FROM tool_calls t JOIN invocations i"
                  " ON i.id = t.invocation_id WHERE i.model = ?", (model,))  # fmt: skip
        runs = q(store, "SELECT status FROM decision_runs WHERE model = ?", (model,))
        assert s.runs == len(runs)
        assert s.failed_runs == sum(r["status"] == "failed" for r in runs)
        assert s.invocations == len(calls)
        assert s.cached == sum(c["cached"] for c in calls)
        assert s.failed_tool_calls == sum(c["status"] != "ok" for c in calls)
        assert s.tool_calls == len(tools)
        assert s.input_tokens == sum(c["input_tokens"] for c in calls)
        assert s.output_tokens == sum(c["output_tokens"] for c in calls)
        assert s.model_minutes == minutes(sum(c["latency_ms"] for c in calls))
        assert s.cost_usd == sum((Decimal(c["cost_usd"]) for c in calls), Decimal(0))
    # gamma's prose for two of its variants, every decision, are its failed tool calls
    assert stats["fake-gamma"].failed_tool_calls == stats["fake-gamma"].runs // 2
    assert stats["fake-alpha"].failed_tool_calls == 0


def _snapshots(store, account_id: int) -> dict[int, Decimal]:
    rows = q(store, "SELECT time, equity FROM account_snapshots WHERE account_id = ?",
             (account_id,))  # fmt: skip
    return {r["time"]: Decimal(r["equity"]) for r in rows}


def test_nav_series_equal_the_snapshots(arena):
    store, _, grid, *_ = arena
    snapshots = {m.account_id: _snapshots(store, m.account_id) for m in grid.members}

    by_clone = nav_series(store, by="clone")
    by_model = nav_series(store, by="model")
    by_variant = nav_series(store, by="variant")

    for member in grid.members:
        points = [p for p in by_clone if p.group == str(member.clone_id)]
        assert points[0].nav == BALANCE
        assert {p.time: p.nav for p in points[1:]} == snapshots[member.account_id]
    for series, label in ((by_model, "model"), (by_variant, "variant")):
        for point in series[1:]:
            cells = [m for m in grid.members if getattr(m, label) == point.group]
            if point.time in snapshots[cells[0].account_id]:
                assert point.nav == sum(snapshots[m.account_id][point.time] for m in cells)
    assert {p.group for p in by_model} == set(MODELS)
    assert {p.group for p in by_variant} == {v.value for v in Variant}
    assert {p.accounts for p in by_model} == {4}
    assert {p.accounts for p in by_variant} == {3}


def test_the_leaderboard_ranks_the_models_and_the_variants(arena):
    store, clock, grid, *_ = arena
    now = clock.now_ms()

    models = leaderboard(store, now_ms=now, by="model")
    variants = leaderboard(store, now_ms=now, by="variant")

    assert [r.return_pct for r in models] == sorted((r.return_pct for r in models), reverse=True)
    assert {r.group for r in models} == set(MODELS)
    assert {r.starting_balance for r in models} == {4 * BALANCE}
    assert all(r.model_cost_usd > 0 for r in models)
    for row in models:
        if row.return_pct > 0:
            expected = (row.model_cost_usd / row.return_pct).quantize(Decimal("0.000001"))
            assert row.cost_per_return_point == expected
        else:
            assert row.cost_per_return_point is None
    returns = [r.return_pct for r in variants]
    assert returns == sorted(returns, reverse=True)
    assert {r.group for r in variants} == {v.value for v in Variant}
    status = arena_status(store, grid.name, now_ms=now)
    assert [r.group for r in status.models] == [r.group for r in models]
    assert [r.model for r in status.members] == [m for m in MODELS for _ in Variant]


def test_a_duplicate_model_and_variant_is_refused_cleanly(arena):
    store, clock, grid, *_ = arena
    holder = next(m for m in grid.members if (m.model, m.variant) == ("fake-alpha", "Apex"))
    clones_before = len(q(store, "SELECT id FROM clones"))

    held = rf"already runs variant Apex in clone {holder.clone_id} "
    with pytest.raises(ConflictError, match=held):
        create_clone(store, clock, name="alpha-apex-again", model="fake-alpha", variant="Apex")

    assert len(q(store, "SELECT id FROM clones")) == clones_before
