import sqlite3

import pytest


@pytest.mark.slow  # a whole demo run: about a second or more each
def test_demo_runs_end_to_end_in_its_own_store(cli, tmp_path):
    path = tmp_path / "demo.db"
    result = cli("demo", "--db", str(path))
    assert result.exit_code == 0, result.stderr
    assert "demo finished" in result.stdout
    assert "housekeeping" in result.stdout
    desk = result.stdout.split("the desk: six agents", 1)[1]
    assert "SCOUT: Fill confirmed" in desk
    assert "GROWTH:" in desk
    assert "closed:" in desk
    assert "a morning standup needs a model: set OPENAI_API_KEY" in desk
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='store_kind'").fetchone()[0] == "demo"


def _ticks(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT COUNT(*) FROM action_runs").fetchone()[0]


@pytest.mark.slow
def test_with_a_model_the_desk_chapter_holds_a_morning_standup_and_prints_it(
    cli, tmp_path, monkeypatch
):
    from tests.fakes.openai_server import FakeOpenAI
    from tests.fakes.roundtable import Talk

    with FakeOpenAI() as fake:
        fake.responder = Talk()
        monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
        result = cli("demo", "--db", str(tmp_path / "demo.db"), "--quiet")
    assert result.exit_code == 0, result.stderr
    standup = result.stdout.split("the morning standup, through the configured model:", 1)[1]
    assert "roundtable 1 (morning_standup, succeeded)" in standup
    assert " 1. ATLAS (neutral;" in standup
    assert "ATLAS on turn 1: the data favours patience." in standup
    assert set(fake.paths()) == {"/v1/responses"}


@pytest.mark.slow
def test_demo_starts_fresh_each_time(cli, tmp_path):
    path = tmp_path / "demo.db"
    cli("demo", "--db", str(path))
    first = _ticks(path)
    cli("demo", "--db", str(path))
    assert _ticks(path) == first


@pytest.mark.slow
def test_demo_continues_with_the_audition_of_clone_42(cli, tmp_path):
    path = tmp_path / "demo.db"
    result = cli("demo", "--db", str(path), "--quiet")
    assert result.exit_code == 0, result.stderr
    assert "verified: clone 42 may audition once" in result.stdout
    assert "Pass criteria" in result.stdout
    with sqlite3.connect(path) as conn:
        (status,) = conn.execute("SELECT status FROM auditions WHERE clone_id = 42").fetchone()
        (stage,) = conn.execute("SELECT stage FROM clone_stages WHERE clone_id = 42").fetchone()
        kinds = {k for (k,) in conn.execute("SELECT kind FROM prop_accounts WHERE clone_id = 42")}
    assert status in ("passed", "failed")
    assert stage == ("arena" if status == "passed" else "failed")
    assert kinds == {"sandbox", "audition"}


@pytest.mark.slow
def test_demo_ends_with_a_race_among_arena_clones_settled_and_conserved(cli, tmp_path):
    path = tmp_path / "demo.db"
    result = cli("demo", "--db", str(path), "--quiet")
    assert result.exit_code == 0, result.stderr
    race = result.stdout.split("the arena's first race", 1)[1]
    assert "race 1 launched: a fresh race account per entrant" in race
    assert "Σ rows 80.5 = pool 80.5: conserved" in race
    assert "ledger OK" in race
    with sqlite3.connect(path) as conn:
        (status,) = conn.execute("SELECT status FROM arena_races WHERE id = 1").fetchone()
        entrants = conn.execute(
            "SELECT e.clone_id, a.kind FROM arena_entrants e"
            " JOIN prop_accounts a ON a.id = e.account_id WHERE e.race_id = 1"
        ).fetchall()
        tickets = conn.execute("SELECT COUNT(*) FROM arena_tickets WHERE status = 'paid'")
        (paid,) = tickets.fetchone()
    assert status == "settled"
    assert sorted(entrants) == [(7, "race"), (8, "race")]
    assert paid == 4


@pytest.mark.slow
def test_demo_default_store_is_not_the_configured_store(cli, tmp_path):
    result = cli("demo", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "home" / "data" / "demo" / "demo.db").exists()
    assert not (tmp_path / "home" / "data" / "autotrader.db").exists()


def test_demo_refuses_to_overwrite_a_file_that_is_not_a_demo_store(cli, tmp_path):
    precious = tmp_path / "precious.db"
    cli("init", "--db", str(precious))
    result = cli("demo", "--db", str(precious))
    assert result.exit_code == 1
    assert "not a demo store" in result.stderr
    assert precious.exists()


def test_demo_refuses_the_configured_store(cli, tmp_path, monkeypatch):
    configured = tmp_path / "mine.db"
    monkeypatch.setenv("AUTOTRADER_DB", str(configured))
    result = cli("demo", "--db", str(configured))
    assert result.exit_code == 1
    assert "configured store" in result.stderr


@pytest.mark.parametrize("suffix", ["-wal", "-shm", "-journal"])
def test_demo_refuses_a_side_file_of_the_configured_store(cli, tmp_path, monkeypatch, suffix):
    configured = tmp_path / "mine.db"
    monkeypatch.setenv("AUTOTRADER_DB", str(configured))
    side = tmp_path / f"mine.db{suffix}"
    side.write_bytes(b"")  # what an open store's files look like between writes

    result = cli("demo", "--db", str(side))

    assert result.exit_code == 1
    assert "configured store" in result.stderr
    assert side.exists()


def test_demo_refuses_a_postgres_url_it_would_not_write(cli):
    result = cli("demo", "--db", "postgresql://trader:s3cret-pw@127.0.0.1:1/autotrader")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: the demo runs in a SQLite store of its own: give --db a file path\n"
    )
