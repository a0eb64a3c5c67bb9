"""Shared fixtures: an isolated environment, a fresh store, a CLI runner."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from typer.testing import CliRunner

from autotrader.bootstrap import open_store
from autotrader.core.clock import SimulatedClock
from autotrader.core.settings import load_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
# Every file a test reads ships in the repository; tests/data/README.md says where each came from.
TEST_DATA = REPO_ROOT / "tests" / "data"
# What the browser tests leave to look at (git-ignored); the summary names it after a run.
SCREENSHOTS = REPO_ROOT / ".artifacts" / "screenshots"
_SESSION_STARTED = time.time()  # this conftest is imported as the test session starts


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Name the screenshots this run took (the browser tests run in an xdist worker, whose own
    output is not shown)."""
    if not SCREENSHOTS.is_dir():
        return
    taken = [p for p in SCREENSHOTS.glob("*.png") if p.stat().st_mtime >= _SESSION_STARTED]
    if taken:
        terminalreporter.write_line(f"browser screenshots ({len(taken)}): {SCREENSHOTS}")


# Hypothesis profiles, chosen by HYPOTHESIS_PROFILE: "dev" (the default) for quick local runs,
# "ci" (.ci/run) for more examples, derandomized so that a red CI run replays as it failed.
# Neither has a deadline nor the too_slow health check: both time the machine, and the suite
# runs in parallel on shared cores; a slow example is not a wrong one.
_UNTIMED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
hypothesis_settings.register_profile("dev", max_examples=50, **_UNTIMED)
hypothesis_settings.register_profile(
    "ci", max_examples=200, derandomize=True, print_blob=True, database=None, **_UNTIMED
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def examples(n: int) -> int:
    """``n`` property-test examples scaled to the profile: ``n`` under Hypothesis's default of
    100, half of it under "dev", twice it under "ci". For tests whose examples cost more or
    less than usual: ``@settings(max_examples=examples(300))``."""
    return max(1, n * hypothesis_settings.default.max_examples // 100)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test sees the developer's environment, .env file or data folder."""
    for name in list(os.environ):
        if name.startswith(("AUTOTRADER_", "OPENAI_")):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("AUTOTRADER_DATA_DIR", str(home / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(autouse=True)
def pristine_logging():
    """Every in-process CLI invoke configures the ``autotrader`` logger (its level, handler and
    propagation): after each test it is put back as Python made it, so a test that ran the CLI
    with ``AUTOTRADER_LOG_LEVEL=ERROR`` does not hide the next test's warnings from caplog."""
    yield
    logger = logging.getLogger("autotrader")
    logger.setLevel(logging.NOTSET)
    logger.handlers.clear()
    logger.propagate = True


@pytest.fixture
def settings(store_backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    if store_backend == "postgres":
        # Every store the test opens from settings (its own, the CLI's) is the test's database.
        monkeypatch.setenv("AUTOTRADER_DB", request.getfixturevalue("postgres_url"))
    return load_settings()


@pytest.fixture
def store(tmp_path: Path, settings, store_backend: str):
    path = settings.db_url if store_backend == "postgres" else tmp_path / "test.db"
    store = open_store(settings, path=path)
    yield store
    store.close()


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(1_700_000_000_000)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli(runner: CliRunner):
    """Invoke the CLI in-process: ``cli("db", "status", "--json")`` returns the click Result."""
    from autotrader.cli.app import app

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input)

    return invoke


# -- both backends ---------------------------------------------------------------------------
#
# A test module (or test) marked ``both_backends`` runs once on SQLite and once on PostgreSQL:
# its ``settings`` and ``store`` fixtures (and so every store the CLI opens from settings) point
# at a fresh database of a real server this session starts (tests/postgres_server.py). The
# PostgreSQL runs carry the ``postgres`` marker (``pytest -m postgres`` runs only them) and skip,
# saying why, where the server binaries or psycopg are missing.


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "both_backends"
    ):
        metafunc.parametrize(
            "store_backend",
            ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
            indirect=True,
        )


@pytest.fixture
def store_backend(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL server per test process, with a template database already migrated (each
    test's database is a copy of it: a CREATE DATABASE, not 170 migrations)."""
    from tests import postgres_server

    reason = postgres_server.unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    with postgres_server.running_server() as server:
        postgres_server.create_database(server, postgres_server.TEMPLATE)
        open_store(load_settings(env_file=None), path=server.url(postgres_server.TEMPLATE)).close()
        yield server


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """The URL of a fresh, migrated database on the session's server."""
    from tests import postgres_server as pg

    return pg.create_database(postgres_server, pg.next_name(), template=pg.TEMPLATE)


@pytest.fixture
def empty_postgres_url(postgres_server) -> str:
    """The URL of a fresh database with nothing in it (no migrations)."""
    from tests import postgres_server as pg

    return pg.create_database(postgres_server, pg.next_name())
