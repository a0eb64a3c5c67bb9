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


@pytest.mark.parametrize(
    "stored",
    [253_402_300_800_000, -62_135_596_800_001, 2**63 - 1, -(2**63), 10**400],
)
def test_iso_utc_renders_a_time_it_cannot_show_visibly_instead_of_raising(stored):
    assert iso_utc(stored) == f"<invalid time {stored}>"


def test_iso_utc_shows_the_edges_of_what_a_calendar_holds():
    assert iso_utc(253_402_300_799_999) == "9999-12-31T23:59:59.999Z"
    assert iso_utc(-62_135_596_800_000) == "0001-01-01T00:00:00Z"


def test_the_product_time_range_is_2000_to_2100():
    from autotrader.core.clock import MAX_TIME_MS, MIN_TIME_MS

    assert (iso_utc(MIN_TIME_MS), iso_utc(MAX_TIME_MS)) == (
        "2000-01-01T00:00:00Z",
        "2100-01-01T00:00:00Z",
    )
