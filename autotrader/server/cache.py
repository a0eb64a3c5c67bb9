"""A small stale-while-revalidate cache for read models that walk the whole store.

The leaderboard sums every account's ledger, snapshots and model costs: seconds on a
million-entry store, far too slow to compute per request when a dashboard polls it. A cached
value younger than its lifetime is served as is; an older one is still served, while one
background thread recomputes it; only the very first request of a key computes it in line.
The lifetime is ``ttl_s``, or ten times what the value took to compute when that is longer, so
refreshing a slow read model never takes more than a tenth of the server's time. The page
says as of when.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)
COST_FACTOR = 10  # a value lives at least ten times as long as it took to compute


@dataclass(frozen=True)
class Cached:
    value: Any
    computed_at: float  # time.time() when the computation started
    cost_s: float  # how long it took


class ReadCache:
    """``get(key, compute)``: the cached value of ``key``, computing or refreshing it with
    ``compute()`` (a callable that opens its own read snapshot)."""

    def __init__(self, ttl_s: float, *, max_keys: int = 256) -> None:
        self.ttl_s = ttl_s
        self._max_keys = max_keys
        self._values: dict[Hashable, Cached] = {}
        self._refreshing: set[Hashable] = set()
        self._first: dict[Hashable, threading.Lock] = {}  # a key's first computation, once
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Cached:
        with self._lock:
            cached = self._values.get(key)
            stale = cached is not None and time.time() - cached.computed_at >= max(
                self.ttl_s, COST_FACTOR * cached.cost_s
            )
            refresh = stale and key not in self._refreshing
            if refresh:
                self._refreshing.add(key)
        if cached is None:
            return self._first_value(key, compute)
        if refresh:
            threading.Thread(target=self._refresh, args=(key, compute), daemon=True).start()
        return cached

    def _first_value(self, key: Hashable, compute: Callable[[], Any]) -> Cached:
        """Compute a key never computed yet; requests arriving meanwhile wait for that one
        computation instead of each starting their own (a cold leaderboard takes seconds)."""
        with self._lock:
            first = self._first.setdefault(key, threading.Lock())
        with first:
            with self._lock:
                cached = self._values.get(key)
            return cached if cached is not None else self._compute(key, compute)

    def _compute(self, key: Hashable, compute: Callable[[], Any]) -> Cached:
        started = time.time()
        value = compute()
        result = Cached(value, started, time.time() - started)
        with self._lock:
            if len(self._values) >= self._max_keys and key not in self._values:
                self._values.pop(next(iter(self._values)))  # the oldest key: a bound, not an LRU
            self._values[key] = result
        return result

    def _refresh(self, key: Hashable, compute: Callable[[], Any]) -> None:
        try:
            self._compute(key, compute)
        except Exception:  # the stale value stays; the next request past the ttl tries again
            log.exception("refreshing a cached read model failed")
        finally:
            with self._lock:
                self._refreshing.discard(key)


class Derived:
    """What is built from a cached value (its rows sorted one way, encoded as JSON, rendered as
    a page), remembered until that value is recomputed: a dashboard polling the leaderboard
    then costs a dictionary lookup, not a sort, an encoding and a template per request."""

    def __init__(self, *, max_keys: int = 512) -> None:
        self._max_keys = max_keys
        self._values: dict[Hashable, tuple[Cached, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, source: Cached, build: Callable[[], Any]) -> Any:
        with self._lock:
            hit = self._values.get(key)
        if hit is not None and hit[0] is source:
            return hit[1]
        value = build()
        with self._lock:
            if len(self._values) >= self._max_keys and key not in self._values:
                self._values.pop(next(iter(self._values)))
            self._values[key] = (source, value)
        return value
