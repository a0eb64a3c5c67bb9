"""Running the app under uvicorn, as ``autotrader serve`` does."""

from __future__ import annotations

import logging

from autotrader.core.settings import Settings
from autotrader.server.app import create_app


def run_server(settings: Settings, *, host: str, port: int) -> None:
    """Serve the app over ``settings`` on ``host:port`` until SIGINT/SIGTERM."""
    import uvicorn

    # uvicorn's own messages (start, stop, errors) go through our handler: the same format and
    # the same secret redaction as every other log line.
    ours = logging.getLogger("autotrader")
    server_log = logging.getLogger("uvicorn")
    server_log.handlers, server_log.propagate = list(ours.handlers), False
    server_log.setLevel(ours.getEffectiveLevel())
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,  # keep the handler set above
        access_log=False,  # the reverse proxy keeps the access log
        server_header=False,
        proxy_headers=True,  # the client address a local reverse proxy forwards
        # Keep idle connections longer than uvicorn's 5 s: a proxy or a busy client reuses
        # them, and closing one just as its next request is on its way fails that request.
        timeout_keep_alive=30,
    )
