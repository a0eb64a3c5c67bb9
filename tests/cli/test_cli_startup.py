"""Start-up cost: the root's help and an everyday read import none of the heavy libraries, and
the root's help lists every command as the command itself describes it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autotrader.cli.app import ENTRIES
from tests.fakes.ledger_scenario import build_scenario_file

HEAVY = ("matplotlib", "ccxt", "pandas", "openai", "boto3")

# Runs the CLI in a fresh interpreter, then writes which heavy modules it imported to a file.
_PROBE = """
import json, sys
from autotrader.cli.app import main
out, heavy, args = sys.argv[1], sys.argv[2].split(","), sys.argv[3:]
sys.argv = ["autotrader", *args]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
groups = sorted(
    m.split(".")[2] for m in sys.modules
    if m.startswith("autotrader.cli.") and not m.split(".")[2].startswith(("_", "app"))
)
imported = [m for m in heavy if m in sys.modules]
with open(out, "w") as f:
    json.dump({"code": code, "imported": imported, "groups": groups}, f)
"""


def _imports_of(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "probe.json"
    subprocess.run(
        [sys.executable, "-c", _PROBE, str(out), ",".join(HEAVY), *args],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return json.loads(out.read_text(encoding="utf-8"))


def test_root_help_imports_no_heavy_library_and_no_command_group(tmp_path):
    probe = _imports_of(tmp_path, "--help")

    assert probe == {"code": 0, "imported": [], "groups": []}


@pytest.mark.slow  # builds the ledger scenario store (a few seconds)
def test_ledger_show_on_a_store_with_trades_imports_no_heavy_library(tmp_path):
    path, _scenario = build_scenario_file(tmp_path)

    probe = _imports_of(tmp_path, "ledger", "show", "--db", str(path))

    assert probe == {"code": 0, "imported": [], "groups": ["ledger", "ledger_render"]}


def test_every_summary_in_the_root_help_is_its_commands_own_first_paragraph():
    for entry in ENTRIES:
        own = (entry.load().help or "").split("\n\n")[0].strip()
        assert entry.summary == own, entry.name
