"""Outside text through the real commands: a hostile model answer, gate reason, admin reason or
display name reaches the terminal escaped, never as escape codes, bidi tricks or rich markup."""

from __future__ import annotations

import json
import unicodedata

import pytest

from tests.fakes.decisions import (
    CLONE_ID,
    make_runner,
    market_template,
    pipeline_graph,
    runs,
    save_pipeline,
    world,
)
from tests.fakes.openai_server import FakeOpenAI

# Clear the screen, retitle the terminal, a hyperlink, a C1 CSI, a right-to-left override, a
# zero-width joiner, an invisible tag character, and markup that must print as written.
HOSTILE = (
    "\x1b[2J\x1b]0;owned\x07\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\"
    "\x9b31m abc\u202edcba zero\u200dwidth tag\U000e0041 [red]loud[/red]"
)


def unsafe_characters(text: str) -> set[str]:
    """What a terminal would act on (newlines and tabs are layout)."""
    return {
        c
        for c in text
        if c not in "\n\t" and unicodedata.category(c) in {"Cc", "Cf", "Cs", "Zl", "Zp"}
    }


def assert_rendered_safely(result) -> None:
    assert result.exit_code == 0, result.output
    assert unsafe_characters(result.stdout) == set()
    assert "[red]loud[/red]" in result.stdout  # markup printed as written, not interpreted
    assert "\\x1b[2J" in result.stdout  # and what was there is visible


@pytest.fixture
def traded(tmp_path, tmp_path_factory, monkeypatch):
    """Clone 42 on the llm engine: one run the model answered with hostile prose, one it
    answered with a valid OPEN whose hypothesis is hostile (it fills)."""
    with FakeOpenAI() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-render")
        monkeypatch.setenv("AUTOTRADER_LLM_API", "chat")
        monkeypatch.setenv("AUTOTRADER_LLM_CACHE", "off")
        monkeypatch.setenv("AUTOTRADER_LLM_RETRIES", "0")
        monkeypatch.setenv("AUTOTRADER_ARTIFACTS", "memory")
        made = world(market_template(tmp_path_factory), tmp_path)
        graph = pipeline_graph(engine="llm", symbols=("BTC",))
        save_pipeline(made.store, made.clock, graph)
        fake.reply_text(HOSTILE)
        make_runner(made.store, made.clock).tick(clone_id=CLONE_ID, force=True)
        made.clock.advance(ms=3_600_000)
        opened = {
            "action": "OPEN",
            "symbol": "BTC",
            "side": "LONG",
            "qty": "0.01",
            "leverage": 2,
            "exit_plan": {"stop": "60000", "target": "75000"},
            "policy_id": "trend_macd",
            "hypothesis": ("[red]loud[/red] " + HOSTILE)[:200],
        }
        fake.reply_text(json.dumps(opened))
        make_runner(made.store, made.clock).tick(clone_id=CLONE_ID, force=True)
        made.store.close()
    monkeypatch.setenv("AUTOTRADER_NOW", "2026-02-19T19:20:00Z")
    return made


def test_decisions_show_escapes_a_hostile_model_answer(cli, traded):
    first = runs_of(traded)[0]
    assert_rendered_safely(cli("decisions", "show", str(first), "--db", str(traded.path)))


def test_ledger_trace_escapes_a_hostile_hypothesis(cli, traded):
    result = cli("ledger", "trace", "fill:1", "--db", str(traded.path))
    assert_rendered_safely(result)


def test_json_output_keeps_the_hostile_text_exactly(cli, traded):
    first = runs_of(traded)[0]
    result = cli("decisions", "show", str(first), "--db", str(traded.path), "--json")
    assert result.exit_code == 0
    assert unsafe_characters(result.stdout) == set()
    assert json.loads(result.stdout)["invocations"][0]["raw_text"] == HOSTILE


@pytest.mark.parametrize(
    "reader",
    [
        ("ledger", "show"),
        ("prop", "accounts", "show", "1"),
        ("prop", "accounts", "list"),
    ],
    ids=" ".join,
)
def test_an_admin_reason_is_shown_escaped(cli, tmp_path, reader):
    db = str(tmp_path / "render.db")
    assert cli("clones", "create", "--name", "c", "--id", "42", "--db", db).exit_code == 0
    opened = cli("prop", "accounts", "create", "--clone-id", "42", "--balance", "100", "--db", db)
    assert opened.exit_code == 0, opened.output
    frozen = cli("prop", "admin", "freeze", "--account", "1", "--reason", HOSTILE, "--db", db)
    assert frozen.exit_code == 0, frozen.output
    result = cli(*reader, "--db", db)
    if reader[-1] != "list":
        assert_rendered_safely(result)
    else:
        assert unsafe_characters(result.stdout) == set()


def test_a_display_name_is_shown_escaped(cli, tmp_path):
    db = str(tmp_path / "render.db")
    created = cli("clones", "create", "--name", "c", "--display-name", HOSTILE, "--db", db)
    assert_rendered_safely(created)
    assert_rendered_safely(cli("clones", "show", "1", "--db", db))


def runs_of(made) -> list[int]:
    from tests.fakes.decisions import open_test_store

    with open_test_store(made.path) as store:
        return [run["id"] for run in runs(store)]
