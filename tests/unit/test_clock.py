import pytest

from autotrader.core.clock import SimulatedClock, SystemClock, age_seconds, iso_utc, parse_iso_utc


def test_simulated_clock_moves_only_when_told():
    clock = SimulatedClock(1_000)
    assert clock.now_ms() == 1_000
    assert clock.advance(seconds=1.5) == 2_500
    clock.set(10_000)
    assert clock.now_ms() == 10_000


def test_simulated_clock_refuses_to_run_backwards():
    with pytest.raises(ValueError, match="backwards"):
        SimulatedClock(0).advance(ms=-1)


def test_system_clock_returns_epoch_milliseconds():
    assert SystemClock().now_ms() > 1_600_000_000_000


def test_iso_utc_round_trips_through_parse():
    assert iso_utc(1_700_000_000_000) == "2023-11-14T22:13:20Z"
    assert iso_utc(1_700_000_000_123) == "2023-11-14T22:13:20.123Z"
    assert parse_iso_utc("2023-11-14T22:13:20Z") == 1_700_000_000_000
    assert parse_iso_utc("2023-11-14 23:13:20+01:00") == 1_700_000_000_000
    assert parse_iso_utc("2023-11-14T22:13:20") == 1_700_000_000_000  # naive means UTC


def test_parse_iso_utc_names_the_bad_text():
    with pytest.raises(ValueError, match="yesterday"):
        parse_iso_utc("yesterday")


def test_age_is_measured_by_the_given_clock():
    clock = SimulatedClock(10_000)
    assert age_seconds(clock, 4_000) == 6.0
    assert age_seconds(clock, None) is None
