"""The server is read-only and safe to expose behind a proxy: admin routes need the bearer
token (and do not exist without one), limits refuse oversized or too many requests, hostile
paths get a 4xx, no secret reaches a response, and the headers lock pages down."""

from __future__ import annotations

import json
import logging

import pytest

from autotrader.core.settings import load_settings
from tests.fakes.decisions import open_test_store, pipeline_graph
from tests.server.conftest import TOKEN, make_client


def test_the_server_binds_the_loopback_address_by_default():
    assert load_settings(env_file=None).server_host == "127.0.0.1"


def test_admin_routes_do_not_exist_without_a_token(client):
    graph = pipeline_graph()
    response = client.post("/api/v1/admin/clones/42/pipeline", json=graph)
    assert response.status_code == 404
    response = client.post(
        "/api/v1/admin/clones/42/pipeline", json=graph, headers={"Authorization": "Bearer x"}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "]
)
def test_admin_routes_refuse_a_missing_or_wrong_token(admin, header):
    headers = {"Authorization": header} if header else {}
    response = admin.post(
        "/api/v1/admin/clones/42/pipeline", json=pipeline_graph(), headers=headers
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert TOKEN not in response.text


def test_the_admin_saves_a_valid_pipeline_as_a_new_version(admin, world):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    graph = pipeline_graph(symbols=("BTC",), cadence_s=900)
    checked = admin.post("/api/v1/admin/clones/42/pipeline/validate", json=graph, headers=headers)
    assert checked.status_code == 200
    assert checked.json()["ok"] is True
    saved = admin.post("/api/v1/admin/clones/42/pipeline", json=graph, headers=headers)
    assert saved.status_code == 201, saved.text
    version = saved.json()["version"]
    store = open_test_store(world.path)
    try:
        assert (
            store.scalar("SELECT MAX(version) FROM clone_pipelines WHERE clone_id = 42") == version
        )
    finally:
        store.close()


def test_the_admin_gets_every_problem_of_an_invalid_pipeline_and_nothing_is_saved(admin, world):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    store = open_test_store(world.path)
    before = store.scalar("SELECT COUNT(*) FROM clone_pipelines")
    broken = {"nodes": [{"id": "x", "type": "nonsense"}], "edges": []}
    response = admin.post("/api/v1/admin/clones/42/pipeline", json=broken, headers=headers)
    assert response.status_code == 400
    assert response.json()["problems"]
    assert store.scalar("SELECT COUNT(*) FROM clone_pipelines") == before
    store.close()


def test_a_body_over_the_limit_is_a_413(world):
    with make_client(world, server_token=TOKEN, server_max_body_bytes=2048) as small:
        response = small.post(
            "/api/v1/admin/clones/42/pipeline",
            content=b"{" + b" " * 5000 + b"}",
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
    assert response.status_code == 413
    assert "larger than 2048 bytes" in response.json()["error"]


def test_a_streamed_body_over_the_limit_is_a_413_too(world):
    def chunks():
        for _ in range(10):
            yield b" " * 1024

    with make_client(world, server_token=TOKEN, server_max_body_bytes=2048) as small:
        response = small.post(
            "/api/v1/admin/clones/42/pipeline",
            content=chunks(),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
    assert response.status_code == 413


def test_too_many_requests_from_one_address_get_a_429_with_retry_after(world):
    with make_client(world, server_rate_limit=5) as limited:
        statuses = [limited.get("/api/v1/health").status_code for _ in range(7)]
        refused = limited.get("/api/v1/health")
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429, 429]
    assert int(refused.headers["retry-after"]) >= 1


def test_an_overlong_url_is_a_414(client):
    assert client.get("/api/v1/ledger?symbol=" + "A" * 5000).status_code == 414


@pytest.mark.parametrize(
    "path",
    [
        "/static/../../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/api/v1/artifacts/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/accounts/1%27%20OR%201=1",
        "/api/v1/market/latest/<script>alert(1)</script>",
        "/trace/%3Cimg%20src=x%20onerror=alert(1)%3E",
        "/accounts/-1",
        "/api/v1/ledger?account_id=1&account_id=2&account_id=x",
        "/api/v1/ledger?since=%00%00",
        "/%ff%fe",
    ],
)
def test_a_hostile_path_or_query_gets_a_4xx_never_a_500(client, path):
    response = client.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
    assert "Traceback" not in response.text
    assert "<script>alert" not in response.text
    assert "<img src=x" not in response.text


def test_an_unexpected_failure_is_a_500_with_one_line_and_no_traceback(world, caplog):
    broken = make_client(world)
    broken.app.state.stores._opener = lambda: (_ for _ in ()).throw(RuntimeError("disk on fire"))
    with broken, caplog.at_level(logging.ERROR):
        response = broken.get("/api/v1/accounts")
    assert response.status_code == 500
    assert response.json() == {"error": "internal error (see the server log)"}
    assert "disk on fire" in caplog.text


def test_no_secret_reaches_a_response(world):
    secrets = {
        "server_token": TOKEN,
        "openai_api_key": "sk-live-very-secret-key-123",
        "alert_urls": "tgram://123456:SECRETBOTTOKEN/987",
    }
    with make_client(world, **secrets) as leaky:
        run = world.llm_run
        pages = ["/", f"/accounts/{world.llm_account}", f"/trace/run:{run}", "/workers",
                 "/admin/ingestion", "/decisions", "/openapi.json", "/docs", "/api/v1/health",
                 "/api/v1/internal/health/workers", "/api/v1/accounts",
                 f"/api/v1/trace/run:{run}", f"/api/v1/decisions/runs/{run}"]  # fmt: skip
        bodies = [leaky.get(page).text for page in pages]
    for body in bodies:
        for secret in ("very-secret-key", "SECRETBOTTOKEN", TOKEN):
            assert secret not in body


def test_pages_carry_a_strict_content_security_policy_and_no_framing(client):
    response = client.get("/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_cors_is_off_by_default_and_on_for_the_configured_origins(client, world):
    asked = {"Origin": "https://evil.example"}
    assert "access-control-allow-origin" not in client.get("/api/v1/health", headers=asked).headers
    with make_client(world, server_cors_origins="https://dash.example") as open_app:
        allowed = open_app.get("/api/v1/health", headers={"Origin": "https://dash.example"})
        other = open_app.get("/api/v1/health", headers=asked)
    assert allowed.headers["access-control-allow-origin"] == "https://dash.example"
    assert "access-control-allow-origin" not in other.headers


def test_the_api_never_writes_its_connections_are_read_only(client, world):
    with client.app.state.stores.snapshot() as store:
        assert store.readonly
        with pytest.raises(Exception, match=r"readonly|read-only|query_only"):
            store.execute("DELETE FROM ledger_entries")
    assert json.loads(client.get("/api/v1/ledger?limit=1").text)["entries"]
