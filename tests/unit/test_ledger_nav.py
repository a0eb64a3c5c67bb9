"""Resampling a NAV series into epoch-aligned buckets: the last value of each, carried forward
through empty ones."""

from __future__ import annotations

from decimal import Decimal as D

from autotrader.ledger.nav import resample

H = 3_600_000


def test_each_bucket_holds_its_last_value_labelled_with_its_start():
    series = [(0, D(100)), (H // 2, D(101)), (H + 5, D(99)), (H + 10, D(98))]
    assert resample(series, H) == [(0, D(101)), (H, D(98))]


def test_an_empty_bucket_carries_the_previous_value():
    assert resample([(10, D(100)), (3 * H + 1, D(90))], H) == [
        (0, D(100)),
        (H, D(100)),
        (2 * H, D(100)),
        (3 * H, D(90)),
    ]


def test_an_empty_series_stays_empty():
    assert resample([], H) == []
