"""The stream's reconnect back-off: exponential from its base, capped, spread by its jitter."""

from __future__ import annotations

import random

from autotrader.market.sources.hyperliquid_stream import ReconnectBackoff


def test_reconnect_back_off_doubles_to_its_cap_with_bounded_jitter() -> None:
    backoff = ReconnectBackoff(base=1.0, cap=8.0, jitter=0.25)
    rng = random.Random(3)

    delays = [backoff.delay(attempt, rng) for attempt in range(6) for _ in range(50)]

    plain = [min(2.0**attempt, 8.0) for attempt in range(6) for _ in range(50)]
    assert all(0.75 * p <= d <= 1.25 * p for d, p in zip(delays, plain, strict=True))
    assert len(set(delays)) > 100  # spread, not lockstep
    assert ReconnectBackoff(1.0, 8.0).delay(1000, rng) == 8.0
