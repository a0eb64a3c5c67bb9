"""The option helpers every command shares: lists, single choices, ids and decimals."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from autotrader.core.clock import SimulatedClock
from tests.conftest import TEST_DATA

CANDLES = TEST_DATA / "candles" / "binance_BTC_USDT-1h.csv"
CREATE_ACCOUNT = ("prop", "accounts", "create", "--clone-id", "42", "--balance", "9")


@pytest.fixture(scope="module")
def clone_store(tmp_path_factory) -> Path:
    """A migrated store with clone 42, so a command gets as far as the store would let it."""
    from autotrader.clones.management import create_clone
    from tests.fakes.decisions import open_test_store

    path = tmp_path_factory.mktemp("options") / "template.db"
    with open_test_store(path) as store:
        create_clone(store, SimulatedClock(1_771_528_800_000), name="momentum", clone_id=42)
    return path


@pytest.fixture
def db(clone_store: Path, tmp_path: Path, monkeypatch) -> Path:
    """A copy of ``clone_store``. Sources point at a closed loopback port: a command that wrongly
    gets as far as fetching fails at once."""
    for name in ("HYPERLIQUID", "POLYMARKET_GAMMA", "POLYMARKET_CLOB", "DEFILLAMA"):
        monkeypatch.setenv(f"AUTOTRADER_{name}_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AUTOTRADER_DEFILLAMA_STABLECOINS_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AUTOTRADER_HTTP_RETRIES", "0")
    return Path(shutil.copyfile(clone_store, tmp_path / "options.db"))


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
        ("prop", "accounts", "list", "--status", "closed"),
    ],
    ids=" ".join,
)
def test_a_single_choice_refuses_anything_but_one_known_value(cli, db, args):
    option = args[-2]
    line = refused_in_one_line(cli, db, *args)
    assert line.startswith(f"error: {option}: ")
    assert "is not one of" in line


def refused_as_usage(cli, db: Path, *args: str) -> str:
    """Run a command whose option value must be refused before anything runs (exit 2)."""
    before = digest(db)
    result = cli(*args, "--db", str(db))
    assert result.exit_code == 2, result.output
    assert "Invalid value for" in result.stderr or "No such option" in result.stderr
    assert digest(db) == before
    unboxed = "".join(c for c in result.stderr if c not in "│╭╮╰╯─")  # typer's error panel
    return " ".join(unboxed.split())


NOT_IDS = ["0", "-1", "9223372036854775808", "\u0665", "1e3", "1_0", ""]
ID_COMMANDS = [
    ("prop", "accounts", "show", "{}"),
    ("prop", "mark-to-market", "--account", "{}"),
    ("prop", "positions", "--account", "{}"),
    ("prop", "admin", "freeze", "--account", "{}", "--reason", "r"),
    ("prop", "order", "--account", "{}", "--symbol", "BTC", "--side", "long", "--notional", "9"),
    ("prop", "accounts", "create", "--clone-id", "{}", "--balance", "100"),
    ("decisions", "show", "{}"),
    ("decisions", "run-once", "--clone-id", "{}"),
    ("clones", "show", "{}"),
    ("clones", "create", "--name", "x", "--id", "{}"),
    ("clones", "pipeline", "show", "--clone-id", "42", "--version", "{}"),
    ("clones", "context", "--clone-id", "42", "--asset", "BTC", "--account", "{}"),
    ("ledger", "show", "--account", "{}"),
    ("ledger", "trades", "--clone-id", "{}"),
    ("ledger", "verify", "--account", "{}"),
    ("ledger", "plot", "--account", "{}"),
]


@pytest.mark.parametrize("value", NOT_IDS)
@pytest.mark.parametrize("template", ID_COMMANDS, ids=" ".join)
def test_refuses_an_id_outside_1_to_2_63_minus_1(cli, db, template, value):
    args = [value if part == "{}" else part for part in template]
    refused = refused_as_usage(cli, db, *args)
    given_as_argument = not template[template.index("{}") - 1].startswith("--")
    if not (given_as_argument and value == "-1"):  # an argument "-1" reads as an unknown option
        assert "is not an id (a whole number from 1 to 9223372036854775807)" in refused


@pytest.mark.parametrize(
    "args",
    [
        ("ledger", "trace", "fill:9223372036854775808"),
        ("ledger", "trace", "fill:\u0665"),
        ("ledger", "trace", "run:0"),
        ("ledger", "plot", "--account", "1", "--compare", "2,9223372036854775808"),
        ("ledger", "plot", "--account", "1", "--compare", "\u0665"),
    ],
    ids=" ".join,
)
def test_refuses_ids_inside_references_and_lists_in_one_line(cli, db, args):
    assert "9223372036854775807" in refused_in_one_line(cli, db, *args)


NOT_AMOUNTS = ["\u0665", "1e-400", "1e999999", "NaN", "Infinity", "-5", "0x10"]


@pytest.mark.parametrize("value", NOT_AMOUNTS)
@pytest.mark.parametrize(
    "template",
    [
        ("prop", "accounts", "create", "--clone-id", "42", "--balance", "{}"),
        ("prop", "accounts", "create", "--clone-id", "42", "--balance", "9", "--taker-fee", "{}"),
        ("prop", "order", "--account", "1", "--symbol", "BTC", "--side", "long", "--qty", "{}"),
        ("prop", "order", "--account", "1", "--symbol", "BTC", "--side", "long", "--stop", "{}"),
        ("prop", "close", "--account", "1", "--symbol", "BTC", "--qty", "{}"),
        (
            "clones",
            "models",
            "add",
            "--name",
            "m",
            "--api-model",
            "m",
            "--strength",
            "1",
            "--input-usd-per-mtok",
            "{}",
        ),
    ],
    ids=" ".join,
)
def test_refuses_a_decimal_that_is_not_a_plain_finite_amount(cli, db, template, value):
    args = [value if part == "{}" else part for part in template]
    assert f"Invalid value for '{template[template.index('{}') - 1]}'" in refused_as_usage(
        cli, db, *args
    )


@pytest.mark.parametrize(
    "args",
    [
        ("prop", "accounts", "create", "--clone-id", "42", "--balance", "0"),
        (
            "prop",
            "accounts",
            "create",
            "--clone-id",
            "42",
            "--balance",
            "9",
            "--max-position-notional",
            "0",
        ),
        ("prop", "order", "--account", "1", "--symbol", "BTC", "--side", "long", "--notional", "0"),
        ("prop", "order", "--account", "1", "--symbol", "BTC", "--side", "long", "--target", "0.0"),
    ],
    ids=" ".join,
)
def test_refuses_zero_where_zero_means_nothing(cli, db, args):
    assert "must be greater than 0" in refused_as_usage(cli, db, *args)


def test_a_zero_model_price_is_a_free_local_model(cli, db):
    args = ("clones", "models", "add", "--name", "llama", "--api-model", "llama3", "--strength")
    result = cli(*args, "1", "--input-usd-per-mtok", "0", "--db", str(db))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("price", ["10001", "999999999999999"])
def test_refuses_a_model_price_no_provider_charges(cli, db, price):
    args = ("clones", "models", "add", "--name", "m", "--api-model", "m", "--strength", "1")
    line = refused_in_one_line(cli, db, *args, "--output-usd-per-mtok", price)
    assert "at most 10000 USD per million tokens" in line


@pytest.mark.parametrize(
    "args",
    [
        ("ledger", "show", "--page", "9223372036854775808"),
        ("ledger", "trades", "--limit", "9223372036854775808"),
        ("clones", "context", "--clone-id", "42", "--asset", "BTC", "--budget", "99999999999"),
        (
            "prop",
            "accounts",
            "create",
            "--clone-id",
            "42",
            "--balance",
            "9",
            "--max-daily-trades",
            "9223372036854775808",
        ),
        ("workers", "run", "housekeeping", "--interval", "inf"),
        (
            "prop",
            "order",
            "--account",
            "1",
            "--symbol",
            "BTC",
            "--side",
            "long",
            "--leverage",
            "9223372036854775808",
        ),
    ],
    ids=" ".join,
)
def test_refuses_a_count_beyond_its_range(cli, db, args):
    refused_as_usage(cli, db, *args)


@pytest.mark.parametrize(
    "args",
    [
        ("ingest", "run-once", "--symbols", "BTC,x' OR '1'='1"),
        ("ingest", "backfill", "--since", "2026-02-19T00:00:00Z", "--symbols", "\x1b[2J"),
        ("ingest", "import", str(CANDLES), "--symbol", "x" * 10_000),
        ("ingest", "latest", "--symbol", "BTC\u202e"),
        ("decisions", "run-once", "--clone-id", "42", "--asset", "BTC ETH"),
        ("clones", "context", "--clone-id", "42", "--asset", "btc;"),
        (*CREATE_ACCOUNT, "--allowed-symbols", "BTC,\u0665"),
    ],
    ids=lambda args: " ".join(args)[:60],
)
def test_refuses_what_cannot_be_a_symbol_before_anything_runs(cli, db, args):
    assert "is not a symbol" in refused_in_one_line(cli, db, *args)


def test_a_symbol_is_read_in_upper_case(cli, db):
    result = cli("ingest", "import", str(CANDLES), "--symbol", "btc", "--timeframe", "1h",
                 "--db", str(db))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "candles stored for BTC 1h" in result.stdout


# -- every command declares its numbers --------------------------------------------------------


def _parameters():
    import typer

    from autotrader.cli.app import app

    def walk(command, path):
        if hasattr(command, "commands"):
            for name in command.list_commands(None):
                sub = command.get_command(None, name)  # a lazy group loads here
                if not sub.hidden:
                    yield from walk(sub, (*path, name))
        else:
            for param in command.params:
                yield " ".join(path), param

    yield from walk(typer.main.get_command(app), ())


def test_every_whole_number_or_float_option_declares_its_range():
    from autotrader.cli._options import IdParser

    unbounded = [
        f"{command} {param.name}"
        for command, param in _parameters()
        if param.type_descriptor.annotation in (int, float)
        and not isinstance(param.type_descriptor.parameter_info.parser, IdParser)
        and None in (param.min, param.max)
    ]
    assert unbounded == [], "use count_option (or id_option for a row id)"


def test_every_id_is_read_by_the_id_parser():
    from autotrader.cli._options import IdParser

    by_name = [
        f"{command} {param.name}"
        for command, param in _parameters()
        if (param.name.endswith("_id") or param.name in {"account", "version"})
        and not isinstance(param.type_descriptor.parameter_info.parser, IdParser)
    ]
    assert by_name == [], "use id_option / id_argument"


def test_every_amount_is_read_by_the_decimal_parser():
    from decimal import Decimal

    from autotrader.cli._options import DecimalParser

    amounts = [
        f"{command} {param.name}"
        for command, param in _parameters()
        if param.type_descriptor.annotation is Decimal
        and not isinstance(param.type_descriptor.parameter_info.parser, DecimalParser)
    ]
    assert amounts == [], "use decimal_option"
