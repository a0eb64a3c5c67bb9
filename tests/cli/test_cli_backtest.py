"""``autotrader backtest`` through the CLI on the bundled history: the report, the files
beside the backtest store, ``ledger`` commands on it, and one clear line for bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from autotrader.core.clock import iso_utc
from tests.fakes.decisions import (
    CLONE_ID,
    HOUR,
    copy_store,
    market_template,
    replay_end,
    replay_start,
)

FROM = iso_utc(replay_start())
TO = iso_utc(replay_end() - HOUR)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return market_template(tmp_path_factory)


@pytest.fixture
def source(template, tmp_path) -> Path:
    return copy_store(template, tmp_path / "market.db")


def backtest(cli, source: Path, out: Path, *args: str):
    return cli("backtest", "--db", str(source), "--out", str(out), *args)


def test_replays_a_clone_into_a_store_of_its_own_and_reports_it(cli, source, tmp_path):
    out = tmp_path / "runs"
    result = backtest(cli, source, out, "--clone-id", str(CLONE_ID), "--from", FROM, "--to", TO,
                      "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    store = Path(report["store"])
    assert store.parent == out
    assert store.name == f"{report['run_id']}.db"
    assert len(report["ledger_sha256"]) == 64
    [clone] = report["clones"]
    assert clone["clone_id"] == CLONE_ID
    assert clone["trades"] > 0
    assert Path(report["chart"]).read_bytes().startswith(b"\x89PNG")
    with Path(report["trades"]).open(newline="") as handle:
        assert len(list(csv.DictReader(handle))) == clone["trades"]
    verified = cli("ledger", "verify", "--db", str(store), "--json")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["ok"] is True


def test_prints_the_comparison_table_with_the_ledger_hash(cli, source, tmp_path):
    result = backtest(cli, source, tmp_path / "runs", "--clone-id", str(CLONE_ID), "--from", FROM,
                      "--to", TO)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "sharpe" in result.stdout
    assert "ledger sha256 " in result.stdout
    assert "bars/s" in result.stdout


def test_writes_the_trades_as_parquet_when_asked(cli, source, tmp_path):
    result = backtest(cli, source, tmp_path / "runs", "--clone-id", str(CLONE_ID), "--from", FROM,
                      "--to", TO, "--trades-format", "parquet", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert Path(json.loads(result.stdout)["trades"]).read_bytes().startswith(b"PAR1")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--clone-id", str(CLONE_ID), "--from", TO, "--to", FROM), "must be before --to"),
        (("--clone-id", "999", "--from", FROM, "--to", TO), "999"),
        (("--clone-id", str(CLONE_ID), "--from", "2020-01-01T00:00Z", "--to", "2020-02-01T00:00Z"),
         "ingest import"),
        (("--clone-id", str(CLONE_ID), "--from", FROM, "--to", TO, "--engine", "committee"),
         "--engine committee"),
        (("--clone-id", str(CLONE_ID), "--from", FROM, "--to", TO, "--engine", "llm",
          "--budget-usd", "1"), "add --allow-model-calls"),
        (("--clone-id", str(CLONE_ID), "--from", FROM, "--to", TO, "--engine", "llm",
          "--allow-model-calls"), "needs --budget-usd"),
        (("--clone-id", str(CLONE_ID), "--from", FROM, "--to", TO, "--engine", "llm",
          "--sweep", "stop_pct=0.01,0.02"), "--sweep varies rules parameters"),
        (("--clone-id", str(CLONE_ID), "--from", FROM, "--to", TO, "--blind"),
         "--blind is for model strategies"),
        (("--clone-id", str(CLONE_ID), "--from", FROM, "--to", TO, "--allow-model-calls",
          "--budget-usd", "1"), "--allow-model-calls is for model strategies"),
        (("--clone-id", str(CLONE_ID), "--from", "yesterday", "--to", TO), "--from"),
        (("--clone-id", str(CLONE_ID), "--from", FROM, "--to", TO, "--symbols", "DOGE"),
         "no enabled strategy"),
        (("--clone-id", str(CLONE_ID), "--from", FROM, "--to", TO, "--trades-format", "xls"),
         "--trades-format"),
    ],
)  # fmt: skip
def test_refuses_bad_input_with_one_line_and_writes_nothing(cli, source, tmp_path, args, message):
    out = tmp_path / "runs"
    result = backtest(cli, source, out, *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("budget", ["-1", "0", "NaN"])
def test_refuses_a_budget_that_is_not_a_positive_decimal_before_anything_runs(
    cli, source, tmp_path, budget
):
    out = tmp_path / "runs"
    result = backtest(cli, source, out, "--clone-id", str(CLONE_ID), "--from", FROM, "--to", TO,
                      "--engine", "llm", "--allow-model-calls", "--budget-usd", budget)  # fmt: skip
    assert result.exit_code == 2
    assert "--budget-usd" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


@pytest.mark.parametrize("balance", ["-5", "0", "NaN", "ten"])
def test_refuses_a_balance_that_is_not_a_positive_decimal_before_anything_runs(
    cli, source, tmp_path, balance
):
    out = tmp_path / "runs"
    result = backtest(cli, source, out, "--clone-id", str(CLONE_ID), "--from", FROM, "--to", TO,
                      "--balance", balance)  # fmt: skip
    assert result.exit_code == 2
    assert "Invalid value for '--balance'" in result.stderr
    assert not out.exists()


def test_a_sweep_runs_each_combination_as_its_own_backtest_would(cli, source, tmp_path):
    from autotrader.core.clock import SimulatedClock
    from tests.fakes.decisions import (
        _example_params,
        open_test_store,
        pipeline_graph,
        save_pipeline,
    )

    swept = backtest(cli, source, tmp_path / "sweep", "--clone-id", str(CLONE_ID), "--from", FROM,
                     "--to", TO, "--sweep", "stop_pct=0.01,0.03", "--json")  # fmt: skip
    assert swept.exit_code == 0, swept.output
    rows = json.loads(swept.stdout)
    assert [row["params"] for row in rows] == [{"stop_pct": "0.01"}, {"stop_pct": "0.03"}]
    assert rows[0]["ledger_sha256"] != rows[1]["ledger_sha256"]
    for row in rows:
        # The same parameters saved in the clone's own pipeline, one ordinary backtest.
        single = tmp_path / f"single-{row['params']['stop_pct']}.db"
        copy_store(source, single)
        store = open_test_store(single)
        params = _example_params() | {"stop_pct": float(row["params"]["stop_pct"])}
        save_pipeline(store, SimulatedClock(replay_start()), pipeline_graph(engine_params=params))
        store.close()
        alone = backtest(cli, single, tmp_path / "alone", "--clone-id", str(CLONE_ID), "--from",
                         FROM, "--to", TO, "--json")  # fmt: skip
        assert alone.exit_code == 0, alone.output
        assert json.loads(alone.stdout)["ledger_sha256"] == row["ledger_sha256"]


@pytest.mark.parametrize(
    ("sweep", "message"),
    [
        ("stop_pct", "expected PARAM=v1,v2"),
        ("nonsense=1,2", "unknown parameter 'nonsense'"),
        ("stop_pct=0.9", "stop_pct: must be at most 0.5"),
        ("rsi_low=80", "rsi_low < rsi_exit < rsi_high"),
    ],
)
def test_refuses_a_bad_sweep_before_running_anything(cli, source, tmp_path, sweep, message):
    out = tmp_path / "runs"
    result = backtest(cli, source, out, "--clone-id", str(CLONE_ID), "--from", FROM, "--to", TO,
                      "--sweep", sweep)  # fmt: skip
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()
