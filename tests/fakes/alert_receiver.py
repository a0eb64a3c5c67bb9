"""A loopback webhook that apprise's JSON target (``json://127.0.0.1:PORT/hook``) posts to: it
records every message (apprise's payload: version, title, message, type) and can refuse the
next ones, as a channel that is down would.

Usage::

    with FakeAlertReceiver() as hook:
        hook.fail_next(2)                  # two 500s, then it accepts again
        url = hook.apprise_url             # json://127.0.0.1:PORT/hook
        ... hook.messages                  # [{"title": ..., "message": ...}, ...]
"""

from __future__ import annotations

import json
import threading
from typing import Any

from tests.fakes._loopback import Loopback, QuietHandler


class _Handler(QuietHandler):
    def do_POST(self) -> None:
        self.reply(*self.server.fake._receive(self.path, self.read_body()))


class FakeAlertReceiver:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.refused = 0
        self._failures = 0
        self._lock = threading.Lock()
        self._loopback = Loopback(_Handler, self)

    @property
    def apprise_url(self) -> str:
        return self._loopback.url.replace("http://", "json://") + "/hook"

    def fail_next(self, n: int) -> None:
        with self._lock:
            self._failures += n

    def _receive(self, path: str, body: bytes) -> tuple[int, Any]:
        with self._lock:
            if self._failures:
                self._failures -= 1
                self.refused += 1
                return 500, {"error": "down for maintenance"}
            self.messages.append({"path": path, **json.loads(body)})
            return 200, {"ok": True}

    def close(self) -> None:
        self._loopback.close()

    def __enter__(self) -> FakeAlertReceiver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
