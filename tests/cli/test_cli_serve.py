import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fakes.live_server import free_port


@pytest.mark.slow
@pytest.mark.xdist_group("processes")
def test_serve_binds_the_loopback_address_and_answers_until_terminated(tmp_path):
    port = free_port()
    script = Path(sys.executable).with_name("autotrader")
    env = {**os.environ, "AUTOTRADER_SERVER_PORT": str(port)}
    server = subprocess.Popen(
        [str(script), "serve", "--db", str(tmp_path / "s.db")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health")
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
        assert health.status_code == 200
        assert health.json()["ok"] is True
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
    finally:
        server.terminate()
        out, err = server.communicate(timeout=20)
    assert f"on http://127.0.0.1:{port} (admin routes off" in out
    assert "Traceback" not in err


def test_serve_help_has_an_example(cli):
    result = cli("serve", "--help")
    assert result.exit_code == 0
    assert "Example: autotrader serve --host 127.0.0.1 --port 8000" in result.stdout


def test_config_show_masks_the_server_token_and_the_alert_urls(cli, monkeypatch):
    monkeypatch.setenv("AUTOTRADER_SERVER_TOKEN", "a-very-long-admin-token-value")
    monkeypatch.setenv("AUTOTRADER_ALERT_URLS", "tgram://123456:SECRETBOTTOKEN/987")
    shown = cli("config", "show").stdout
    assert "very-long-admin" not in shown
    assert "SECRETBOTTOKEN" not in shown


def test_the_log_redaction_knows_the_server_token_and_every_alert_url():
    from autotrader.core.settings import load_settings

    loaded = load_settings(
        env_file=None,
        server_token="token-123456789",
        alert_urls="json://host/a  exit=tgram://1:SECRET/2",
    )
    secrets = loaded.secret_values()
    assert "token-123456789" in secrets
    assert "json://host/a" in secrets
    assert "tgram://1:SECRET/2" in secrets  # without its events prefix


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("\x1b[2J", "is not an IP address or a host name"),
        ("x" * 10_000, "is not an IP address or a host name"),
        ("1e999999", "cannot serve on '1e999999'"),  # no such name: uvicorn exited 3
    ],
)
def test_refuses_a_host_it_cannot_bind_in_one_line_and_creates_no_store(
    cli, tmp_path, host, message
):
    db = tmp_path / "s.db"

    result = cli("serve", "--host", host, "--db", str(db))

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert message in result.stderr
    assert not db.exists()


def test_refuses_a_server_host_setting_that_is_not_an_address(cli, monkeypatch):
    monkeypatch.setenv("AUTOTRADER_SERVER_HOST", "local host")

    result = cli("config", "check")

    assert result.exit_code == 1
    assert "AUTOTRADER_SERVER_HOST" in result.stdout + result.stderr
