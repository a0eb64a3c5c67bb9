import json


def test_config_show_names_every_setting_and_its_source(cli, monkeypatch, tmp_path):
    (tmp_path / ".env").write_text("AUTOTRADER_LOG_LEVEL=DEBUG\n")
    monkeypatch.setenv("AUTOTRADER_WORKER_INTERVAL", "30")
    result = cli("config", "show", "--json")
    assert result.exit_code == 0, result.stderr
    views = {row["name"]: row for row in json.loads(result.stdout)}
    assert views["AUTOTRADER_WORKER_INTERVAL"] == {
        "name": "AUTOTRADER_WORKER_INTERVAL",
        "value": "30.0",
        "source": "env",
    }
    assert views["AUTOTRADER_LOG_LEVEL"]["source"] == ".env"
    assert views["AUTOTRADER_MODE"]["source"] == "default"
    assert "OPENAI_API_KEY" in views


def test_config_show_masks_secrets(cli, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-0123456789abcdefXYZW")
    result = cli("config", "show")
    assert result.exit_code == 0
    assert "0123456789abcdef" not in result.stdout
    assert "XYZW" in result.stdout


def test_config_check_passes_on_valid_settings(cli):
    result = cli("config", "check")
    assert result.exit_code == 0
    assert "settings OK" in result.stdout


def test_config_check_lists_every_problem_and_exits_1(cli, monkeypatch):
    monkeypatch.setenv("AUTOTRADER_MODE", "moon")
    monkeypatch.setenv("AUTOTRADER_WORKER_INTERVAL", "fast")
    monkeypatch.setenv("AUTOTRADER_LOG_FORMAT", "xml")
    result = cli("config", "check")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3
    assert {line.split(":")[1].strip() for line in lines} == {
        "AUTOTRADER_MODE",
        "AUTOTRADER_WORKER_INTERVAL",
        "AUTOTRADER_LOG_FORMAT",
    }


def test_config_check_reports_semantic_problems_too(cli, monkeypatch):
    monkeypatch.setenv("AUTOTRADER_MODE", "testnet")
    result = cli("config", "check")
    assert result.exit_code == 1
    assert "reserved" in result.stderr


def test_config_show_masks_the_postgres_password(cli, monkeypatch):
    monkeypatch.setenv("AUTOTRADER_DB", "postgresql://trader:s3cret-pw@127.0.0.1:1/autotrader")
    result = cli("config", "show")
    assert result.exit_code == 0
    assert "s3cret-pw" not in result.output
    assert "postgresql://trader:***@127.0.0.1:1/autotrader" in result.output


def test_an_unreachable_postgres_store_is_one_line_without_the_password(cli, monkeypatch):
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    monkeypatch.setenv("AUTOTRADER_DB", "postgresql://trader:s3cret-pw@127.0.0.1:1/autotrader")
    result = cli("db", "status")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot open the store postgresql://trader:***@")
    assert result.stderr.count("\n") == 1
    assert "s3cret-pw" not in result.output + result.stderr
