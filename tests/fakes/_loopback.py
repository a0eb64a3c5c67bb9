"""The plumbing every loopback fake shares: a threaded HTTP server on 127.0.0.1 (a free port)
served from a daemon thread, and a quiet handler that writes JSON (or raw bytes) answers.

Each fake keeps only what makes it that service: how it routes and answers requests.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackServer(ThreadingHTTPServer):
    """A server whose handler threads never block ``close()`` (a handler may still be sleeping
    for a timeout test). ``fake`` is the object the handler asks for answers."""

    daemon_threads = True
    fake: Any


class QuietHandler(BaseHTTPRequestHandler):
    """A handler that reads JSON bodies, writes JSON answers, and logs nothing."""

    server: LoopbackServer

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> None:
        """Send ``payload`` as JSON, or as text when it is ``bytes`` (an HTML error page, say)."""
        raw = isinstance(payload, bytes)
        data = payload if raw else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if raw else "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to tell it

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean


class Loopback:
    """Serve ``handler`` for ``fake`` until ``close()``; ``url`` is ``http://127.0.0.1:PORT``."""

    def __init__(self, handler: type[QuietHandler], fake: Any) -> None:
        self._server = LoopbackServer(("127.0.0.1", 0), handler)
        self._server.fake = fake
        # A short poll interval keeps close() (which waits for the next poll) fast in teardown.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
