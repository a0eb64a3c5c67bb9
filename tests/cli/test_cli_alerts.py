import json
import time

from tests.fakes.alert_receiver import FakeAlertReceiver


def test_alerts_test_sends_to_every_channel_and_says_how_each_went(cli, monkeypatch):
    with FakeAlertReceiver() as good, FakeAlertReceiver() as bad:
        bad.fail_next(5)
        monkeypatch.setenv("AUTOTRADER_ALERT_URLS", f"{good.apprise_url} {bad.apprise_url}")
        result = cli("alerts", "test")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "json#1: sent"
    assert lines[1].startswith("json#2: failed — ")
    assert "127.0.0.1" not in result.stdout  # the URL (credentials) is never printed
    [message] = good.messages
    assert message["title"] == "autotrader: test alert"


def test_alerts_test_without_channels_is_one_line_and_exit_1(cli):
    result = cli("alerts", "test")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: AUTOTRADER_ALERT_URLS: no alert channel is configured")


def test_alerts_test_refuses_a_malformed_url_without_echoing_it(cli, monkeypatch):
    monkeypatch.setenv("AUTOTRADER_ALERT_URLS", "secret-token-not-a-url")
    result = cli("alerts", "test")
    assert result.exit_code == 1
    assert "entry 1 is not an apprise URL" in result.stderr
    assert "secret-token" not in result.stderr


def test_alerts_run_once_queues_and_sends_and_the_log_shows_it(cli, tmp_path, monkeypatch):
    db = str(tmp_path / "s.db")
    with FakeAlertReceiver() as hook:
        monkeypatch.setenv("AUTOTRADER_ALERT_URLS", hook.apprise_url)
        assert cli("alerts", "run-once", "--db", db).exit_code == 0
        assert cli("alerts", "log", "--db", db).stdout.strip() == "no alerts queued yet"
        from autotrader.bootstrap import open_store
        from autotrader.core import repo as core_repo
        from autotrader.core.settings import load_settings

        store = open_store(load_settings(), path=tmp_path / "s.db")
        now = int(time.time() * 1000)
        core_repo.upsert_heartbeat(store, worker_id="ingest@h:1", name="ingest", pid=1, host="h",
                                   now_ms=now, interval_s=60.0, status="degraded", error="boom",
                                   ticks=5, failures=5, consecutive_failures=5)  # fmt: skip
        store.close()
        result = cli("alerts", "run-once", "--db", db)
        assert result.exit_code == 0, result.stderr
        assert "alerts: 1 queued; 1 sent" in result.stdout
        [message] = hook.messages
    assert message["title"] == "autotrader: worker ingest is degraded"
    [row] = json.loads(cli("alerts", "log", "--db", db, "--json").stdout)
    assert (row["channel"], row["event"], row["status"]) == ("json#1", "worker.degraded", "sent")
    assert "worker.degraded" in cli("alerts", "log", "--db", db).stdout


def test_every_alerts_command_has_an_example_in_its_help(cli):
    for command in ("test", "log", "run-once", "worker"):
        assert "Example:" in cli("alerts", command, "--help").stdout
