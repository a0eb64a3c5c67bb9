from pathlib import Path

import pytest

from autotrader.core.errors import ConfigError
from autotrader.core.settings import check_settings, describe_settings, env_names, load_settings


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
    monkeypatch.setenv("AUTOTRADER_WORKER_INTERVAL", "1e9")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    problems = caught.value.problems
    assert len(problems) == 2
    assert any(p.startswith("AUTOTRADER_MODE:") and "'paper'" in p for p in problems)
    assert any(p.startswith("AUTOTRADER_WORKER_INTERVAL:") and "'1e9'" in p for p in problems)
    assert all("\n" not in p for p in problems)


def test_only_numbers_are_repeated_in_problem_lines(monkeypatch):
    monkeypatch.setenv("AUTOTRADER_MODE", "yolo")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "yolo" not in str(caught.value)


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


# -- numbers are finite and ranged ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AUTOTRADER_RETENTION_1M_HOURS", "inf"),
        ("AUTOTRADER_RETENTION_1H_DAYS", "1e300"),
        ("AUTOTRADER_RETENTION_OBSERVATIONS_DAYS", "nan"),
        ("AUTOTRADER_WORKER_STALE_AFTER", "1e300"),
        ("AUTOTRADER_INGEST_SLOW_INTERVAL", "inf"),
        ("AUTOTRADER_INGEST_STALE_AFTER", "-inf"),
        ("AUTOTRADER_WORKER_INTERVAL", "1e-300"),
        ("AUTOTRADER_DB_BUSY_TIMEOUT_MS", "9223372036854775808"),
        ("AUTOTRADER_AUDITION_FEE_USDC", "Infinity"),
        ("AUTOTRADER_AUDITION_BALANCE", "NaN"),
        ("AUTOTRADER_AUDITION_MAX_DRAWDOWN", "0"),
        ("AUTOTRADER_AUDITION_DURATION_HOURS", "inf"),
        ("AUTOTRADER_AUDITION_PASS_SHARPE", "nan"),
        ("AUTOTRADER_AUDITION_PASS_RETURN_PCT", "1e999999"),
        ("AUTOTRADER_SERVER_REFRESH_S", "inf"),
        ("AUTOTRADER_ALERT_RATE_LIMIT", "9223372036854775808"),
    ],
)
def test_refuses_a_numeric_setting_that_is_not_finite_or_out_of_range(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert [p.split(":")[0] for p in caught.value.problems] == [name]


def test_every_numeric_setting_has_a_range_that_config_show_documents():
    from autotrader.core.settings import Settings, is_numeric, setting_range

    views = _sources(load_settings())
    numeric = [name for name in Settings.model_fields if is_numeric(name)]
    # ints, floats and Decimals, optional ones included
    assert {"audition_fee_usdc", "audition_pass_sharpe", "server_port"} <= set(numeric)
    for name in numeric:
        low, high = setting_range(name)
        assert None not in (low, high), f"{name} has no range"
        assert f"range {low:g} to {high:g}" in views[env_names(name)[0]].description


# -- the replay clock ----------------------------------------------------------------------------


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00Z", "9999-12-31T23:00:00Z", "1999-12-31"])
def test_refuses_a_replay_clock_outside_2000_to_2100(monkeypatch, moment):
    monkeypatch.setenv("AUTOTRADER_NOW", moment)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    (problem,) = caught.value.problems
    assert problem.startswith("AUTOTRADER_NOW:")
    assert "between 2000-01-01T00:00:00Z and 2100-01-01T00:00:00Z" in problem


def test_accepts_a_replay_clock_inside_the_range(monkeypatch):
    monkeypatch.setenv("AUTOTRADER_NOW", "2099-12-31T23:59:59Z")
    assert load_settings().clock().now_ms() == 4_102_444_799_000


# -- the .env file ---------------------------------------------------------------------------------


def test_a_binary_env_file_is_one_config_problem(tmp_path: Path):
    (tmp_path / ".env").write_bytes(b"\x1f\x8b\x08\x00\xff\xfe binary \x00\x81")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    (problem,) = caught.value.problems
    assert problem == ".env: not a UTF-8 text file (settings, one per line)"


# -- secrets -------------------------------------------------------------------------------------

SECRET = "sk-proj-Zq8rT2vLx9WmN4bQ"


@pytest.mark.parametrize(
    "name",
    [
        "AUTOTRADER_MODE",
        "AUTOTRADER_LOG_LEVEL",
        "AUTOTRADER_NOW",
        "AUTOTRADER_WORKER_INTERVAL",
        "AUTOTRADER_DEBUG",
        "AUTOTRADER_LLM_CACHE",
        "AUTOTRADER_ARTIFACTS",
    ],
)
def test_a_secret_pasted_into_the_wrong_setting_is_not_echoed(monkeypatch, name):
    monkeypatch.setenv(name, SECRET)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert [p.split(":")[0] for p in caught.value.problems] == [name]
    assert SECRET[8:].lower() not in str(caught.value).lower()


@pytest.mark.parametrize(
    "name",
    [
        "OPENAI_BASE_URL",
        "AUTOTRADER_HYPERLIQUID_URL",
        "AUTOTRADER_HYPERLIQUID_WS_URL",
        "AUTOTRADER_S3_ENDPOINT_URL",
    ],
)
def test_a_secret_pasted_into_a_url_setting_is_refused_without_echoing_it(monkeypatch, name):
    monkeypatch.setenv(name, SECRET)
    settings = load_settings()
    problems = check_settings(settings)
    assert [p.split(":")[0] for p in problems] == [name]
    assert SECRET[8:] not in " ".join(problems)
    assert SECRET[8:] not in _sources(settings)[name].value


def test_the_websocket_url_must_be_a_websocket_url(monkeypatch):
    monkeypatch.setenv("AUTOTRADER_HYPERLIQUID_WS_URL", "https://api.hyperliquid.xyz/ws")
    assert check_settings(load_settings()) == [
        "AUTOTRADER_HYPERLIQUID_WS_URL: must be a ws:// or wss:// URL"
    ]
    monkeypatch.setenv("AUTOTRADER_HYPERLIQUID_WS_URL", "ws://127.0.0.1:8080/ws")
    assert check_settings(load_settings()) == []


@pytest.mark.parametrize(
    ("url", "hidden", "kept"),
    [
        ("https://alice:hunter2@llm.example.com/v1", ["hunter2"], ["llm.example.com/v1", "alice"]),
        ("postgresql://u:p4ssw0rd@db.internal:5432/at", ["p4ssw0rd"], ["db.internal:5432/at"]),
        (
            "https://api.example.com/v1?api_key=abc123def&model=x&Token=t0k3n&SECRET=s3cr3t",
            ["abc123def", "t0k3n", "s3cr3t"],
            ["api.example.com/v1", "model=x", "api_key="],
        ),
        ("https://h.example.com/?password=pw1&access_token=at2", ["pw1", "at2"], ["h.example.com"]),
    ],
)
def test_config_show_masks_credentials_embedded_in_urls(monkeypatch, url, hidden, kept):
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    shown = _sources(load_settings())["OPENAI_BASE_URL"].value
    for secret in hidden:
        assert secret not in shown
    for part in kept:
        assert part in shown


def test_credentials_in_urls_are_redacted_from_logs(monkeypatch):
    monkeypatch.setenv("AUTOTRADER_S3_ENDPOINT_URL", "https://key:s3-secret-value@r2.example.com")
    assert "s3-secret-value" in load_settings().secret_values()


def test_credentials_in_a_store_url_are_masked_even_though_it_is_read_as_a_path(monkeypatch):
    monkeypatch.setenv("AUTOTRADER_DB", "postgresql://trader:p4ssw0rd@db.internal:5432/at")
    settings = load_settings()
    shown = _sources(settings)["AUTOTRADER_DB"].value
    assert "p4ssw0rd" not in shown
    assert "db.internal:5432/at" in shown
    assert "p4ssw0rd" in settings.secret_values()
