"""Audition verdicts and race settlements are alert events, through the real apprise client to
a loopback webhook: each noticed once, past ones treated as history, routed by family."""

from __future__ import annotations

import pytest

from autotrader.alerts.channels import channels_from_settings, parse_event_filter
from autotrader.alerts.delivery import Deliverer
from autotrader.alerts.events import EventScan
from autotrader.clones.management import create_clone
from autotrader.core.settings import load_settings
from tests.fakes.alert_receiver import FakeAlertReceiver
from tests.fakes.arena import arena_store, new_race, paid_ticket, run_race
from tests.fakes.lifecycle import end_window, evaluator, start_audition


@pytest.fixture
def hook():
    with FakeAlertReceiver() as receiver:
        yield receiver


@pytest.fixture
def world(tmp_path):
    store, clock, settings = arena_store(tmp_path / "alerts.db")
    yield store, clock, settings
    store.close()


def alerts(store, clock, hook, events: str = ""):
    settings = load_settings(env_file=None, alert_urls=f"{events}{'=' if events else ''}"
                                                       f"{hook.apprise_url}")  # fmt: skip
    channels = channels_from_settings(settings)
    scan = EventScan(store, clock, channels, events=parse_event_filter("all"),
                     worker_stale_after_s=300)  # fmt: skip
    return scan, Deliverer(store, clock, channels, rate_limit=30, retries=0)


def test_an_audition_verdict_is_news_once_and_earlier_ones_are_history(world, hook):
    store, clock, settings = world
    scan, deliver = alerts(store, clock, hook)
    assert scan.run() == []  # the three verdicts that admitted the arena are history
    create_clone(store, clock, name="hopeful", clone_id=45, owner="dave")
    audition = start_audition(store, clock, settings, 45)
    end_window(clock, settings)
    evaluator(store, clock, settings).evaluate_due()
    [event] = scan.run()
    assert (event.event, event.key) == ("audition.passed", f"audition:{audition['id']}")
    assert scan.run() == []
    deliver.run()
    [message] = hook.messages
    assert message["title"] == "autotrader: clone 45 passed its audition"
    assert "every criterion met" in message["message"]


def test_a_settled_race_alerts_its_finish_and_pool_to_the_channels_that_want_races(world, hook):
    store, clock, settings = world
    scan, deliver = alerts(store, clock, hook, events="race")
    scan.run()
    race = new_race(store, clock, settings)
    paid_ticket(store, clock, settings, race["id"], 42, "bob", "10")
    run_race(store, clock, settings, race)
    [event] = scan.run()
    assert event.event == "race.settled"
    deliver.run()
    [message] = hook.messages
    assert message["title"] == "autotrader: race 1 settled, clone 42 won"
    text = message["message"]
    assert "1. clone 42, 2. clone 43, 3. clone 44; pool 10 USDC (1 paid tickets)" in text
