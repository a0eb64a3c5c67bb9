"""The ``--json`` contract, across every command: decimals are strings.

One walk over the whole CLI (found by introspection, so a new command is walked without being
listed) against a demo store, with the outside services it reaches as loopback fakes: every
command that takes ``--json`` must succeed and print JSON in which no number is a float — a
price, a volume, an indicator, money, a ratio or a duration comes as decimal text. Commands
that need a value are given one from the demo store in ``ARGUMENTS``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from autotrader.cli.app import app
from tests.fakes.alert_receiver import FakeAlertReceiver
from tests.fakes.hyperliquid_server import FakeHyperliquid
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.roundtable import Talk

DEMO_NOW = "2026-02-19T19:20:00Z"  # the demo's replay clock: the close of its last bundled bar
PIPELINE = Path(__file__).resolve().parents[2] / "autotrader" / "data" / "pipelines"

# Values from the demo store: clone 42 (its audition failed, its accounts finalized), clone 43
# with an active sandbox account 2 and a verified fee 4 (see ``demo_store``; the arena
# hopefuls' fees are 1 and 2, clone 42's 3), decision run 1,
# desk agent ATLAS and its first records. In CLI order, so a command can use what an earlier
# one created: clone 42's new fee 5, verified, then its retry.
ARGUMENTS: dict[str, tuple[str, ...]] = {
    "ingest run-once": ("--source", "hyperliquid", "--symbols", "BTC"),
    "backtest": (
        "--clone-id",
        "43",
        "--from",
        "2026-02-19T12:00:00Z",
        "--to",
        "2026-02-19T14:00:00Z",
    ),
    "arena races create": (
        "--start",
        "2026-02-20T00:00:00Z",
        "--duration",
        "6h",
        "--clones",
        "7,8",
    ),
    "arena races show": ("1",),
    "arena tickets buy": ("--race", "2", "--clone-id", "7", "--amount", "5", "--owner", "alice"),
    "arena tickets show": ("1",),
    "arena tickets verify": ("5", "--reference", "t-5", "--reason", "ok"),
    "ingest latest": ("--symbol", "BTC"),
    "ingest assets show": ("BTC",),
    "prop order": ("--account", "2", "--symbol", "BTC", "--side", "short", "--notional", "100"),
    "prop close": ("--account", "2", "--symbol", "BTC"),
    "prop accounts create": ("--clone-id", "43", "--balance", "1000", "--kind", "sandbox"),
    "prop accounts show": ("2",),
    "clones create": ("--name", "walker"),
    "clones show": ("42",),
    "clones context": ("--clone-id", "42", "--asset", "BTC"),
    "clones pipeline validate": (str(PIPELINE / "btc-eth-rules.json"),),
    "clones pipeline history": ("--clone-id", "42"),
    "clones pipeline compile": ("--clone-id", "42"),
    "clones entitlements show": ("--clone-id", "42"),
    "decisions run-once": ("--clone-id", "43"),
    "decisions show": ("1",),
    "ledger trace": ("run:1",),
    "arena-models setup": ("--models", "gpt-5-mini", "--balance", "1000"),
    "desk agents show": ("ATLAS",),
    "desk proposals show": ("1",),
    "desk missions show": ("1",),
    "desk events show": ("1",),
    "desk signals show": ("1",),
    "desk roundtables run": ("--format", "morning_standup"),
    "desk roundtables show": ("1",),
    "desk memory show": ("1",),
    "lifecycle status": ("--clone-id", "42"),
    "lifecycle fees request": ("--clone-id", "42"),
    "lifecycle fees show": ("1",),
    "lifecycle fees verify": ("5", "--verifier", "manual", "--reference", "r-5", "--reason", "ok"),
    "lifecycle auditions submit": ("--clone-id", "43"),
    "lifecycle auditions retry": ("--clone-id", "42"),
    "lifecycle auditions show": ("1",),
    "lifecycle profiles set": ("--clone-id", "42", "--name", "Walker"),
    "lifecycle profiles show": ("--clone-id", "42"),
    "lifecycle arena show": ("--clone-id", "42"),
}


# Commands whose --json needs a real-venue account, credentials and the fake exchange: their
# JSON goes through the same encoder and tests/cli/test_cli_live.py runs them.
NEEDS_A_VENUE = {"live check"}


class _Float(str):
    """A JSON float as parsed (``json.loads(parse_float=...)``): where the contract broke."""


def _floats(node: object, path: str = "$") -> Iterator[str]:
    if isinstance(node, _Float):
        yield f"{path}={node}"
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _floats(value, f"{path}.{key}")
    elif isinstance(node, list):
        for value in node:
            yield from _floats(value, f"{path}[]")


def _json_commands() -> Iterator[tuple[str, set[str]]]:
    """Every visible command taking ``--json``, in CLI order, with its option names."""

    def walk(command, path: tuple[str, ...]):
        if hasattr(command, "commands"):  # a group
            for name in command.list_commands(None):
                sub = command.get_command(None, name)  # a lazy group loads here
                if not sub.hidden:
                    yield from walk(sub, (*path, name))
            return
        options = {name for param in command.params for name in getattr(param, "opts", ())}
        if "--json" in options:
            yield " ".join(path), options

    yield from walk(typer.main.get_command(app), ())


@pytest.fixture
def demo_store(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "demo.db"
    result = cli("demo", "--db", str(path), "--quiet")
    assert result.exit_code == 0, result.stderr
    monkeypatch.setenv("AUTOTRADER_NOW", DEMO_NOW)
    monkeypatch.setenv("AUTOTRADER_AUDITION_COOLDOWN_HOURS", "0")  # clone 42 may retry at once
    walked = str(tmp_path / "walked.db")  # commands write (orders, fees): never into the demo
    shutil.copy(path, walked)
    verify = ("verify", "4", "--verifier", "manual", "--reference", "r-4", "--reason", "walk")
    for setup in (("request", "--clone-id", "43"), verify):
        result = cli("lifecycle", "fees", *setup, "--db", walked)
        assert result.exit_code == 0, result.stderr
    return walked


@pytest.fixture
def outside_services(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with FakeHyperliquid() as hyperliquid, FakeOpenAI() as model, FakeAlertReceiver() as hook:
        model.responder = Talk()
        monkeypatch.setenv("AUTOTRADER_HYPERLIQUID_URL", hyperliquid.url)
        monkeypatch.setenv("AUTOTRADER_HTTP_RETRIES", "0")
        monkeypatch.setenv("OPENAI_BASE_URL", model.url)
        monkeypatch.setenv("AUTOTRADER_ALERT_URLS", hook.apprise_url)
        yield


@pytest.mark.slow  # a whole demo run, then some eighty commands
def test_every_json_output_writes_decimals_as_strings_never_as_floats(
    cli, demo_store, outside_services
) -> None:
    broken: dict[str, list[str]] = {}
    walked = []
    for name, options in _json_commands():
        if name in NEEDS_A_VENUE:
            continue
        args = [*name.split(), *ARGUMENTS.get(name, ()), "--json"]
        if "--db" in options:
            args += ["--db", demo_store]
        result = cli(*args)
        assert result.exit_code == 0, f"{name}: {result.stderr or result.stdout}"
        found = list(_floats(json.loads(result.stdout, parse_float=_Float)))
        if found:
            broken[name] = found[:5]
        walked.append(name)

    assert broken == {}
    assert len(walked) >= 80  # the walk reached the whole CLI, not a corner of it
    assert set(ARGUMENTS) <= set(walked)  # every argument set still names a command
