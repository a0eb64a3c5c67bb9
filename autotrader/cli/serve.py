"""``autotrader serve``: the read-only HTTP API and web dashboard (``autotrader.server``)."""

from __future__ import annotations

from typing import Annotated

import typer

from autotrader.cli._context import settings_for
from autotrader.cli._options import DbOption
from autotrader.cli._render import say


def parse_host(value: str) -> str:
    """``--host`` as the setting reads it: an IP address or a host name, nothing a terminal or a
    resolver would choke on."""
    import re

    from autotrader.core.errors import InvalidInputError, quoted
    from autotrader.core.settings import HOST_PATTERN

    if not re.fullmatch(HOST_PATTERN, value):
        raise InvalidInputError(f"--host: {quoted(value)} is not an IP address or a host name")
    return value


def _require_resolvable(host: str, port: int) -> None:
    """Refuse, in one line, an address the server could not bind: uvicorn would log the
    resolver's error and exit 3."""
    import socket

    from autotrader.core.errors import InvalidInputError, quoted

    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise InvalidInputError(f"cannot serve on {quoted(host)}: {exc}") from None


def serve_command(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option("--host", help="Address to bind (AUTOTRADER_SERVER_HOST).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65_535, help="Port (AUTOTRADER_SERVER_PORT)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Serve the read-only JSON API (OpenAPI at /docs) and the dashboard until interrupted.

    Binds 127.0.0.1:8000 by default; reach it from elsewhere through a reverse proxy.
    Example: autotrader serve --host 127.0.0.1 --port 8000
    """
    from autotrader.bootstrap import open_store
    from autotrader.server.run import run_server

    settings = settings_for(ctx, db)
    bind_host = parse_host(host) if host is not None else settings.server_host
    bind_port = port or settings.server_port
    _require_resolvable(bind_host, bind_port)
    open_store(settings).close()  # create or migrate the store once; the server only reads
    admin = "on" if settings.server_token is not None else "off (no AUTOTRADER_SERVER_TOKEN)"
    say(f"serving {settings.db_path} on http://{bind_host}:{bind_port} (admin routes {admin})")
    run_server(settings, host=bind_host, port=bind_port)
