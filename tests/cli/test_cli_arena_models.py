"""``autotrader arena-models setup|status``: a grid of models × variants on identical accounts,
idempotent, refused whole when any cell cannot be made."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

NOW = "2026-02-19T19:20:00Z"
MODELS = "gpt-5-mini,gpt-5"  # gpt-5 is tier 4, above a plain clone's entitlement


@pytest.fixture
def db(tmp_path: Path, monkeypatch) -> str:
    monkeypatch.setenv("AUTOTRADER_NOW", NOW)
    return str(tmp_path / "arena.db")


def setup(cli, db: str, *args: str, models: str = MODELS):
    return cli("arena-models", "setup", "--models", models, "--balance", "10000",
               "--symbols", "btc,eth", *args, "--db", db, "--json")  # fmt: skip


def rows(db: str, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql).fetchall()


def test_setup_makes_one_clone_and_account_per_model_and_variant_all_alike(cli, db):
    result = setup(cli, db)

    assert result.exit_code == 0, result.stderr
    grid = json.loads(result.stdout)
    assert grid["created"] is True
    cells = [(m["model"], m["variant"]) for m in grid["members"]]
    assert cells == [
        (model, variant)
        for model in ("gpt-5-mini", "gpt-5")
        for variant in ("Apex", "Trendsurfer", "Contrarian", "Sovereign")
    ]
    clones = rows(db, "SELECT model, variant, name FROM clones ORDER BY id")
    assert [(m, v) for m, v, _ in clones] == cells
    assert clones[5][2] == "arena-gpt-5-trendsurfer"
    accounts = rows(db, "SELECT starting_balance, rules, started_at, kind FROM prop_accounts")
    assert len(accounts) == 8
    assert len(set(accounts)) == 1  # same balance, rules, start and kind
    assert json.loads(accounts[0][1])["allowed_symbols"] == ["BTC", "ETH"]
    graphs = rows(db, "SELECT graph FROM clone_pipelines")
    assert len(graphs) == 8
    assert len(set(graphs)) == 1  # byte-identical: each clone's variant shapes it
    assert rows(db, "SELECT DISTINCT max_model_strength FROM clone_entitlements") == [(2,), (4,)]


def test_setting_up_the_same_arena_again_changes_nothing(cli, db):
    first = json.loads(setup(cli, db).stdout)

    again = setup(cli, db)

    assert again.exit_code == 0, again.stderr
    second = json.loads(again.stdout)
    assert second["created"] is False
    assert second["members"] == first["members"]
    assert second["started_at"] == first["started_at"]
    assert rows(db, "SELECT COUNT(*) FROM clones") == [(8,)]
    assert rows(db, "SELECT COUNT(*) FROM prop_accounts") == [(8,)]
    table = cli("arena-models", "setup", "--models", MODELS, "--balance", "10000",
                "--symbols", "BTC,ETH", "--db", db)  # fmt: skip
    assert "already set up (nothing changed)" in table.stdout


def test_the_same_name_with_another_grid_is_refused_naming_what_differs(cli, db):
    setup(cli, db)

    result = cli("arena-models", "setup", "--models", MODELS, "--balance", "5000",
                 "--variants", "apex", "--symbols", "BTC,ETH", "--db", db)  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: arena 'arena' already exists with another --variants, --balance; its members "
        "must stay comparable: set up a new arena with --name"
    )
    other = cli("arena-models", "setup", "--models", "gpt-5-nano", "--balance", "5000",
                "--variants", "apex", "--name", "small", "--db", db)  # fmt: skip
    assert other.exit_code == 0, other.stderr


def test_a_cell_another_clone_holds_refuses_the_whole_arena_naming_that_clone(cli, db):
    cli("clones", "create", "--name", "my-contrarian", "--variant", "Contrarian", "--id", "7",
        "--db", db)  # fmt: skip

    result = setup(cli, db)

    assert result.exit_code == 1
    assert "already runs variant Contrarian in clone 7 ('my-contrarian')" in result.stderr
    assert rows(db, "SELECT COUNT(*) FROM clones") == [(1,)]
    assert rows(db, "SELECT COUNT(*) FROM prop_accounts") == [(0,)]
    assert rows(db, "SELECT COUNT(*) FROM model_arenas") == [(0,)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--models", "gpt-5-mini,nope"), "unknown model 'nope'"),
        (("--variants", "Apex,Yolo"), "unknown variant 'Yolo'"),
        (("--engine", "magic"), "--engine must be one of"),
        (("--symbols", "BTC,NOPE"), "unknown symbol 'NOPE'"),
        (("--symbols", "BTC,\x1b[2J"), "is not a symbol"),
    ],
)
def test_bad_input_is_one_line_and_makes_nothing(cli, db, args, message):
    result = setup_with(cli, db, args)

    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    # Refused before the store is touched, or inside the transaction that rolled back.
    assert not Path(db).exists() or rows(db, "SELECT COUNT(*) FROM clones") == [(0,)]


@pytest.mark.parametrize(
    "args",
    [
        ("--balance", "-5"),
        ("--balance", "0"),
        ("--balance", "NaN"),
        ("--balance", "1e999999"),
        ("--cadence", "5"),
        ("--cadence", "86401"),
    ],
)
def test_refuses_a_number_out_of_range_as_a_usage_error(cli, db, args):
    result = setup_with(cli, db, args)

    assert result.exit_code == 2
    assert args[0] in result.stderr
    assert not Path(db).exists()  # refused before anything runs


def setup_with(cli, db, args):
    base = {"--models": "gpt-5-mini", "--balance": "10000"}
    options = dict(zip(args[::2], args[1::2], strict=True))
    flat = [x for pair in {**base, **options}.items() for x in pair]
    return cli("arena-models", "setup", *flat, "--db", db)


def test_status_lists_every_member_by_model_and_ranks_the_models(cli, db):
    setup(cli, db)

    result = cli("arena-models", "status", "--db", db, "--json")

    assert result.exit_code == 0, result.stderr
    status = json.loads(result.stdout)
    members = [(m["model"], m["variant"], m["equity"], m["trades"]) for m in status["members"]]
    assert members[:4] == [
        ("gpt-5-mini", variant, "10000", 0)
        for variant in ("Apex", "Trendsurfer", "Contrarian", "Sovereign")
    ]
    assert {m["group"] for m in status["models"]} == {"gpt-5-mini", "gpt-5"}
    assert {m["equity"] for m in status["models"]} == {"40000"}
    assert status["spec"]["symbols"] == ["BTC", "ETH"]
    table = cli("arena-models", "status", "--db", db)
    assert "members by model" in table.stdout
    assert "Models, summed over their variants, by return" in table.stdout


def test_status_of_an_unknown_arena_says_how_to_set_one_up(cli, db):
    cli("init", "--db", db)
    result = cli("arena-models", "status", "--name", "nope", "--db", db)

    assert result.exit_code == 1
    assert "no model arena named 'nope' (known: none yet)" in result.stderr
    assert "arena-models setup" in result.stderr
