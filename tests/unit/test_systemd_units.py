"""The systemd units in ``scripts/systemd/`` start commands that exist, with options they take;
the agent's unit restarts on failure and gives a step the time to finish on SIGTERM."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest

from autotrader.core.settings import Settings

UNITS = Path(__file__).resolve().parents[2] / "scripts" / "systemd"
EXECUTABLE = "%h/autotrader/.venv/bin/autotrader"


def service(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Service"]


def command_line(path: Path) -> list[str]:
    """The autotrader arguments of the unit's ExecStart, a template's instance as clone 42."""
    executable, *args = shlex.split(service(path)["ExecStart"])
    assert executable == EXECUTABLE
    return [arg.replace("%i", "42") for arg in args]


@pytest.mark.parametrize("path", sorted(UNITS.glob("*.service")), ids=lambda p: p.name)
def test_every_unit_starts_a_command_that_exists_with_options_it_takes(path, cli):
    args = command_line(path)
    result = cli(*args, "--help")  # an unknown command or option is a usage error (exit 2)
    assert result.exit_code == 0, (args, result.output)


def test_the_agent_unit_runs_the_clone_named_by_its_instance():
    assert command_line(UNITS / "autotrader-agent@.service") == [
        "agent",
        "run",
        "--clone-id",
        "42",
    ]


def test_the_agent_unit_restarts_on_failure_and_waits_for_a_committee_step_to_finish():
    unit = service(UNITS / "autotrader-agent@.service")
    assert unit["Restart"] == "on-failure"
    assert unit["KillSignal"] == "SIGTERM"
    assert "User" not in unit  # a user unit: it runs as the user who installed it, never root
    assert unit["EnvironmentFile"].endswith("/.env")
    assert unit["WorkingDirectory"] == "%h/autotrader"
    defaults = Settings()
    # Planner, Trader and Judge, each call up to its timeout, retried llm_retries times.
    committee_step_s = 3 * defaults.llm_timeout * (defaults.llm_retries + 1)
    assert committee_step_s < int(unit["TimeoutStopSec"])
