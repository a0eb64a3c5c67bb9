"""Where the store lives, and the PostgreSQL password never shown."""

from __future__ import annotations

from pathlib import Path

from autotrader.core.settings import describe_settings, load_settings
from autotrader.core.store_url import is_postgres, masked, redact, sqlite_path

URL = "postgresql://trader:s3cret-pw@db.internal:5432/autotrader"


def test_a_postgresql_url_selects_postgres_and_anything_else_sqlite():
    assert is_postgres(URL)
    assert is_postgres("postgres://h/db")
    assert not is_postgres("data/autotrader.db")
    assert not is_postgres(Path("postgresql.db"))
    assert sqlite_path("sqlite:///data/a.db") == Path("data/a.db")


def test_the_password_is_masked_and_redacted():
    assert masked(URL) == "postgresql://trader:***@db.internal:5432/autotrader"
    assert masked("postgresql://trader@h/db") == "postgresql://trader@h/db"
    assert redact(f"could not connect with {URL}", URL).count("s3cret-pw") == 0


def test_settings_keep_the_url_whole_and_never_show_its_password(monkeypatch):
    monkeypatch.setenv("AUTOTRADER_DB", URL)
    settings = load_settings()
    assert settings.db_url == URL
    assert settings.store_location == URL
    assert "s3cret-pw" in settings.secret_values()  # the log filter redacts it
    shown = {view.name: view.value for view in describe_settings(settings)}
    assert shown["AUTOTRADER_DB"] == "postgresql://trader:***@db.internal:5432/autotrader"
