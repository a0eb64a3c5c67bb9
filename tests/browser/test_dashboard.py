"""Every dashboard page in headless Chromium: it loads with no JavaScript error, shows what it
is for (the leaderboard's rows, the account's chart, the trace's chain down to the prompt),
refreshes in place without a reload, and fits a phone's width. Screenshots are saved."""

from __future__ import annotations

import time

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

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


def until(browser, condition, what: str, timeout: float = 10.0):
    """``condition(browser)``'s first truthy value, retried while the page is still drawing: the
    pages refresh in place every second, so an element found a moment ago may be replaced."""
    wait = WebDriverWait(
        browser,
        timeout,
        poll_frequency=0.1,
        ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
    )
    return wait.until(condition, message=f"{what} within {timeout:g} s")


def text_of(selector: str):
    return lambda browser: browser.find_element(By.CSS_SELECTOR, selector).text


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
    until(browser, lambda b: b.find_elements(By.CSS_SELECTOR, marker), f"{marker} on {path}")
    assert js_errors(browser) == []


def test_the_leaderboard_links_each_account_to_its_page(browser, live, world, artifacts_dir):
    visit(browser, live, "/", artifacts_dir, "leaderboard-links")
    links = until(
        browser,
        lambda b: {
            a.text for a in b.find_elements(By.CSS_SELECTOR, "#leaderboard a[href^='/accounts/']")
        },
        "the leaderboard's account links",
    )
    assert links == {f"account {world.llm_account}", f"account {world.manual_account}"}


def test_the_account_page_draws_the_equity_and_drawdown_chart(browser, live, world, artifacts_dir):
    visit(browser, live, f"/accounts/{world.llm_account}", artifacts_dir, "account")
    # Read in one script: the chart is redrawn on every refresh, replacing its canvas.
    until(
        browser,
        lambda b: b.execute_script(
            "const c = document.querySelector('#equity-chart canvas');"
            "return c && c.clientWidth > 600 && c.clientHeight > 200"
            " ? [c.clientWidth, c.clientHeight] : null"
        ),
        "an equity chart wider than 600 px and taller than 200 px",
    )
    legend = until(browser, text_of("#equity-chart .u-legend"), "the chart's legend")
    assert "equity" in legend
    assert "drawdown" in legend
    positions = until(browser, text_of("#open-positions"), "the open positions")
    assert "stop 60000" in positions
    assert "target 75000" in positions
    assert browser.execute_script("return window.autotrader.charts") >= 1
    assert js_errors(browser) == []


def test_the_trace_page_walks_from_the_fill_to_the_prompt(browser, live, world, artifacts_dir):
    visit(browser, live, f"/trace/fill:{world.llm_fill}", artifacts_dir, "trace")
    chain = until(browser, text_of("#trace"), "the trace")
    for step in (f"fill:{world.llm_fill}", "→ order:", "→ gates", "→ intent:",
                 f"run:{world.llm_run}", "→ model call", "trader gpt-5-mini"):  # fmt: skip
        assert step in chain, step
    prompt = until(browser, text_of("details.artifact[open] pre"), "the prompt")
    assert "BTC" in prompt
    assert js_errors(browser) == []


def test_the_trace_box_in_the_header_finds_a_run(browser, live, world, artifacts_dir):
    visit(browser, live, "/", artifacts_dir, "trace-box")
    box = browser.find_element(By.NAME, "ref")
    box.send_keys(f"run {world.llm_run}".replace(" ", ":"))
    box.submit()
    until(browser, lambda b: f"/trace/run:{world.llm_run}" in b.current_url, "the run's trace")
    assert "→ model call" in until(browser, text_of("#trace"), "the trace")


def test_pages_refresh_in_place_without_a_full_reload(browser, live, world, artifacts_dir):
    visit(browser, live, f"/accounts/{world.llm_account}", artifacts_dir, "refresh")
    browser.execute_script("window.__loadedOnce = true")
    until(
        browser,
        lambda b: b.execute_script("return window.autotrader.refreshes") >= 2,
        "two refreshes in place",
    )
    assert browser.execute_script("return window.__loadedOnce") is True  # same document
    assert browser.find_elements(By.CSS_SELECTOR, "#equity-chart canvas")  # chart redrawn
    assert "updated" in until(browser, text_of("#refresh-status"), "the refresh status")
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
