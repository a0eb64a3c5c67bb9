"""``autotrader ledger`` through CliRunner on the fixed engine scenario, with golden outputs.

Goldens live in ``tests/golden/ledger/``; after an intended change, regenerate them with
``UPDATE_GOLDEN=1 .venv/bin/pytest tests/cli/test_cli_ledger.py`` and review the diff.
Rich output is rendered on a fixed 160-column, colourless console so goldens do not depend on
the terminal running the tests.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
import typer
from rich.console import Console

from autotrader.cli import ledger as ledger_cli
from autotrader.core.clock import iso_utc
from tests.fakes.ledger_scenario import build_scenario_file

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "ledger"
PNG = b"\x89PNG\r\n\x1a\n"


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"missing golden {path}: run with UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs (UPDATE_GOLDEN=1 to accept)"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_scenario_file(tmp_path_factory.mktemp("ledger-cli"))


@pytest.fixture
def db(built, tmp_path, monkeypatch) -> Path:
    import shutil

    path = tmp_path / "ledger.db"
    shutil.copyfile(built[0], path)
    monkeypatch.setenv("AUTOTRADER_NOW", iso_utc(built[1].end_ms))
    console = Console(width=160, color_system=None, highlight=False, soft_wrap=True)
    monkeypatch.setattr("autotrader.cli.ledger_render.out", console)
    return path


@pytest.fixture
def ledger(runner):
    """``ledger(...)`` runs ``autotrader ledger ...`` under the root's error handling."""
    from autotrader.cli.app import _Root

    root = typer.Typer(cls=_Root)
    root.callback()(lambda: None)
    root.add_typer(ledger_cli.app, name="ledger")

    def invoke(*args: str):
        return runner.invoke(root, ["ledger", *args])

    return invoke


# -- goldens --------------------------------------------------------------------------------------


def test_show_json_golden(ledger, db):
    result = ledger("show", "--db", str(db), "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["entries"]) == 22
    assert data["has_more"] is False
    assert_golden("show.json", result.stdout)


def test_show_table_golden(ledger, db):
    result = ledger("show", "--db", str(db), "--account", "2", "--limit", "6")
    assert result.exit_code == 0, result.stderr
    assert "more: --page 2" in result.stdout
    assert "Totals over the filter" in result.stdout
    assert_golden("show.txt", result.stdout)


def test_show_csv_golden(ledger, db):
    result = ledger("show", "--db", str(db), "--clone-id", "42", "--csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["account_id"] for r in rows} == {"1", "3"}
    assert_golden("show.csv", result.stdout)


def test_trades_table_golden(ledger, db):
    result = ledger("trades", "--db", str(db))
    assert result.exit_code == 0, result.stderr
    assert "Closed trades" in result.stdout
    assert "Open positions" in result.stdout
    assert_golden("trades.txt", result.stdout)


def test_trades_json_golden(ledger, db):
    result = ledger("trades", "--db", str(db), "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [t["position_id"] for t in data["closed"]] == [3, 2, 1]
    assert data["closed"][0]["net_pnl"] == "2.7771977285"  # Decimal as a string
    assert_golden("trades.json", result.stdout)


# -- show -----------------------------------------------------------------------------------------


def test_show_filters_by_kind_and_pages(ledger, db):
    result = ledger("show", "--db", str(db), "--kind", "fee,funding", "--json", "--limit", "5")
    data = json.loads(result.stdout)
    assert {e["kind"] for e in data["entries"]} <= {"FEE", "FUNDING"}
    assert [t["kind"] for t in data["totals"]] == ["FEE", "FUNDING"]
    page2 = json.loads(
        ledger(
            "show", "--db", str(db), "--kind", "FEE", "--json", "--page", "2", "--limit", "5"
        ).stdout
    )
    assert page2["page"] == 2
    assert len(page2["entries"]) == 2


def test_show_refuses_an_unknown_kind_in_one_line(ledger, db):
    result = ledger("show", "--db", str(db), "--kind", "BONUS")
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "BONUS" in result.stderr


def test_show_refuses_a_bad_time(ledger, db):
    result = ledger("show", "--db", str(db), "--since", "yesterday")
    assert result.exit_code == 1
    assert "--since" in result.stderr


# -- trace ----------------------------------------------------------------------------------------


def test_trace_shows_the_chain_with_every_gate(ledger, db):
    result = ledger("trace", "fill:7", "--db", str(db))
    assert result.exit_code == 0, result.stderr
    for text in ("fill 7", "ledger entry 18", "order 7", "intent 8", "pass margin", "position 4"):
        assert text in result.stdout
    assert ledger("trace", "7", "--fill", "--db", str(db)).stdout == result.stdout


def test_trace_json(ledger, db):
    data = json.loads(ledger("trace", "position:3", "--db", str(db), "--json").stdout)
    assert [c["fill"]["id"] for c in data["chains"]] == [3, 6]


def test_trace_needs_to_know_what_the_id_is(ledger, db):
    result = ledger("trace", "7", "--db", str(db))
    assert result.exit_code == 1
    assert "ambiguous" in result.stderr
    assert ledger("trace", "fill:999", "--db", str(db)).exit_code == 1


# -- verify ---------------------------------------------------------------------------------------


def test_verify_passes_with_a_one_line_summary(ledger, db):
    result = ledger("verify", "--db", str(db))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().startswith("ledger OK: 3 accounts, 22 entries")
    assert result.stdout.strip().count("\n") == 0


def test_verify_exits_1_and_prints_every_violation_with_its_rows(ledger, db):
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("DROP TRIGGER ledger_entries_append_only_update")
        conn.execute("UPDATE ledger_entries SET amount = '-0.5' WHERE id = 8")
    result = ledger("verify", "--db", str(db))
    assert result.exit_code == 1
    assert "[chain] account 1: entry 8" in result.stdout
    assert "id=8, account_id=1, kind=FEE, amount=-0.5" in result.stdout
    assert "ledger BROKEN" in result.stdout
    data = json.loads(ledger("verify", "--db", str(db), "--json").stdout)
    assert data["ok"] is False
    assert data["violations"]


def test_verify_notes_fills_it_could_not_check_and_still_passes(ledger, db):
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("DELETE FROM candles WHERE symbol = 'ETH'")
    result = ledger("verify", "--db", str(db))
    assert result.exit_code == 0, result.stdout
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("note: fill_price: 3 fill(s) of ETH not checked")
    assert lines[-1].startswith("ledger OK")
    data = json.loads(ledger("verify", "--db", str(db), "--json").stdout)
    assert data["ok"] is True
    assert data["notes"] == [lines[0].removeprefix("note: ")]


def test_verify_of_a_missing_store_fails_without_creating_it(ledger, tmp_path, monkeypatch):
    missing = tmp_path / "nope.db"
    result = ledger("verify", "--db", str(missing))
    assert result.exit_code == 1
    assert "no store" in result.stderr
    assert not missing.exists()


# -- export, leaderboard, plot ---------------------------------------------------------------------


def test_export_csv_to_stdout(ledger, db):
    result = ledger("export", "--format", "csv", "--what", "trades", "--db", str(db))
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["position_id"] for r in rows] == ["3", "2", "1", "4"]


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_export_to_a_file_round_trips(ledger, db, tmp_path, fmt):
    from autotrader.ledger.export import load

    out = tmp_path / f"ledger.{fmt}"
    result = ledger("export", "--format", fmt, "--out", str(out), "--account", "2", "--db", str(db))
    assert result.exit_code == 0, result.stderr
    assert f"wrote 12 ledger rows as {fmt}" in result.stdout
    rows = load(out, fmt, "ledger")
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    assert rows[0]["amount"] == "10000"
    assert rows[0]["kind"] == "DEPOSIT"


def test_export_parquet_needs_out(ledger, db):
    result = ledger("export", "--format", "parquet", "--db", str(db))
    assert result.exit_code == 1
    assert "--out" in result.stderr


def test_leaderboard_table_and_json(ledger, db):
    result = ledger("leaderboard", "--db", str(db))
    assert result.exit_code == 0, result.stderr
    assert "Leaderboard by account, sorted by return_pct" in result.stdout
    data = json.loads(ledger("leaderboard", "--db", str(db), "--by", "clone", "--json").stdout)
    assert {row["group"] for row in data} == {"42", "7"}
    assert all(isinstance(row["pnl"], str) for row in data)


def test_leaderboard_refuses_an_unknown_sort_column(ledger, db):
    result = ledger("leaderboard", "--db", str(db), "--sort", "luck")
    assert result.exit_code == 1
    assert "unknown column" in result.stderr


def test_plot_writes_a_png_and_says_where(ledger, db, tmp_path):
    out = tmp_path / "charts" / "equity.png"
    result = ledger(
        "plot", "--account", "2", "--compare", "1,3", "--out", str(out), "--db", str(db)
    )
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes()[:8] == PNG
    assert str(out.resolve()) in result.stdout.replace("\n", "")


def _snapshots(db: Path, account: int) -> list[tuple[int, str]]:
    with closing(sqlite3.connect(db)) as conn:
        start = conn.execute(
            "SELECT started_at, starting_balance FROM prop_accounts WHERE id = ?", (account,)
        ).fetchone()
        rows = conn.execute(
            "SELECT time, equity FROM account_snapshots WHERE account_id = ? ORDER BY time",
            (account,),
        ).fetchall()
    return [start, *rows]


def test_nav_by_account_is_the_starting_balance_then_every_snapshot(ledger, db):
    result = ledger("nav", "--by", "account", "--db", str(db), "--json")

    assert result.exit_code == 0, result.stderr
    points = [p for p in json.loads(result.stdout) if p["group"] == "2"]
    assert [(p["time"], p["nav"]) for p in points] == _snapshots(db, 2)
    assert points[1]["at"] == iso_utc(points[1]["time"])


def test_nav_by_clone_sums_its_accounts_at_every_snapshot(ledger, db):
    from decimal import Decimal

    points = json.loads(ledger("nav", "--by", "clone", "--db", str(db), "--json").stdout)

    clone_42 = {p["time"]: Decimal(p["nav"]) for p in points if p["group"] == "42"}
    one, three = dict(_snapshots(db, 1)), dict(_snapshots(db, 3))
    shared = sorted(set(one) & set(three))
    assert shared
    assert all(clone_42[t] == Decimal(one[t]) + Decimal(three[t]) for t in shared)
    assert {p["accounts"] for p in points if p["group"] == "42"} == {2}


def test_nav_every_hour_keeps_one_point_per_hour_on_the_hour(ledger, db):
    points = json.loads(
        ledger("nav", "--by", "account", "--every", "1h", "--db", str(db), "--json").stdout
    )

    times = [p["time"] for p in points if p["group"] == "2"]
    assert all(t % 3_600_000 == 0 for t in times)
    assert all(b - a == 3_600_000 for a, b in itertools.pairwise(times))


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_nav_exports_like_ledger_export_and_reads_back(ledger, db, tmp_path, fmt):
    from autotrader.ledger.export import load

    out = tmp_path / f"nav.{fmt}"
    result = ledger("nav", "--by", "clone", "--format", fmt, "--out", str(out), "--db", str(db))

    assert result.exit_code == 0, result.stderr
    rows = load(out, fmt, "nav")
    listed = json.loads(ledger("nav", "--by", "clone", "--db", str(db), "--json").stdout)
    assert rows == listed
    assert f"wrote {len(rows)} NAV points as {fmt}" in result.stdout


def test_nav_table_and_a_bad_duration(ledger, db):
    table = ledger("nav", "--by", "variant", "--every", "6h", "--db", str(db))
    assert table.exit_code == 0, table.stderr
    assert "Net asset value by variant" in table.stdout
    bad = ledger("nav", "--every", "an hour", "--db", str(db))
    assert bad.exit_code == 1
    assert bad.stderr.strip() == (
        "error: --every: give a duration such as 15m, 1h or 1d, not 'an hour'"
    )


def test_leaderboard_by_variant_and_cost_per_point_of_return(ledger, db):
    data = json.loads(ledger("leaderboard", "--db", str(db), "--by", "variant", "--json").stdout)

    [row] = data  # the scenario's clones carry no variant
    assert (row["group"], row["variant"], row["model_cost_usd"]) == ("-", None, "0")
    positive = row["cost_per_return_point"]
    assert positive == ("0" if float(row["return_pct"]) > 0 else None)


def test_plot_by_model_writes_one_curve_per_model(ledger, db, tmp_path):
    out = tmp_path / "models.png"
    result = ledger("plot", "--by", "clone", "--out", str(out), "--db", str(db))

    assert result.exit_code == 0, result.stderr
    assert out.read_bytes()[:8] == PNG
    assert "NAV chart by clone (2 curves" in result.stdout


def test_plot_needs_an_account_or_a_grouping(ledger, db):
    neither = ledger("plot", "--db", str(db))
    both = ledger("plot", "--account", "1", "--by", "model", "--db", str(db))
    assert (neither.exit_code, both.exit_code) == (1, 1)
    assert "give --account (with --compare) or --by" in neither.stderr


def test_every_command_has_an_example_in_its_help(ledger):
    for command in ("show", "trades", "trace", "verify", "export", "leaderboard", "nav", "plot"):
        result = ledger(command, "--help")
        assert result.exit_code == 0
        assert "Example" in result.stdout, command
