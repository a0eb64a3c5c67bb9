"""Headless Chromium from the OS packages (Debian's ``chromium`` and ``chromium-driver``, found
on the PATH), driven by Selenium against the real server. Nothing is downloaded: when the browser
or its driver is not installed, every test here is skipped with the reason (``.ci/run`` installs
them when it can). Screenshots are test artifacts in ``.artifacts/screenshots/`` (git-ignored);
the run's summary says where.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autotrader.core.clock import SimulatedClock
from autotrader.server.app import create_app
from tests.conftest import SCREENSHOTS
from tests.fakes.live_server import LiveServer
from tests.fakes.server_world import copy_world, server_world, settings_for

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
# What works in a container without a display, a GPU or the network.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
DESKTOP = (1280, 1000)
PHONE = (390, 844)


def _missing() -> str | None:
    for name, path in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)):
        if path is None:
            return f"{name} is not installed (apt-get install chromium chromium-driver)"
    return None


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return copy_world(server_world(tmp_path_factory), tmp_path_factory.mktemp("browser-world"))


@pytest.fixture(scope="module")
def live(world):
    settings = settings_for(world.path, world.artifacts, server_refresh_s=1)
    app = create_app(settings, clock=SimulatedClock(world.now_ms))
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One browser per module (starting Chromium takes a second or two)."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tmp_path_factory.mktemp("chromium-profile")
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size={},{}".format(*DESKTOP))
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
