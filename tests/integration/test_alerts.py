"""Alerts through the real apprise client to a loopback webhook (apprise's ``json://`` target):
what is noticed (fills, exits, frozen accounts, unhealthy workers), per-event filters, retries
with back-off, rate limits, the delivery log, and a failing channel that never blocks."""

from __future__ import annotations

import pytest

from autotrader.alerts.channels import Channel, channels_from_settings, parse_event_filter
from autotrader.alerts.delivery import Deliverer, retry_delay_ms
from autotrader.alerts.events import EventScan
from autotrader.alerts.repo import recent_deliveries
from autotrader.core import repo as core_repo
from autotrader.core.clock import MINUTE_MS
from autotrader.core.errors import ConfigError
from autotrader.core.settings import load_settings
from autotrader.prop.admin import admin_action
from tests.fakes.alert_receiver import FakeAlertReceiver
from tests.fakes.decisions import open_test_store
from tests.fakes.server_world import copy_world, server_world, world_clock


@pytest.fixture
def hook():
    with FakeAlertReceiver() as receiver:
        yield receiver


@pytest.fixture
def setup(tmp_path, tmp_path_factory):
    world = copy_world(server_world(tmp_path_factory), tmp_path / "w")
    store = open_test_store(world.path)
    yield world, store, world_clock(world)
    store.close()


def alerts(store, clock, channels, *, events="all", rate_limit=30, retries=2):
    scan = EventScan(
        store, clock, channels, events=parse_event_filter(events), worker_stale_after_s=300
    )
    return scan, Deliverer(store, clock, channels, rate_limit=rate_limit, retries=retries)


def channel(hook, events: str = "") -> Channel:
    settings = load_settings(
        env_file=None, alert_urls=f"{events + '=' if events else ''}{hook.apprise_url}"
    )
    [made] = channels_from_settings(settings)
    return made


def close_btc(store, clock, world) -> None:
    """An admin close of the llm account's BTC position: a CLOSE fill through the engine."""
    from autotrader.bootstrap import prop_desk
    from autotrader.prop.models import parse_intent

    desk = prop_desk(store, clock)
    submission = desk.submit(world.llm_account, parse_intent({"action": "CLOSE", "symbol": "BTC"}))
    assert submission.accepted, submission.reason


def test_the_first_scan_treats_past_fills_as_history_and_later_fills_as_news(setup, hook):
    world, store, clock = setup
    scan, deliver = alerts(store, clock, [channel(hook)])
    assert [e.event for e in scan.run()] == []
    close_btc(store, clock, world)
    [event] = scan.run()
    assert (event.event, event.key) == ("fill", event.key)
    assert deliver.run().sent == 1
    [message] = hook.messages
    assert message["title"] == f"autotrader: close BTC, account {world.llm_account}"
    assert "CLOSE SELL 0.01 BTC" in message["message"]
    assert message["path"] == "/hook"


def test_an_exit_by_stop_is_its_own_event_and_the_filter_routes_it(setup, hook):
    world, store, clock = setup
    from autotrader.bootstrap import precision
    from autotrader.prop import repo as prop_repo
    from autotrader.prop.mtm import MarkToMarket

    exits_only = channel(hook, "exit")
    scan, deliver = alerts(store, clock, [exits_only])
    scan.run()
    btc = next(
        p for p in prop_repo.open_positions(store, world.llm_account) if p["symbol"] == "BTC"
    )
    # A long's stop fires when the price is at or below it: one far above the market fires on
    # the next mark.
    prop_repo.update_position(store, btc["id"], stop="99000")
    clock.advance(ms=10 * MINUTE_MS)
    MarkToMarket(store, clock, precision(store, clock)).run([world.llm_account])
    [event] = scan.run()
    assert event.event == "exit.stop"
    deliver.run()
    [message] = hook.messages
    assert message["title"] == f"autotrader: BTC stop exit, account {world.llm_account}"


def test_a_channel_that_does_not_want_an_event_gets_no_delivery(setup, hook):
    world, store, clock = setup
    scan, deliver = alerts(store, clock, [channel(hook, "worker")])
    scan.run()
    close_btc(store, clock, world)
    assert scan.run() == []  # a fill, and the only channel takes worker events
    assert deliver.run().attempted == 0
    assert hook.messages == []


def test_the_global_event_filter_narrows_every_channel(setup, hook):
    world, store, clock = setup
    scan, _ = alerts(store, clock, [channel(hook)], events="account,worker")
    scan.run()
    close_btc(store, clock, world)
    assert scan.run() == []


def test_a_frozen_account_and_a_degraded_or_stale_worker_alert_once_each(setup, hook):
    world, store, clock = setup
    from autotrader.bootstrap import precision

    scan, deliver = alerts(store, clock, [channel(hook)])
    scan.run()
    admin_action(store, clock, precision(store, clock), account_id=world.manual_account,
                 action="freeze", reason="max drawdown breached: 21% ≥ 20%")  # fmt: skip
    beat = dict(pid=1, host="box", interval_s=60.0, ticks=9, failures=5, error="feed down")
    core_repo.upsert_heartbeat(store, worker_id="ingest@box:1", name="ingest",
                               now_ms=clock.now_ms(), status="degraded",
                               consecutive_failures=5, **beat)  # fmt: skip
    core_repo.upsert_heartbeat(store, worker_id="decisions@box:2", name="decisions",
                               now_ms=clock.now_ms() - 3_600_000, status="idle",
                               consecutive_failures=0, **beat)  # fmt: skip
    events = sorted(e.event for e in scan.run())
    assert events == ["account.frozen", "worker.degraded", "worker.stale"]
    assert scan.run() == []  # nothing changed: nothing new
    deliver.run()
    bodies = " | ".join(m["message"] for m in hook.messages)
    assert "max drawdown breached" in bodies
    assert "5 failures in a row: feed down" in bodies


def test_a_failing_channel_is_retried_with_back_off_then_recorded_as_failed(setup, hook):
    world, store, clock = setup
    scan, deliver = alerts(store, clock, [channel(hook)], retries=2)
    scan.run()
    close_btc(store, clock, world)
    scan.run()
    hook.fail_next(10)
    first = deliver.run()
    assert (first.retrying, first.sent) == (1, 0)
    assert deliver.run().attempted == 0  # not due yet: it waits its back-off
    clock.advance(ms=retry_delay_ms(1))
    assert deliver.run().retrying == 1
    clock.advance(ms=retry_delay_ms(2))
    assert deliver.run().failed == 1
    [row] = recent_deliveries(store, limit=5)
    assert (row["status"], row["attempts"]) == ("failed", 3)
    assert "500" in row["last_error"] or "Internal Server Error" in row["last_error"]
    assert hook.refused == 3
    assert hook.messages == []
    attempts = store.scalar("SELECT COUNT(*) FROM alert_attempts WHERE ok = 0")
    assert attempts == 3


def test_a_channel_that_comes_back_gets_the_message_on_a_retry(setup, hook):
    world, store, clock = setup
    scan, deliver = alerts(store, clock, [channel(hook)])
    scan.run()
    close_btc(store, clock, world)
    scan.run()
    hook.fail_next(1)
    deliver.run()
    clock.advance(ms=retry_delay_ms(1))
    assert deliver.run().sent == 1
    assert len(hook.messages) == 1


def test_over_its_rate_limit_a_channel_drops_messages_and_says_so(setup, hook):
    _world, store, clock = setup
    from autotrader.alerts.repo import enqueue

    target = channel(hook)
    _, deliver = alerts(store, clock, [target], rate_limit=3)
    with store.atomic():
        for n in range(5):
            enqueue(store, key=f"test:{n}", event="test", title=f"t{n}", body="b",
                    channels=[target.name], now_ms=clock.now_ms())  # fmt: skip
    report = deliver.run()
    assert (report.sent, report.dropped) == (3, 2)
    assert [m["title"] for m in hook.messages] == ["t0", "t1", "t2"]
    dropped = [r for r in recent_deliveries(store, limit=10) if r["status"] == "dropped"]
    assert all("3 messages in the last hour" in r["last_error"] for r in dropped)


def test_a_dead_channel_never_blocks_trading_and_never_raises(setup):
    world, store, clock = setup
    dead = Channel("json#1", "json://127.0.0.1:9/nothing-listens")
    scan, deliver = alerts(store, clock, [dead])
    scan.run()
    close_btc(store, clock, world)  # trading goes on while the channel is down
    scan.run()
    report = deliver.run()
    assert report.retrying == 1
    assert report.errors
    assert "json#1" in report.errors[0]


def test_the_same_event_is_queued_once_however_many_scans_see_it(setup, hook):
    world, store, clock = setup
    scan, _ = alerts(store, clock, [channel(hook)])
    scan.run()
    close_btc(store, clock, world)
    scan.run()
    store.execute("DELETE FROM alert_marks WHERE name = 'fills'")
    store.execute("INSERT INTO alert_marks (name, value, updated_at) VALUES ('fills', '0', 0)")
    scan.run()  # every fill again: only the ones not queued yet are new
    keys = [r["key"] for r in recent_deliveries(store, limit=50)]
    assert len(keys) == len(set(keys))


def test_alert_urls_are_parsed_with_per_channel_filters_and_bad_entries_refused():
    settings = load_settings(
        env_file=None, alert_urls="json://127.0.0.1:1/a  exit,worker.stale=tgram://123:ABC/456"
    )
    first, second = channels_from_settings(settings)
    assert (first.name, first.events) == ("json#1", frozenset())
    assert (second.name, second.events) == ("tgram#2", frozenset({"exit", "worker.stale"}))
    assert "ABC" not in repr(second)
    with pytest.raises(ConfigError, match="entry 1 is not an apprise URL"):
        channels_from_settings(load_settings(env_file=None, alert_urls="not-a-url"))
    with pytest.raises(ConfigError, match="unknown event bogus"):
        channels_from_settings(load_settings(env_file=None, alert_urls="bogus=json://x/y"))
    with pytest.raises(ConfigError, match="AUTOTRADER_ALERT_EVENTS: unknown event nope"):
        parse_event_filter("fill,nope")
