import json

import pytest


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


def test_config_check_lists_each_non_finite_or_absurd_number_on_one_line(cli, monkeypatch):
    monkeypatch.setenv("AUTOTRADER_RETENTION_1M_HOURS", "inf")
    monkeypatch.setenv("AUTOTRADER_INGEST_SLOW_INTERVAL", "1e300")
    monkeypatch.setenv("AUTOTRADER_NOW", "9999-12-31T23:00:00Z")
    result = cli("config", "check")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert [line.split(":")[1].strip() for line in lines] == [
        "AUTOTRADER_NOW",
        "AUTOTRADER_RETENTION_1M_HOURS",
        "AUTOTRADER_INGEST_SLOW_INTERVAL",
    ]


def test_config_show_documents_each_numeric_range(cli):
    result = cli("config", "show")
    assert result.exit_code == 0
    assert "range 1 to 8760" in result.stdout


@pytest.mark.parametrize("command", [("config", "check"), ("db", "status"), ("config", "show")])
def test_a_binary_env_file_is_one_line_not_a_crash(cli, tmp_path, command):
    (tmp_path / ".env").write_bytes(bytes(range(256)))
    result = cli(*command)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: .env: not a UTF-8 text file (settings, one per line)"
    ]


def test_config_show_never_prints_credentials_embedded_in_urls(cli, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "https://me:hunter2hunter2@llm.example.com/v1")
    monkeypatch.setenv("AUTOTRADER_S3_ENDPOINT_URL", "https://r2.example.com/?X-Amz-Signature=abc9")
    for args in (("config", "show"), ("config", "show", "--json")):
        result = cli(*args)
        assert result.exit_code == 0
        assert "hunter2" not in result.stdout
        assert "abc9" not in result.stdout
        assert "llm.example.com" in result.stdout
