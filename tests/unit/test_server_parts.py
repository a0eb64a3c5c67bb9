"""The server's small parts on their own: cursors, the API's value encoding, the read cache."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest

from autotrader.core.errors import InvalidInputError
from autotrader.server.cache import Derived, ReadCache
from autotrader.server.encoding import api_value
from autotrader.server.paging import decode_cursor, encode_cursor


def test_a_cursor_round_trips_and_a_forged_one_is_refused():
    assert decode_cursor(encode_cursor(1_700_000_000_000, 42), parts=2) == (1_700_000_000_000, 42)
    for forged in ("", "!!!", encode_cursor(1), encode_cursor(2**70, 1), "YWJj"):
        with pytest.raises(InvalidInputError, match="not a cursor"):
            decode_cursor(forged, parts=2)


def test_money_is_canonical_decimal_text_and_epoch_fields_become_iso_times():
    value = api_value(
        {
            "amount": Decimal("0.10"),
            "created_at": 0,
            "holding_ms": 5,
            "rows": [{"time": 60_000}],
            "ok": True,
            "sharpe": 1.5,
            "closed_at": None,
        }
    )
    assert value == {
        "amount": "0.1",  # canonical text, as the store keeps it
        "created_at": "1970-01-01T00:00:00Z",
        "holding_ms": 5,
        "rows": [{"time": "1970-01-01T00:01:00Z"}],
        "ok": True,
        "sharpe": 1.5,
        "closed_at": None,
    }


def test_the_cache_serves_a_stale_value_while_one_refresh_runs_in_the_background():
    cache = ReadCache(ttl_s=0.05)
    calls, gate = [], threading.Event()

    def compute():
        calls.append(1)
        if len(calls) > 1:
            gate.wait(5)
        return len(calls)

    assert cache.get("k", compute).value == 1
    time.sleep(0.06)
    assert cache.get("k", compute).value == 1  # stale: served, a refresh starts
    assert cache.get("k", compute).value == 1  # still refreshing: no second refresh
    gate.set()
    deadline = time.monotonic() + 5
    while cache.get("k", compute).value != 2:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert len(calls) == 2


def test_requests_during_a_first_computation_wait_for_it_instead_of_repeating_it():
    cache, calls = ReadCache(ttl_s=60), []

    def compute():
        calls.append(1)
        time.sleep(0.1)
        return "v"

    threads = [threading.Thread(target=cache.get, args=("k", compute)) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [1]
    assert cache.get("k", compute).value == "v"


def test_a_slow_value_lives_ten_times_its_cost():
    cache = ReadCache(ttl_s=0.01)
    cache.get("slow", lambda: time.sleep(0.05) or "v")
    time.sleep(0.02)
    refreshed = []
    cache.get("slow", lambda: refreshed.append(1) or "w")
    assert refreshed == []  # 0.02 s < 10 × 0.05 s: still fresh


def test_a_derived_view_is_rebuilt_only_when_its_source_is_recomputed():
    cache, derived, built = ReadCache(ttl_s=60), Derived(), []
    source = cache.get("k", lambda: [3, 1, 2])
    for _ in range(3):
        derived.get("sorted", source, lambda: built.append(1) or sorted(source.value))
    assert built == [1]
