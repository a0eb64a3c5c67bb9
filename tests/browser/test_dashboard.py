"""Every dashboard page in headless Chromium: it loads with no JavaScript error, shows what it
is for (the leaderboard's rows, the account's chart, the trace's chain down to the prompt),
refreshes in place without a reload, and fits a phone's width. Screenshots are saved."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.xdist_group("processes")]


def visit(browser, live, path: str, artifacts_dir, name: str, size=DESKTOP):
    browser.get_log("browser")  # what earlier tests left there is theirs
    browser.set_window_size(*size)
    browser.get(live.url + path)
    browser.execute_script("return document.readyState")  # the page and its scripts ran
    time.sleep(0.3)  # uPlot draws on DOMContentLoaded; give it a frame
    browser.save_screenshot(str(artifacts_dir / f"{name}.png"))
    return browser


def js_errors(browser) -> list[str]:
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]


@pytest.mark.parametrize(
    ("path", "name", "marker"),
    [
        ("/", "leaderboard", "#leaderboard tbody tr"),
        ("/admin/ingestion", "ingestion", "#ingestion tbody tr"),
        ("/workers", "workers", "#jobs tbody tr"),
        ("/decisions", "decisions", "#runs tbody tr"),
        ("/docs", "api-docs", ".swagger-ui .opblock"),
    ],
)
def test_each_page_loads_without_a_javascript_error(
    browser, live, artifacts_dir, path, name, marker
):
    visit(browser, live, path, artifacts_dir, name)
    deadline = time.monotonic() + 10
    while not browser.find_elements(By.CSS_SELECTOR, marker):
        assert time.monotonic() < deadline, f"{marker} never appeared on {path}"
        time.sleep(0.1)
    assert js_errors(browser) == []


def test_the_leaderboard_links_each_account_to_its_page(browser, live, world, artifacts_dir):
    visit(browser, live, "/", artifacts_dir, "leaderboard-links")
    links = {
        a.text for a in browser.find_elements(By.CSS_SELECTOR, "#leaderboard a[href^='/accounts/']")
    }
    assert links == {f"account {world.llm_account}", f"account {world.manual_account}"}


def test_the_account_page_draws_the_equity_and_drawdown_chart(browser, live, world, artifacts_dir):
    visit(browser, live, f"/accounts/{world.llm_account}", artifacts_dir, "account")
    canvas = browser.find_element(By.CSS_SELECTOR, "#equity-chart canvas")
    assert canvas.size["width"] > 600
    assert canvas.size["height"] > 200
    legend = browser.find_element(By.CSS_SELECTOR, "#equity-chart .u-legend").text
    assert "equity" in legend
    assert "drawdown" in legend
    positions = browser.find_element(By.ID, "open-positions").text
    assert "stop 60000" in positions
    assert "target 75000" in positions
    assert browser.execute_script("return window.autotrader.charts") >= 1
    assert js_errors(browser) == []


def test_the_trace_page_walks_from_the_fill_to_the_prompt(browser, live, world, artifacts_dir):
    visit(browser, live, f"/trace/fill:{world.llm_fill}", artifacts_dir, "trace")
    chain = browser.find_element(By.ID, "trace").text
    for step in (f"fill:{world.llm_fill}", "→ order:", "→ gates", "→ intent:",
                 f"run:{world.llm_run}", "→ model call", "trader gpt-5-mini"):  # fmt: skip
        assert step in chain, step
    prompt = browser.find_element(By.CSS_SELECTOR, "details.artifact[open] pre").text
    assert "BTC" in prompt
    assert js_errors(browser) == []


def test_the_trace_box_in_the_header_finds_a_run(browser, live, world, artifacts_dir):
    visit(browser, live, "/", artifacts_dir, "trace-box")
    box = browser.find_element(By.NAME, "ref")
    box.send_keys(f"run {world.llm_run}".replace(" ", ":"))
    box.submit()
    deadline = time.monotonic() + 5
    while f"/trace/run:{world.llm_run}" not in browser.current_url:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert "→ model call" in browser.find_element(By.ID, "trace").text


def test_pages_refresh_in_place_without_a_full_reload(browser, live, world, artifacts_dir):
    visit(browser, live, f"/accounts/{world.llm_account}", artifacts_dir, "refresh")
    browser.execute_script("window.__loadedOnce = true")
    deadline = time.monotonic() + 8
    while browser.execute_script("return window.autotrader.refreshes") < 2:
        assert time.monotonic() < deadline, "the page never refreshed itself"
        time.sleep(0.1)
    assert browser.execute_script("return window.__loadedOnce") is True  # same document
    assert browser.find_elements(By.CSS_SELECTOR, "#equity-chart canvas")  # chart redrawn
    assert "updated" in browser.find_element(By.ID, "refresh-status").text
    assert js_errors(browser) == []


@pytest.mark.parametrize(
    "path", ["/", "/accounts/1", "/trace/fill:1", "/admin/ingestion", "/workers", "/decisions"]
)
def test_every_page_fits_a_phone_screen(browser, live, artifacts_dir, path):
    name = "phone-" + (path.strip("/").replace("/", "-").replace(":", "-") or "leaderboard")
    visit(browser, live, path, artifacts_dir, name, size=PHONE)
    page_width = browser.execute_script("return document.documentElement.scrollWidth")
    view_width = browser.execute_script("return window.innerWidth")
    assert page_width <= view_width, f"{path} scrolls sideways on a phone"
    assert js_errors(browser) == []
