"""Read-only connections for request handlers.

The store is SQLite in WAL mode: readers never block the workers' writes and never wait for
them. Each request borrows one read-only connection from a pool for its whole life and reads
inside one snapshot (``Store.read``), so a page never mixes two states of the store; the
connection goes back to the pool afterwards. Connections are opened on demand and at most
``max_idle`` are kept: more than the server's worker threads (40), so a busy server reuses
connections instead of opening one (and parsing the schema) per request.
"""

from __future__ import annotations

import contextlib
import queue
from collections.abc import Callable, Iterator

from autotrader.core.db import Store


class StorePool:
    """Lend read-only stores made by ``opener`` (``Store(path, readonly=True)``)."""

    def __init__(self, opener: Callable[[], Store], *, max_idle: int = 64) -> None:
        self._opener = opener
        self._idle: queue.LifoQueue[Store] = queue.LifoQueue()
        self._max_idle = max_idle

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Store]:
        """A connection of its own for the block, reading one consistent snapshot."""
        try:
            store = self._idle.get_nowait()
        except queue.Empty:
            store = self._opener()
        try:
            with store.read():
                yield store
        finally:
            if self._idle.qsize() < self._max_idle:
                self._idle.put(store)
            else:
                store.close()

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
