"""The dashboard's pages as HTML (the browser tests load them in Chromium): each shows its data,
links onward, pages by cursor, and an error is a page too."""

from __future__ import annotations


def html(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def test_the_leaderboard_page_ranks_accounts_and_links_them(client, world):
    page = html(client, "/?sort=equity")
    assert f'href="/accounts/{world.llm_account}"' in page
    assert "return ▼" not in page  # sorted by equity, not return
    assert "equity ▼" in page


def test_the_leaderboard_shows_the_top_rows_and_offers_the_rest(client):
    page = html(client, "/?limit=1")
    assert page.count('href="/accounts/') == 1
    assert "The top 1 of 2" in page
    assert "limit=2" in page


def test_the_account_page_embeds_the_chart_data_and_every_section(client, world):
    page = html(client, f"/accounts/{world.llm_account}")
    for part in ('id="equity-chart"', 'id="nav-data"', 'id="open-positions"', 'id="fills"'):
        assert part in page
    assert '"equity": "10000"' in page  # decimals as strings in the chart data too
    assert f'href="/trace/fill:{world.llm_fill}"' in page


def test_the_trace_page_shows_the_prompt_text_escaped(client, world):
    page = html(client, f"/trace/fill:{world.llm_fill}")
    assert "→ model call" in page
    assert "prompt_artifact" in page
    assert "<script>" not in page.split("<body>", 1)[1].split("</main>", 1)[0]


def test_the_trace_box_redirects_to_the_normalised_reference(client, world):
    response = client.get(f"/trace?ref=RUN%23{world.llm_run}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/trace/run:{world.llm_run}"


def test_decision_runs_page_older_by_cursor(client):
    first = html(client, "/decisions")
    assert first.count('href="/trace/run:') == 25  # every run of the world: one page
    assert "older runs" not in first
    older = html(client, "/decisions?before=5")
    assert older.count('href="/trace/run:') == 4


def test_workers_and_ingestion_pages(client):
    assert "housekeeping" in html(client, "/workers")
    ingestion = html(client, "/admin/ingestion")
    assert "ohlcv" in ingestion
    assert 'class="badge ok"' in ingestion


def test_a_missing_account_is_an_html_404_page(client):
    page = html(client, "/accounts/404", status=404)
    assert "prop account 404 does not exist" in page
    assert "Back to the leaderboard" in page
