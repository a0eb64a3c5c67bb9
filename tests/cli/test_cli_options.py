"""The option helpers every command shares: lists, single choices, ids and decimals."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest


@pytest.fixture
def db(cli, tmp_path: Path, monkeypatch) -> Path:
    """A store with clone 42, so a command gets as far as the store would let it. Sources point
    at a closed loopback port: a command that wrongly gets as far as fetching fails fast."""
    for name in ("HYPERLIQUID", "POLYMARKET_GAMMA", "POLYMARKET_CLOB", "DEFILLAMA"):
        monkeypatch.setenv(f"AUTOTRADER_{name}_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AUTOTRADER_DEFILLAMA_STABLECOINS_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AUTOTRADER_HTTP_RETRIES", "0")
    path = tmp_path / "options.db"
    result = cli("clones", "create", "--name", "momentum", "--id", "42", "--db", str(path))
    assert result.exit_code == 0, result.stderr
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refused_in_one_line(cli, db: Path, *args: str) -> str:
    """Run a command that must be refused; returns its one error line. The store is unchanged."""
    before = digest(db)
    result = cli(*args, "--db", str(db))
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "unexpected" not in lines[0]
    assert digest(db) == before
    return lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ("ledger", "show", "--kind", ""),
        ("ledger", "export", "--format", "csv", "--kind", " , "),
        ("ledger", "leaderboard", "--kind", ""),
        ("ledger", "plot", "--account", "1", "--compare", ""),
        ("prop", "accounts", "create", "--clone-id", "42", "--balance", "100", "--kind", ""),
        ("prop", "positions", "--status", ""),
        ("ingest", "assets", "list", "--kind", ""),
        ("ingest", "latest", "--symbol", "BTC", "--timeframe", ""),
        ("ingest", "run-once", "--source", ""),
        ("ingest", "run-once", "--symbols", " , "),
        ("decisions", "list", "--status", ""),
    ],
    ids=" ".join,
)
def test_refuses_an_empty_value_where_one_is_required(cli, db, args):
    option = args[-2]
    assert refused_in_one_line(cli, db, *args).startswith(f"error: {option}: ")


@pytest.mark.parametrize(
    "args",
    [
        ("prop", "positions", "--status", "open,closed"),
        ("decisions", "list", "--status", "queued,failed"),
        ("ingest", "assets", "list", "--kind", "futures"),
        ("ledger", "export", "--format", "csv", "--what", "bogus"),
        ("ledger", "leaderboard", "--kind", "sandbox,race"),
    ],
    ids=" ".join,
)
def test_a_single_choice_refuses_anything_but_one_known_value(cli, db, args):
    option = args[-2]
    line = refused_in_one_line(cli, db, *args)
    assert line.startswith(f"error: {option}: ")
    assert "is not one of" in line
