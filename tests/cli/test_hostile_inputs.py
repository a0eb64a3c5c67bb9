"""Every command, every parameter, hostile values chosen from the parameter's declared type.

The command tree is walked (``typer.main.get_command``), so a new command or option is covered
without being listed here. Each parameter gets hostile values for its kind — ids and decimals
(by the parser ``cli/_options.py`` declares), bounded ints and floats, paths (input or output),
free text — while every other parameter keeps a value that works (``GOOD``). Each case runs
in-process on a copy of one realistic store (the demo's, built once per module) and must:

- never crash: exit 0, 1 or 2; an exit 1 has at most one line on stderr, never "unexpected";
- refuse what is wrong for its type: a bad id, decimal, number or input file never exits 0;
- change nothing when refused: after a usage error (exit 2) or an error line (exit 1) the
  store holds what the copy it started from held. (An exit 1 that reports an outcome on stdout
  — a gate's rejection, a failed fetch — records that outcome, as the audit trail requires.)
- print outside text safely when it is accepted (a hostile *name* may be stored as given).
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import unicodedata
import zlib
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer

from autotrader.cli._options import DecimalParser, IdParser
from autotrader.cli.app import app
from tests.conftest import TEST_DATA
from tests.fakes.demo_store import ACTIVE_ACCOUNT_ID, CLONE_ID, DEMO_NOW, build_demo_store

pytestmark = pytest.mark.slow  # builds the demo store once per module (about ten seconds)

EXAMPLE_PIPELINE = Path(__file__).resolve().parents[2] / "examples/pipelines/btc-eth-rules.json"
CANDLES = TEST_DATA / "candles" / "binance_BTC_USDT-1h.csv"
CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens: a fetch fails at once, no network

# -- hostile values by kind ---------------------------------------------------------------------

ID_VALUES = {"zero": "0", "minus-one": "-1", "2^63": "9223372036854775808", "arabic-5": "\u0665"}
ID_VALUES["exponent"] = "1e3"
DECIMAL_VALUES = {
    "arabic-5": "\u0665",
    "1e-400": "1e-400",
    "1e999999": "1e999999",
    "nan": "NaN",
    "infinity": "Infinity",
    "minus-one": "-1",
}
FLOAT_VALUES = {"inf": "inf", "nan": "nan", "1e999": "1e999", "minus-one": "-1"}
TEXT_VALUES = {
    "empty": "",
    "10k-chars": "x" * 10_000,
    "escapes": "\x1b[2J\x1b]0;owned\x07\x9b31m\x08\rgone",
    "bidi": "abc\u202edcba\u2066x\u2069\u200b",
    "arabic-5": "\u0665",
    "nan": "NaN",
    "1e999999": "1e999999",
    "minus-one": "-1",
    "sql": "x' OR '1'='1'; DROP TABLE prop_accounts; --",
}
INPUT_PATHS = ("a-directory", "missing-file", "binary-file", "deep-json", "the-store")
OUTPUT_PATHS = ("a-directory", "the-store", "in-a-missing-folder")
TEXT_SAMPLE = 4  # text values per text parameter, rotating through TEXT_VALUES

# Values that make each command work, by parameter name; per-command entries win.
GOOD = {
    "account": str(ACTIVE_ACCOUNT_ID),
    "account_id": str(ACTIVE_ACCOUNT_ID),
    "clone_id": str(CLONE_ID),
    "run_id": "1",
    "symbol": "BTC",
    "side": "long",
    "notional": "100",
    "balance": "1000",
    "reason": "review",
    "name": "hostile-check",
    "api_model": "local-model",
    "strength": "1",
    "since": "2026-02-19T12:00:00Z",
    "ref": "fill:1",
    "fmt": "csv",
    "asset": "BTC",
    "model": "gpt-5-mini",
    "models": "rules-stand-in",  # the demo grid's registry entry
    "agent": "sage",
    "handle": "demo-owner",
    "address": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "key": "trade_limits",
    "value": '{"max_daily_trades": 4}',
    "format": "debate",
    # The demo's first of each (one fee, audition and profile version; many desk records).
    **dict.fromkeys(
        ("fee_id", "audition_id", "version_id", "proposal_id", "mission_id", "event_id"), "1"
    ),
    **dict.fromkeys(("signal_id", "memory_id", "roundtable_id"), "1"),
    **dict.fromkeys(("race_id", "ticket_id"), "1"),
}
GOOD_FOR = {
    ("workers", "run"): {"name": "housekeeping"},
    ("ingest", "import"): {"path": str(CANDLES), "timeframe": "1h"},
    ("ingest", "assets", "show"): {"symbol": "BTC"},
    ("clones", "pipeline", "validate"): {"path": str(EXAMPLE_PIPELINE)},
    ("clones", "pipeline", "set"): {"path": str(EXAMPLE_PIPELINE)},
    ("clones", "show"): {"clone_id": str(CLONE_ID)},
    ("clones", "create"): {"clone_id": "77"},
    ("db", "backup"): {"path": "{tmp}/backup.db"},
    ("ingest", "worker"): {"max_ticks": "1"},  # workers tick once and return
    ("ingest", "stream"): {"max_ticks": "1"},  # and find nothing listening on the WebSocket
    ("decisions", "worker"): {"max_ticks": "1"},
    ("prop", "decisions-worker"): {"max_ticks": "1"},
    ("agent", "run"): {"max_ticks": "1"},  # the demo's paper clone: one step, then it stops
    # The demo's race 1 (settled) among clones 7 and 8; its tickets 1-4, alice's the first.
    ("arena", "races", "create"): {
        "start": "2026-02-20T00:00:00Z",
        "duration": "6h",
        "clones": "7,8",
    },
    ("arena", "tickets", "buy"): {"race": "1", "clone_id": "7", "amount": "5", "owner": "alice"},
    ("arena", "races", "worker"): {"max_ticks": "1"},
    # The demo's bundled day (a short window keeps each case fast).
    ("backtest",): {
        "clone_ids": "43",
        "since": "2026-02-19T12:00:00Z",
        "until": "2026-02-19T14:00:00Z",
        "out_dir": "{tmp}/backtests",
    },
}
# Flags a command needs to run once (cron style) or offline.
FLAGS = {("workers", "run"): ["--once"], ("ingest", "assets", "sync"): ["--offline"]}
# --db names the store itself: corrupt and foreign stores are the store's own tests.
SKIPPED_PARAMETERS = {"db", "help"}


@dataclass(frozen=True)
class Case:
    command: tuple[str, ...]
    parameter: str  # the Python name
    shown: str  # how a user names it: ``--account``, or ``ACCOUNT_ID`` for an argument
    label: str
    kind: str  # id | decimal | int | float | text | input-path | output-path
    value: str

    @property
    def id(self) -> str:
        return f"{' '.join(self.command)} {self.shown}={self.label}"


def _commands() -> list[tuple[tuple[str, ...], object]]:
    found = []

    def walk(command, path: tuple[str, ...]) -> None:
        if hasattr(command, "commands"):  # a group (typer vendors its own click)
            for name in command.list_commands(None):
                sub = command.get_command(None, name)  # a lazy group loads here
                if not sub.hidden:
                    walk(sub, (*path, name))
        else:
            found.append((path, command))

    walk(typer.main.get_command(app), ())
    return found


def _kind(command: tuple[str, ...], param) -> str | None:
    descriptor = param.type_descriptor
    parser, annotation = descriptor.parameter_info.parser, descriptor.annotation
    if isinstance(parser, IdParser):
        return "id"
    if isinstance(parser, DecimalParser):
        return "decimal"
    if annotation is bool:
        return None
    if annotation is int:
        return "int"
    if annotation is float:
        return "float"
    if annotation is Path and param.name == "out_dir":
        return "output-folder"  # a folder it writes into: only a file in its place is wrong
    if annotation is Path:
        writes = param.name == "out" or command == ("db", "backup")
        return "output-path" if writes else "input-path"
    return "text"


def _values(case_kind: str, param, salt: int) -> dict[str, str]:
    info = param.type_descriptor.parameter_info
    if case_kind == "id":
        return ID_VALUES
    if case_kind == "decimal":
        values = dict(DECIMAL_VALUES)
        if info.parser.positive:
            values["zero"] = "0"
        return values
    if case_kind == "int":
        low = info.min if info.min is not None else -(2**63)
        high = info.max if info.max is not None else 2**63 - 1
        return {"above-max": str(high + 1), "below-min": str(low - 1), "exponent": "1e3",
                "arabic-5": "\u0665"}  # fmt: skip
    if case_kind == "float":
        return FLOAT_VALUES
    if case_kind == "input-path":
        return {label: label for label in INPUT_PATHS}
    if case_kind == "output-path":
        return {label: label for label in OUTPUT_PATHS}
    if case_kind == "output-folder":
        return {"the-store": "the-store"}
    labels = sorted(TEXT_VALUES)
    chosen = [labels[(salt + i) % len(labels)] for i in range(TEXT_SAMPLE)]
    return {label: TEXT_VALUES[label] for label in chosen}


def _cases() -> list:
    cases = []
    for command, click_command in _commands():
        for param in click_command.params:
            if param.name in SKIPPED_PARAMETERS:
                continue
            kind = _kind(command, param)
            if kind is None:
                continue
            salt = zlib.crc32(f"{command}{param.name}".encode())
            shown = _option(param) or param.name.upper()
            for label, value in _values(kind, param, salt).items():
                case = Case(command, param.name, shown, label, kind, value)
                cases.append(pytest.param(case, id=case.id))
    return cases


# -- running a case -----------------------------------------------------------------------------


def _option(param) -> str | None:
    """The flag that sets ``param`` (``None`` for an argument)."""
    return param.opts[0] if param.param_type_name == "option" else None


def _arguments(case: Case, command, values: dict[str, str]) -> list[str]:
    """The command line: the hostile value for ``case.parameter``, good values for every other
    parameter that needs one (required ones, and those ``GOOD`` names)."""
    args: list[str] = [*case.command]
    chosen = GOOD_FOR.get(case.command, {})
    for param in command.params:
        if param.name in SKIPPED_PARAMETERS:
            continue
        if param.name == case.parameter or param.name in chosen:
            value = values[param.name]
        elif param.required:
            if param.name not in GOOD:
                pytest.fail(f"{case.id}: no good value for the required {param.name!r}")
            value = GOOD[param.name]
        else:
            continue
        flag = _option(param)
        args += [flag, value] if flag else [value]
    if any(p.name == "db" for p in command.params):
        args += ["--db", values["db"]]
    return [*args, *FLAGS.get(case.command, [])]


def _path_value(label: str, tmp: Path, store: Path) -> str:
    if label == "a-directory":
        folder = tmp / "folder.json"
        folder.mkdir()
        return str(folder)
    if label == "missing-file":
        return str(tmp / "missing.json")
    if label == "binary-file":
        binary = tmp / "binary.json"
        binary.write_bytes(bytes(range(256)) * 4)
        return str(binary)
    if label == "deep-json":
        deep = tmp / "deep.json"
        deep.write_text("[" * 100_000 + "]" * 100_000)
        return str(deep)
    if label == "the-store":
        return str(store)
    if label == "in-a-missing-folder":
        return str(tmp / "new" / "folder" / "out.png")
    raise AssertionError(label)


def _contents(path: Path) -> str:
    """The store file's digest, and what its write-ahead log holds: a commit changes the file
    (or, until a checkpoint, leaves frames in the log), so equal digests mean nothing was
    written."""
    wal = Path(f"{path}-wal")
    pending = wal.stat().st_size if wal.exists() else 0
    return f"{hashlib.sha256(path.read_bytes()).hexdigest()} wal={pending}"


def _unsafe(text: str) -> set[str]:
    return {
        c
        for c in text
        if c not in "\n\t" and unicodedata.category(c) in {"Cc", "Cf", "Cs", "Zl", "Zp"}
    }


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[Path, str]:
    """The demo's store with one open BTC position (so `prop close` has one to close), and a
    digest of its contents."""
    from typer.testing import CliRunner

    folder = tmp_path_factory.mktemp("hostile")
    path = build_demo_store(folder)
    env = {"AUTOTRADER_NOW": DEMO_NOW, "AUTOTRADER_DATA_DIR": str(folder / "data")}
    order = [
        "prop",
        "order",
        "--account",
        str(ACTIVE_ACCOUNT_ID),
        "--symbol",
        "BTC",
        "--side",
        "long",
    ]
    result = CliRunner().invoke(app, [*order, "--notional", "100", "--db", str(path)], env=env)
    assert result.exit_code == 0, result.output
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path, _contents(path)


COMMANDS = dict(_commands())
_CLICK_COMMAND = typer.main.get_command(app)


@pytest.fixture
def cli(runner, monkeypatch):
    """The CLI in-process, as the conftest's ``cli``, but on one click command tree: typer's
    runner rebuilds it on every invoke (a tenth of a second, most of a refused case's time)."""
    monkeypatch.setattr("typer.testing._get_command", lambda _app: _CLICK_COMMAND)
    return lambda *args: runner.invoke(app, list(args))


@pytest.mark.parametrize("case", _cases())
def test_a_hostile_value_is_refused_or_handled_safely(case, template, cli, tmp_path, monkeypatch):
    source, digest = template
    store = Path(shutil.copyfile(source, tmp_path / "store.db"))
    monkeypatch.setenv("AUTOTRADER_NOW", DEMO_NOW)
    monkeypatch.setenv("AUTOTRADER_LOG_LEVEL", "ERROR")
    monkeypatch.setenv("AUTOTRADER_HTTP_RETRIES", "0")
    for name in ("HYPERLIQUID", "POLYMARKET_GAMMA", "POLYMARKET_CLOB", "DEFILLAMA"):
        monkeypatch.setenv(f"AUTOTRADER_{name}_URL", CLOSED_PORT)
    monkeypatch.setenv("AUTOTRADER_DEFILLAMA_STABLECOINS_URL", CLOSED_PORT)
    monkeypatch.setenv("AUTOTRADER_HYPERLIQUID_WS_URL", CLOSED_PORT.replace("http", "ws"))
    value = case.value
    if case.kind.endswith(("path", "folder")):
        value = _path_value(case.label, tmp_path, store)
    values = {case.parameter: value, "db": str(store)}
    good = {k: v.format(tmp=tmp_path) for k, v in GOOD_FOR.get(case.command, {}).items()}
    values.update({k: v for k, v in good.items() if k != case.parameter})
    args = _arguments(case, COMMANDS[case.command], values)

    result = cli(*args)

    output = result.stdout + result.stderr
    assert result.exit_code in (0, 1, 2), (args, output, result.exception)
    assert "Traceback" not in output
    assert "unexpected" not in result.stderr, result.stderr
    errors = result.stderr.strip().splitlines()
    if result.exit_code == 1:
        assert len(errors) <= 1, result.stderr
    creates_a_folder = case.label == "in-a-missing-folder"  # a fine output path
    refusable = ("id", "decimal", "int", "float", "input-path", "output-path", "output-folder")
    if case.kind in refusable and not creates_a_folder:
        assert result.exit_code != 0, f"accepted {case.label!r}: {output}"
    # A worker's failed tick is history the harness must keep (its heartbeat, its tick row).
    ran_a_tick = result.exit_code == 1 and any(
        p.name == "max_ticks" for p in COMMANDS[case.command].params
    )
    if result.exit_code == 2 or (result.exit_code == 1 and errors and not ran_a_tick):
        assert _contents(store) == digest, "a refused command changed the store"
    else:
        assert _unsafe(output) == set(), "accepted outside text was printed raw"
