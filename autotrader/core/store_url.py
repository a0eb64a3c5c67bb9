"""Where the store lives: a SQLite file (a path, or ``sqlite:///path``) or a PostgreSQL database
(``postgresql://user:password@host:port/database``). The password is a secret: anything shown
to a person goes through :func:`masked`."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_SQLITE_SCHEME = "sqlite:///"


def is_postgres(location: str | Path) -> bool:
    return isinstance(location, str) and location.lower().startswith(POSTGRES_SCHEMES)


def sqlite_path(location: str | Path) -> Path:
    """The file a SQLite location names (``sqlite:///data/a.db`` is ``data/a.db``)."""
    text = str(location)
    return Path(text[len(_SQLITE_SCHEME) :] if text.startswith(_SQLITE_SCHEME) else text)


def masked(url: str) -> str:
    """``url`` with its password (if any) shown as ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def password(url: str) -> str | None:
    """The password of a PostgreSQL URL (for the log redaction filter), if it has one."""
    return urlsplit(url).password or None


def redact(text: str, url: str) -> str:
    """``text`` (a driver's error message, say) without the URL's password anywhere in it."""
    secret = password(url)
    return re.sub(re.escape(secret), "***", text) if secret else text
