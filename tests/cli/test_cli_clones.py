"""``autotrader clones``: clones, models, entitlements, pipelines and context, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autotrader.demo import bundled_candles

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "pipelines"
REPLAY_NOW = "2026-02-19T19:20:00Z"  # the close of the bundled candles' last bar


@pytest.fixture
def db(cli, tmp_path: Path) -> str:
    path = str(tmp_path / "clones.db")
    assert cli("init", "--db", path).exit_code == 0
    return path


@pytest.fixture
def clone(cli, db) -> int:
    result = cli("clones", "create", "--name", "momentum", "--id", "42", "--db", db, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["id"]


def _write(tmp_path: Path, data: dict) -> str:
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(data))
    return str(path)


def save_example(cli, db: str):
    """Save examples/pipelines/btc-eth-rules.json as clone 42's next pipeline version."""
    path = str(EXAMPLES / "btc-eth-rules.json")
    return cli("clones", "pipeline", "set", path, "--clone-id", "42", "--db", db)


def _example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def test_create_picks_the_id_users_type_and_lists_it(cli, db, clone):
    assert clone == 42
    listed = json.loads(cli("clones", "list", "--db", db, "--json").stdout)
    assert [(c["id"], c["name"], c["model"], c["trading_enabled"]) for c in listed] == [
        (42, "momentum", "gpt-5-mini", True)
    ]
    shown = json.loads(cli("clones", "show", "42", "--db", db, "--json").stdout)
    assert (shown["max_model_strength"], shown["max_active_assets"]) == (2, 10)


def test_a_duplicate_id_or_name_is_refused_in_one_line(cli, db, clone):
    again = cli("clones", "create", "--name", "other", "--id", "42", "--db", db)
    assert again.exit_code == 1
    assert again.stderr.strip() == "error: clone 42 already exists"
    same_name = cli("clones", "create", "--name", "momentum", "--db", db)
    assert same_name.exit_code == 1
    assert "already exists" in same_name.stderr


def test_setting_a_model_above_the_entitled_strength_is_refused(cli, db, clone):
    result = cli("clones", "set-model", "--clone-id", "42", "--model", "gpt-5", "--db", db)
    assert result.exit_code == 1
    assert "strength 4" in result.stderr
    assert "entitlement (2)" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_granted_tier_allows_the_stronger_model(cli, db, clone):
    grant = cli(
        "clones",
        "entitlements",
        "grant",
        "--clone-id",
        "42",
        "--max-model-strength",
        "4",
        "--db",
        db,
    )
    assert grant.exit_code == 0, grant.stderr
    assert (
        cli("clones", "set-model", "--clone-id", "42", "--model", "gpt-5", "--db", db).exit_code
        == 0
    )
    shown = json.loads(
        cli("clones", "entitlements", "show", "--clone-id", "42", "--db", db, "--json").stdout
    )
    assert (shown["model"], shown["model_strength"], shown["max_model_strength"]) == ("gpt-5", 4, 4)


def test_an_unknown_model_is_named_with_the_known_ones(cli, db, clone):
    result = cli("clones", "set-model", "--clone-id", "42", "--model", "gpt-99", "--db", db)
    assert result.exit_code == 1
    assert "unknown model 'gpt-99'" in result.stderr
    assert "gpt-5-mini" in result.stderr


def test_models_can_be_added_and_listed_with_prices(cli, db):
    added = cli(
        "clones",
        "models",
        "add",
        "--name",
        "local-llama",
        "--api-model",
        "llama3.1:8b",
        "--strength",
        "1",
        "--api",
        "chat",
        "--input-usd-per-mtok",
        "0.1",
        "--db",
        db,
    )
    assert added.exit_code == 0, added.stderr
    models = {
        m["name"]: m
        for m in json.loads(cli("clones", "models", "list", "--db", db, "--json").stdout)
    }
    assert models["local-llama"]["input_usd_per_mtok"] == "0.1"
    bad = cli(
        "clones", "models", "add", "--name", "x", "--api-model", "x", "--strength", "11", "--db", db
    )
    assert bad.exit_code == 1


def test_a_model_names_the_setting_of_its_servers_base_url(cli, db):
    added = cli("clones", "models", "add", "--name", "qwen", "--api-model", "qwen2.5:7b",
                "--strength", "1", "--base-url-setting", "OLLAMA_BASE_URL", "--db", db)  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert "at OLLAMA_BASE_URL" in added.stdout
    listed = json.loads(cli("clones", "models", "list", "--db", db, "--json").stdout)
    assert {m["name"]: m["base_url_setting"] for m in listed}["qwen"] == "OLLAMA_BASE_URL"

    typo = cli("clones", "models", "add", "--name", "x", "--api-model", "x", "--strength", "1",
               "--base-url-setting", "OLAMA_BASE_URL", "--db", db)  # fmt: skip
    assert typo.exit_code == 1
    assert typo.stderr.strip().splitlines() == [
        "error: --base-url-setting: 'OLAMA_BASE_URL' is not one of OPENAI_BASE_URL, "
        "OLLAMA_BASE_URL, VLLM_BASE_URL"
    ]
    names = [m["name"] for m in json.loads(cli("clones", "models", "list", "--db", db,
                                                "--json").stdout)]  # fmt: skip
    assert "x" not in names


def test_enable_and_disable_switch_trading(cli, db, clone):
    assert cli("clones", "disable", "--clone-id", "42", "--db", db).exit_code == 0
    assert (
        json.loads(cli("clones", "show", "42", "--db", db, "--json").stdout)["trading_enabled"]
        is False
    )
    assert cli("clones", "enable", "--clone-id", "42", "--db", db).exit_code == 0
    assert (
        json.loads(cli("clones", "show", "42", "--db", db, "--json").stdout)["trading_enabled"]
        is True
    )


def test_every_example_pipeline_validates(cli, db):
    for path in sorted(EXAMPLES.glob("*.json")):
        result = cli("clones", "pipeline", "validate", str(path), "--db", db)
        assert result.exit_code == 0, (path.name, result.stdout)


def test_an_invalid_graph_lists_every_problem_with_its_node(cli, db, tmp_path):
    graph = _example("btc-eth-rules.json")
    graph["edges"].append({"from": "trend-rules", "to": "majors"})  # a backward edge
    for node in graph["nodes"]:
        if node["type"] == "asset_selection":
            node["explicitlyEnabledSymbols"] = ["BTC", "NOPECOIN"]
        if node["type"] == "trading_prompt":
            node["decisionCadenceSec"] = "soon"
    result = cli("clones", "pipeline", "validate", _write(tmp_path, graph), "--db", db, "--json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)
    errors = [p for p in problems if p["severity"] == "error"]
    assert len(errors) >= 3
    assert all(p["node_id"] or p["path"] for p in errors)
    assert any("NOPECOIN" in p["reason"] for p in errors)
    assert any("decisionCadenceSec" in p["path"] for p in errors)


def test_a_malformed_file_is_one_line(cli, db, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    result = cli("clones", "pipeline", "validate", str(path), "--db", db)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "invalid JSON at line 1" in result.stderr


@pytest.mark.parametrize(
    "params",
    [
        {"leverage": 1000},
        {"notional_usd": "1e309"},
        {"policy": "martingale"},
        {"rsi_low": 80, "rsi_high": 70},
        {"stop_pct": -0.02},
    ],
)
def test_engine_parameters_that_would_fail_every_run_are_refused_at_save(
    cli, db, clone, tmp_path, params
):
    data = _example("btc-eth-rules.json")
    prompt = next(n for n in data["nodes"] if n["type"] == "trading_prompt")
    prompt["engineParams"] = params
    path = _write(tmp_path, data)
    checked = cli("clones", "pipeline", "validate", path, "--db", db)
    assert checked.exit_code == 1
    assert "error: trend-rules nodes[2].engineParams" in checked.stdout
    assert "0 errors" not in checked.stdout
    saved = cli("clones", "pipeline", "set", path, "--clone-id", "42", "--db", db)
    assert saved.exit_code == 1
    assert "error: trend-rules (nodes[2].engineParams" in saved.stderr
    assert (
        cli(
            "clones", "pipeline", "history", "--clone-id", "42", "--db", db, "--json"
        ).stdout.strip()
        == "[]"
    )


@pytest.mark.parametrize("command", ["validate", "set"])
@pytest.mark.parametrize("depth", [100, 100_000])
def test_a_deeply_nested_file_is_one_line(cli, db, clone, tmp_path, command, depth):
    path = tmp_path / "deep.json"
    path.write_text('{"version": 1, "nodes": ' + "[" * depth + "]" * depth + "}")
    result = cli("clones", "pipeline", command, str(path), "--clone-id", "42", "--db", db)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "nested deeper than 64 levels" in result.stderr


def test_a_deeply_nested_document_given_as_text_is_a_located_problem():
    from autotrader.clones.validation import validate_pipeline

    problems = validate_pipeline("[" * 100_000 + "]" * 100_000, assets=[], taxonomy=None)
    assert [(p.code, p.path) for p in problems] == [("invalid_json", "")]
    assert "nested deeper than 64 levels" in problems[0].reason


def test_saving_more_active_assets_than_the_capacity_is_refused(cli, db, clone, tmp_path):
    assert (
        cli(
            "clones",
            "entitlements",
            "grant",
            "--clone-id",
            "42",
            "--max-active-assets",
            "1",
            "--db",
            db,
        ).exit_code
        == 0
    )
    result = save_example(cli, db)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: nodes: the graph enables 2 active assets; this clone's capacity is 1"
    )
    history = json.loads(
        cli("clones", "pipeline", "history", "--clone-id", "42", "--db", db, "--json").stdout
    )
    assert history == []


def test_every_accepted_save_is_a_new_version_and_compiles(cli, db, clone):
    for _ in range(2):
        assert save_example(cli, db).exit_code == 0
    history = json.loads(
        cli("clones", "pipeline", "history", "--clone-id", "42", "--db", db, "--json").stdout
    )
    assert [h["version"] for h in history] == [2, 1]
    shown = json.loads(
        cli("clones", "pipeline", "show", "--clone-id", "42", "--version", "1", "--db", db).stdout
    )
    assert shown["version"] == 1
    compiled = json.loads(
        cli("clones", "pipeline", "compile", "--clone-id", "42", "--db", db, "--json").stdout
    )
    [strategy] = compiled["strategies"]
    assert strategy["engine"] == "rules"
    assert [u["symbol"] for u in strategy["universe"]] == ["BTC", "ETH"]
    assert {r["channel"] for r in strategy["read_plans"]["BTC"]} == {
        "ohlcv",
        "indicators",
        "funding",
    }


def test_context_is_byte_identical_for_the_same_inputs(cli, db, clone, monkeypatch):
    monkeypatch.setenv("AUTOTRADER_NOW", REPLAY_NOW)
    for symbol, (path, timeframe) in bundled_candles().items():
        assert (
            cli(
                "ingest",
                "import",
                str(path),
                "--symbol",
                symbol,
                "--timeframe",
                timeframe,
                "--db",
                db,
            ).exit_code
            == 0
        )
    save_example(cli, db)
    first = cli("clones", "context", "--clone-id", "42", "--asset", "BTC", "--db", db, "--json")
    second = cli("clones", "context", "--clone-id", "42", "--asset", "BTC", "--db", db, "--json")
    assert first.exit_code == 0, first.stderr
    assert first.stdout == second.stdout
    packet = json.loads(first.stdout)
    assert packet["symbol"] == "BTC"
    assert packet["token_estimate"] <= packet["budget"]
    assert "## Market data: BTC" in packet["prompt"]


def test_context_for_an_asset_outside_the_universe_is_one_line(cli, db, clone):
    save_example(cli, db)
    result = cli("clones", "context", "--clone-id", "42", "--asset", "DOGE", "--db", db)
    assert result.exit_code == 1
    assert "DOGE is in no enabled strategy's universe" in result.stderr


def test_a_clone_without_a_pipeline_says_how_to_save_one(cli, db, clone):
    result = cli("clones", "pipeline", "compile", "--clone-id", "42", "--db", db)
    assert result.exit_code == 1
    assert "clones pipeline set FILE --clone-id 42" in result.stderr


# -- strategy variants ---------------------------------------------------------------------------


def _create(cli, db: str, name: str, *args: str):
    return cli("clones", "create", "--name", name, *args, "--db", db, "--json")


def test_a_clone_runs_the_variant_it_was_created_with_in_any_letter_case(cli, db):
    made = _create(cli, db, "apex-mini", "--model", "gpt-5-mini", "--variant", "apex")

    assert made.exit_code == 0, made.stderr
    assert json.loads(made.stdout)["variant"] == "Apex"
    [listed] = json.loads(cli("clones", "list", "--db", db, "--json").stdout)
    assert (listed["model"], listed["variant"]) == ("gpt-5-mini", "Apex")


def test_a_second_trading_clone_of_the_same_model_and_variant_is_refused_naming_the_holder(cli, db):
    first = json.loads(_create(cli, db, "apex-mini", "--variant", "Apex", "--id", "7").stdout)

    again = _create(cli, db, "apex-again", "--variant", "APEX")

    assert again.exit_code == 1
    assert again.stderr.count("\n") == 1
    assert "model 'gpt-5-mini' already runs variant Apex in clone 7 ('apex-mini')" in again.stderr
    assert _create(cli, db, "contrarian-mini", "--variant", "Contrarian").exit_code == 0
    other_model = _create(cli, db, "apex-nano", "--model", "gpt-5-nano", "--variant", "Apex")
    assert other_model.exit_code == 0
    assert [c["id"] for c in json.loads(cli("clones", "list", "--db", db, "--json").stdout)] == [
        first["id"],
        first["id"] + 1,
        first["id"] + 2,
    ]


def test_disabling_a_clone_frees_its_pair_and_re_enabling_it_is_then_refused(cli, db):
    _create(cli, db, "apex-old", "--variant", "Apex", "--id", "1")
    assert cli("clones", "disable", "--clone-id", "1", "--db", db).exit_code == 0

    replacement = _create(cli, db, "apex-new", "--variant", "Apex", "--id", "2")
    back = cli("clones", "enable", "--clone-id", "1", "--db", db)

    assert replacement.exit_code == 0, replacement.stderr
    assert back.exit_code == 1
    assert "already runs variant Apex in clone 2 ('apex-new')" in back.stderr


def test_switching_a_clone_onto_a_model_whose_variant_is_taken_is_refused(cli, db):
    _create(cli, db, "apex-mini", "--model", "gpt-5-mini", "--variant", "Apex", "--id", "1")
    _create(cli, db, "apex-nano", "--model", "gpt-5-nano", "--variant", "Apex", "--id", "2")

    switched = cli("clones", "set-model", "--clone-id", "2", "--model", "gpt-5-mini", "--db", db)

    assert switched.exit_code == 1
    assert "already runs variant Apex in clone 1" in switched.stderr
    shown = json.loads(cli("clones", "show", "2", "--db", db, "--json").stdout)
    assert shown["model"] == "gpt-5-nano"


def test_an_unknown_variant_is_one_line_naming_the_known_ones(cli, db):
    result = _create(cli, db, "yolo", "--variant", "Yolo")

    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: unknown variant 'Yolo' (choose from Apex, Trendsurfer, Contrarian, Sovereign)"
    )
    assert json.loads(cli("clones", "list", "--db", db, "--json").stdout) == []


def test_a_pipeline_naming_another_variant_than_its_clones_is_refused(cli, db, tmp_path):
    _create(cli, db, "apex-mini", "--variant", "Apex", "--id", "42")
    graph = _example("btc-eth-rules.json")
    graph["nodes"][2]["variant"] = "Contrarian"

    result = cli("clones", "pipeline", "set", _write(tmp_path, graph), "--clone-id", "42",
                 "--db", db)  # fmt: skip

    assert result.exit_code == 1
    assert "trend-rules (nodes[2].variant): the clone runs Apex" in result.stderr


def test_a_clones_variant_is_merged_into_its_compiled_strategy(cli, db):
    _create(cli, db, "sovereign-mini", "--variant", "Sovereign", "--id", "42")
    assert save_example(cli, db).exit_code == 0

    compiled = cli("clones", "pipeline", "compile", "--clone-id", "42", "--db", db, "--json")

    [strategy] = json.loads(compiled.stdout)["strategies"]
    assert strategy["variant"] == "Sovereign"
    assert strategy["engine_params"]["allow_short"] is False  # the variant's
    assert strategy["engine_params"]["leverage"] == 2  # the example's own value wins
    assert strategy["behavior_prompt"].startswith("Strategy variant: Sovereign")


def test_model_stats_say_when_no_model_has_run(cli, db):
    cli("init", "--db", db)
    assert cli("clones", "models", "stats", "--db", db).stdout.strip() == (
        "no model has run a decision yet"
    )
    assert json.loads(cli("clones", "models", "stats", "--db", db, "--json").stdout) == []
