"""Every API route against a store built through the real engine: status codes, shapes, money
as decimal strings, times as ISO UTC, cursor paging, and a clear 4xx for bad input."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from autotrader.core.clock import iso_utc

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def get(client, path: str, status: int = 200):
    response = client.get(path)
    assert response.status_code == status, response.text
    return response.json()


def is_decimal_text(value) -> bool:
    return isinstance(value, str) and Decimal(value) == Decimal(value)  # parses, exactly


def test_health_says_ok_with_the_version_and_the_replay_time(client, world):
    body = get(client, "/api/v1/health")
    assert body["ok"] is True
    assert body["now_at"] == iso_utc(world.now_ms)


def test_clones_list_their_model_entitlements_and_pipeline_version(client):
    [clone] = get(client, "/api/v1/clones")["clones"]
    assert (clone["id"], clone["model"], clone["pipeline_version"]) == (42, "gpt-5-mini", 3)
    assert get(client, "/api/v1/clones/42")["max_active_assets"] == 10


def test_pipeline_versions_graphs_and_compiled_plans(client):
    versions = get(client, "/api/v1/clones/42/pipelines")["versions"]
    assert [v["version"] for v in versions] == [3, 2, 1]  # template, llm, rules
    assert all(ISO.match(v["created_at"]) for v in versions)
    first = get(client, "/api/v1/clones/42/pipeline?version=1")
    assert first["version"] == 1
    assert {n["id"] for n in first["graph"]["nodes"]} >= {"market", "majors", "trend-rules"}
    plan = get(client, "/api/v1/clones/42/plan")
    assert plan["version"] == 3
    [strategy] = plan["strategies"]
    assert strategy["engine"] == "rules"


def test_an_unknown_clone_or_version_is_a_404(client):
    assert "clone 9 does not exist" in get(client, "/api/v1/clones/9", 404)["error"]
    assert "no version 99" in get(client, "/api/v1/clones/42/pipeline?version=99", 404)["error"]


def test_latest_market_data_has_the_candle_and_every_indicator(client):
    body = get(client, "/api/v1/market/latest/btc?timeframe=1h")
    assert (body["symbol"], body["timeframe"]) == ("BTC", "1h")
    assert ISO.match(body["open_time"])
    assert {"close", "rsi14", "macd"} <= body.keys()
    assert (
        "no 5m candles stored for DOGE"
        in get(client, "/api/v1/market/latest/DOGE?timeframe=5m", 404)["error"]
    )


def test_assets_and_ingestion_health(client):
    assets = {a["symbol"]: a for a in get(client, "/api/v1/market/assets")["assets"]}
    assert is_decimal_text(assets["BTC"]["amount_step"])
    [channel] = get(client, "/api/v1/market/ingestion")["channels"]
    assert (channel["source"], channel["channel"], channel["subjects"]) == ("file", "ohlcv", 2)


def test_worker_health_lists_every_job_and_the_housekeeping_heartbeat(client):
    body = get(client, "/api/v1/internal/health/workers")
    jobs = {j["name"]: j for j in body["jobs"]}
    assert {"ingest", "decisions", "mark-to-market", "alerts", "housekeeping"} <= jobs.keys()
    assert jobs["housekeeping"]["state"] == "stopped"
    [worker] = body["workers"]
    assert (worker["name"], worker["status"], worker["ticks"]) == ("housekeeping", "stopped", 1)
    assert ISO.match(worker["last_beat_at"])
    assert body["ok"] is True


def test_accounts_show_money_as_decimal_strings(client, world):
    accounts = get(client, "/api/v1/accounts")["accounts"]
    assert [a["account"]["id"] for a in accounts] == [world.llm_account, world.manual_account]
    for state in accounts:
        for key in ("balance", "equity", "cash", "margin_used", "unrealized_pnl", "drawdown"):
            assert is_decimal_text(state[key]), key
        assert is_decimal_text(state["account"]["starting_balance"])
    only = get(client, "/api/v1/accounts?kind=audition")["accounts"]
    assert [a["account"]["clone_id"] for a in only] == [7]


def test_accounts_page_by_cursor(client, world):
    first = get(client, "/api/v1/accounts?limit=1")
    assert [a["account"]["id"] for a in first["accounts"]] == [world.llm_account]
    second = get(client, f"/api/v1/accounts?limit=1&cursor={first['next_cursor']}")
    assert [a["account"]["id"] for a in second["accounts"]] == [world.manual_account]
    assert second["next_cursor"] is None


def test_an_account_has_its_open_positions_with_exit_plans_and_marks(client, world):
    body = get(client, f"/api/v1/accounts/{world.llm_account}")
    btc = next(p for p in body["positions"] if p["symbol"] == "BTC")
    assert (btc["stop"], btc["target"]) == ("60000", "75000")
    assert is_decimal_text(btc["mark_price"])
    assert ISO.match(btc["opened_at"])
    positions = get(client, f"/api/v1/accounts/{world.llm_account}/positions?status=open")
    assert {p["symbol"] for p in positions["positions"]} == {"BTC", "ETH"}


def test_fills_newest_first_and_the_nav_series(client, world):
    fills = get(client, f"/api/v1/accounts/{world.manual_account}/fills")["fills"]
    assert [f["purpose"] for f in fills] == ["CLOSE", "OPEN"]
    assert all(is_decimal_text(f["price"]) for f in fills)
    points = get(client, f"/api/v1/accounts/{world.llm_account}/nav")["points"]
    assert len(points) == 13  # the start, then 12 hourly snapshots
    assert points[0]["equity"] == "10000"
    assert all(ISO.match(p["time"]) and is_decimal_text(p["drawdown"]) for p in points)


def test_the_ledger_pages_by_cursor_without_gaps_or_repeats(client, world):
    everything = get(client, f"/api/v1/ledger?account_id={world.llm_account}&limit=1000")
    assert everything["next_cursor"] is None
    seen, cursor = [], None
    while True:
        query = f"/api/v1/ledger?account_id={world.llm_account}&limit=2"
        page = get(client, query + (f"&cursor={cursor}" if cursor else ""))
        seen += [e["id"] for e in page["entries"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [e["id"] for e in everything["entries"]]
    assert len(seen) == len(set(seen)) > 2


def test_the_ledger_filters_by_kind_and_shows_exact_amounts(client):
    fees = get(client, "/api/v1/ledger?kind=fee")["entries"]
    assert fees
    assert {e["kind"] for e in fees} == {"FEE"}
    assert all(is_decimal_text(e["amount"]) and e["amount"].startswith("-") for e in fees)


def test_trades_report_closed_and_open_positions(client, world):
    body = get(client, f"/api/v1/trades?account_id={world.manual_account}")
    [closed] = body["closed"]
    assert (closed["symbol"], closed["side"], closed["close_trigger"]) == ("ETH", "SHORT", "MANUAL")
    assert is_decimal_text(closed["net_pnl"])
    assert ISO.match(body["as_of_ms"])


def test_the_leaderboard_ranks_every_account(client, world):
    body = get(client, "/api/v1/leaderboard?sort=equity&asc=true")
    rows = body["rows"]
    assert {r["group"] for r in rows} == {str(world.llm_account), str(world.manual_account)}
    equities = [Decimal(r["equity"]) for r in rows]
    assert equities == sorted(equities)
    assert "series" not in rows[0]
    assert ISO.match(body["computed_at"])
    per_clone = get(client, "/api/v1/leaderboard?by=clone")["rows"]
    assert {r["group"] for r in per_clone} == {"42", "7"}


def test_the_trace_of_the_llm_fill_reaches_the_model_call_and_its_artifacts(client, world):
    body = get(client, f"/api/v1/trace/fill:{world.llm_fill}")
    [chain] = body["chains"]
    assert chain["fill"]["id"] == world.llm_fill
    assert all(g["passed"] for g in chain["intent"]["gate_results"])
    [run] = body["runs"]
    assert run["run"]["id"] == world.llm_run
    [invocation] = run["invocations"]
    assert (invocation["role"], invocation["input_tokens"]) == ("trader", 1200)
    sources = {a["source"].split()[-1] for a in run["artifacts"]}
    assert {"prompt_artifact", "response_artifact"} <= sources


def test_an_artifact_is_served_as_plain_text(client, world):
    [run] = get(client, f"/api/v1/trace/run:{world.llm_run}")["runs"]
    prompt = next(a for a in run["artifacts"] if a["source"].endswith("prompt_artifact"))
    response = client.get(f"/api/v1/artifacts/{prompt['key']}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "BTC" in response.text
    missing = client.get("/api/v1/artifacts/" + "0" * 64)
    assert missing.status_code == 404


def test_decision_runs_page_by_cursor_and_a_run_tells_its_story(client, world):
    first = get(client, "/api/v1/decisions/runs?limit=10")
    assert len(first["runs"]) == 10
    assert first["next_cursor"]
    ids = [r["id"] for r in first["runs"]]
    assert ids == sorted(ids, reverse=True)
    second = get(client, f"/api/v1/decisions/runs?limit=10&cursor={first['next_cursor']}")
    assert second["runs"][0]["id"] == ids[-1] - 1
    story = get(client, f"/api/v1/decisions/runs/{world.llm_run}")
    assert story["run"]["engine"] == "llm"
    [action] = story["actions"]
    assert action["fill"]["id"] == world.llm_fill
    assert story["invocations"][0]["status"] == "ok"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/v1/accounts/0", "account_id"),
        ("/api/v1/accounts/abc", "account_id"),
        ("/api/v1/accounts/99999999999999999999999999", "account_id"),
        ("/api/v1/ledger?kind=BRIBE", "unknown BRIBE"),
        ("/api/v1/ledger?since=yesterday", "since: not an ISO-8601"),
        ("/api/v1/ledger?cursor=bm90LWEtY3Vyc29y", "not a cursor"),
        ("/api/v1/ledger?limit=100000", "limit"),
        ("/api/v1/leaderboard?sort=drop%20table", "sort"),
        ("/api/v1/leaderboard?by=planet", "by"),
        ("/api/v1/trace/fill:banana", "cannot read"),
        ("/api/v1/trace/42", "ambiguous"),
        ("/api/v1/decisions/runs?status=exploded", "status"),
        ("/api/v1/market/latest/BTC%00", "symbol"),
        ("/api/v1/artifacts/not-a-key", "key"),
    ],
)
def test_bad_input_is_a_400_with_one_line_naming_what_is_wrong(client, path, message):
    response = client.get(path)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert message in error
    assert "\n" not in error
    assert "Traceback" not in error


def test_a_missing_thing_is_a_404_not_a_500(client):
    for path in ("/api/v1/accounts/99", "/api/v1/trace/fill:999", "/api/v1/decisions/runs/999",
                 "/api/v1/nothing-here"):  # fmt: skip
        assert client.get(path).status_code == 404, path


def test_the_openapi_document_lists_the_routes_and_docs_load_without_a_cdn(client):
    spec = get(client, "/openapi.json")
    assert "/api/v1/internal/health/workers" in spec["paths"]
    assert "/api/v1/ledger" in spec["paths"]
    assert not any(path.startswith("/api/v1/admin") for path in spec["paths"])  # no token
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "/static/vendor/swagger-ui-bundle.js" in docs.text
    assert "cdn." not in docs.text
    assert client.get("/static/vendor/swagger-ui-bundle.js").status_code == 200
