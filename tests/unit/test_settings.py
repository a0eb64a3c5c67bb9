from pathlib import Path

import pytest

from autotrader.core.errors import ConfigError
from autotrader.core.settings import check_settings, describe_settings, load_settings


def _sources(settings, **kwargs):
    return {view.name: view for view in describe_settings(settings, **kwargs)}


def test_defaults_apply_when_nothing_is_set():
    settings = load_settings()
    assert settings.mode == "paper"
    assert settings.log_format == "auto"
    assert settings.db_path.name == "autotrader.db"
    assert _sources(settings)["AUTOTRADER_MODE"].source == "default"


def test_env_file_beats_defaults(tmp_path: Path):
    (tmp_path / ".env").write_text("AUTOTRADER_LOG_LEVEL=warning\nAUTOTRADER_WORKER_INTERVAL=5\n")
    settings = load_settings()
    assert settings.log_level == "WARNING"
    assert settings.worker_interval == 5
    assert _sources(settings)["AUTOTRADER_WORKER_INTERVAL"].source == ".env"


def test_environment_beats_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / ".env").write_text("AUTOTRADER_WORKER_INTERVAL=5\n")
    monkeypatch.setenv("AUTOTRADER_WORKER_INTERVAL", "7.5")
    settings = load_settings()
    assert settings.worker_interval == 7.5
    assert _sources(settings)["AUTOTRADER_WORKER_INTERVAL"].source == "env"


def test_explicit_override_beats_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("AUTOTRADER_DB", str(tmp_path / "env.db"))
    settings = load_settings(db=tmp_path / "flag.db")
    assert settings.db_path == tmp_path / "flag.db"
    assert _sources(settings, overridden={"db"})["AUTOTRADER_DB"].source == "--db"


def test_standard_openai_names_are_read_and_the_key_is_masked(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-abcdefghijklmnop1234")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9999/v1")
    settings = load_settings()
    shown = _sources(settings)["OPENAI_API_KEY"]
    assert shown.source == "env"
    assert "abcdefghijklmnop" not in shown.value
    assert shown.value.endswith("1234")
    assert settings.openai_base_url == "http://127.0.0.1:9999/v1"


def test_every_invalid_setting_is_reported_on_its_own_line(monkeypatch):
    monkeypatch.setenv("AUTOTRADER_MODE", "yolo")
    monkeypatch.setenv("AUTOTRADER_WORKER_INTERVAL", "soon")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    problems = caught.value.problems
    assert len(problems) == 2
    assert any(p.startswith("AUTOTRADER_MODE:") and "'yolo'" in p for p in problems)
    assert any(p.startswith("AUTOTRADER_WORKER_INTERVAL:") and "'soon'" in p for p in problems)
    assert all("\n" not in p for p in problems)


def test_secret_values_never_appear_in_problem_lines(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-leak-123456")
    monkeypatch.setenv("AUTOTRADER_MODE", "nope")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "sk-should-not-leak" not in str(caught.value)


def test_check_flags_reserved_modes_and_inconsistent_intervals(monkeypatch):
    monkeypatch.setenv("AUTOTRADER_MODE", "real")
    monkeypatch.setenv("AUTOTRADER_WORKER_INTERVAL", "600")
    monkeypatch.setenv("AUTOTRADER_WORKER_MAX_INTERVAL", "60")
    problems = check_settings(load_settings())
    assert any("AUTOTRADER_MODE" in p and "reserved" in p for p in problems)
    assert any("AUTOTRADER_WORKER_MAX_INTERVAL" in p for p in problems)


def test_check_passes_on_the_defaults():
    assert check_settings(load_settings()) == []
