"""Periods in an org's time zone: months, days, ISO weeks, windows, labels."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maumeter.core.errors import InvalidInput, Problem
from maumeter.core.months import (
    Month,
    Period,
    day_bounds,
    epoch_day,
    from_epoch_day,
    iso_week_label,
    local_date,
    months_between,
    period_label,
    period_of,
    periods_in_range,
    rolling_window,
    week_start,
    zone,
)

US = timedelta(microseconds=1)
HOUR = timedelta(hours=1)

# Zones whose local dates never step back across midnight: there, an instant is in a month
# exactly when it lies between the month's bounds.
MONOTONE_ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Europe/Dublin",  # negative DST in tzdata
    "Australia/Lord_Howe",  # 30-minute DST
    "Asia/Kathmandu",  # +5:45, and +5:30 before 1986
    "Pacific/Apia",  # skipped 2011-12-30
    "America/Toronto",  # 1919: clocks jumped from 23:30 to 00:30
    "America/Santiago",  # DST starts at midnight
    "Africa/Casablanca",  # DST suspended for Ramadan
    "Africa/Monrovia",  # -0:44:30 until 1972
]
# Clocks set back from 00:01 to 23:01 (1987-2010): midnight happened twice on those days.
ZONES = [*MONOTONE_ZONES, "America/St_Johns", "America/Goose_Bay"]

instants = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.just(UTC)
)
months = st.integers(Month(1900, 1).index, Month(2100, 12).index).map(Month.from_index)
dates = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def problem_of(excinfo: pytest.ExceptionInfo[InvalidInput]) -> Problem:
    (problem,) = excinfo.value.problems
    return problem


# --- zones -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["UTC", "Europe/Paris", "America/Argentina/Buenos_Aires"])
def test_zone_accepts_iana_names(name: str) -> None:
    assert zone(name).key == name


@pytest.mark.parametrize(
    "name",
    [
        *["", "utc", "Mars/Olympus", "America", "Europe/Paris/", "../etc/passwd"],
        *["/etc/localtime", "Europe/Paris\0", "localtime", "posixrules", "right/UTC"],
        *["posix/UTC", "zone.tab", 3],
    ],
)
def test_zone_refuses_anything_else(name: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        zone(name)  # type: ignore[arg-type]
    problem = problem_of(excinfo)
    assert problem.field == "timezone"
    assert repr(name) in problem.message
    assert "expected an IANA name such as 'Europe/Paris' or 'UTC'" in problem.message


# --- Month -----------------------------------------------------------------------------------


def test_month_value() -> None:
    m = Month(2024, 3)
    assert str(m) == "2024-03"
    assert str(Month(987, 1)) == "0987-01"
    assert Month(2023, 12) < Month(2024, 1) < Month(2024, 2)
    assert {Month(2024, 3), Month.parse("2024-03")} == {m}
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.year = 2025  # type: ignore[misc]
    assert not hasattr(m, "__dict__")


@pytest.mark.parametrize("args", [(2024, 0), (2024, 13), (0, 1), (10000, 1)])
def test_month_refuses_impossible_fields(args: tuple[int, int]) -> None:
    with pytest.raises(ValueError):
        Month(*args)


def test_month_refuses_non_int_fields() -> None:
    with pytest.raises(TypeError):
        Month("2024", 3)  # type: ignore[arg-type]


def test_parse() -> None:
    assert Month.parse("2024-03") == Month(2024, 3)
    assert Month.parse("0001-01") == Month(1, 1)
    assert Month.parse("9999-12") == Month(9999, 12)


@pytest.mark.parametrize(
    "text",
    [
        *["2024-3", "2024-13", "2024-00", "0000-01", "24-03", "2024/03", "2024-03-01"],
        *[" 2024-03", "2024-03 ", "2024-03\n", "２０２４-03", "", "March 2024", None, 202403],
    ],
)
def test_parse_refuses_anything_but_yyyy_mm(text: object) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        Month.parse(text)  # type: ignore[arg-type]
    problem = problem_of(excinfo)
    assert problem.field == "month"
    assert "expected YYYY-MM" in problem.message
    assert repr(text) in problem.message


def test_navigation() -> None:
    assert Month(2023, 12).next() == Month(2024, 1)
    assert Month(2024, 1).prev() == Month(2023, 12)
    assert Month(2024, 3).next().prev() == Month(2024, 3)
    assert Month.from_index(Month(2024, 3).index) == Month(2024, 3)
    assert Month(2024, 3).index == 2024 * 12 + 2
    with pytest.raises(ValueError):
        Month(9999, 12).next()


@pytest.mark.parametrize(
    ("month", "length"),
    [
        *[(Month(2024, 2), 29), (Month(2023, 2), 28), (Month(2000, 2), 29)],
        *[(Month(2100, 2), 28), (Month(2024, 4), 30), (Month(2024, 12), 31)],
        (Month(9999, 12), 31),
    ],
)
def test_days(month: Month, length: int) -> None:
    days = month.days()
    assert len(days) == length
    assert days[0] == month.first_day() == date(month.year, month.month, 1)
    assert days[-1] == month.last_day()
    assert all(b - a == timedelta(days=1) for a, b in pairwise(days))


def test_of_date() -> None:
    assert Month.of_date(date(2024, 2, 29)) == Month(2024, 2)
    with pytest.raises(TypeError):
        Month.of_date(utc(2024, 2, 29))


def test_of_uses_the_zone_not_utc() -> None:
    paris, la = zone("Europe/Paris"), zone("America/Los_Angeles")
    instant = utc(2024, 2, 29, 23, 30)
    assert Month.of(instant, zone("UTC")) == Month(2024, 2)
    assert Month.of(instant, paris) == Month(2024, 3)
    assert Month.of(utc(2024, 3, 1, 7, 59), la) == Month(2024, 2)
    # Any aware datetime denotes one instant, whatever its own offset.
    assert Month.of(instant.astimezone(timezone(timedelta(hours=-11))), paris) == Month(2024, 3)


@pytest.mark.parametrize(
    ("name", "month", "start", "end"),
    [
        ("UTC", Month(2024, 3), utc(2024, 3, 1), utc(2024, 4, 1)),
        ("Europe/Paris", Month(2024, 3), utc(2024, 2, 29, 23), utc(2024, 3, 31, 22)),
        ("America/New_York", Month(2024, 11), utc(2024, 11, 1, 4), utc(2024, 12, 1, 5)),
        ("Asia/Kathmandu", Month(2024, 1), utc(2023, 12, 31, 18, 15), utc(2024, 1, 31, 18, 15)),
        ("America/St_Johns", Month(2024, 1), utc(2024, 1, 1, 3, 30), utc(2024, 2, 1, 3, 30)),
        ("Pacific/Apia", Month(2011, 12), utc(2011, 12, 1, 10), utc(2011, 12, 31, 10)),
        ("Australia/Lord_Howe", Month(2024, 4), utc(2024, 3, 31, 13), utc(2024, 4, 30, 13, 30)),
    ],
)
def test_month_bounds(name: str, month: Month, start: datetime, end: datetime) -> None:
    tz = zone(name)
    assert month.start(tz) == start
    assert month.end(tz) == end
    assert month.start(tz).tzinfo is UTC and month.end(tz).tzinfo is UTC
    assert month.contains(start, tz) and month.contains(end - US, tz)
    assert not month.contains(start - US, tz) and not month.contains(end, tz)


@settings(max_examples=300, deadline=None)
@given(month=months, name=st.sampled_from(ZONES))
def test_last_microsecond_of_a_month_is_in_it_and_the_next_is_not(month: Month, name: str) -> None:
    tz = zone(name)
    end = month.end(tz)
    assert Month.of(end - US, tz) == month
    assert Month.of(end, tz) == month.next()
    assert month.next().start(tz) == end
    assert month.start(tz) < end
    assert local_date(month.start(tz), tz) == month.first_day()
    assert local_date(end - US, tz) == month.last_day()


@settings(max_examples=300, deadline=None)
@given(instant=instants, name=st.sampled_from(MONOTONE_ZONES))
def test_an_instant_lies_within_the_bounds_of_its_month_and_day(
    instant: datetime, name: str
) -> None:
    tz = zone(name)
    month = Month.of(instant, tz)
    assert month.start(tz) <= instant < month.end(tz)
    assert month.contains(instant, tz)
    assert not month.next().contains(instant, tz) and not month.prev().contains(instant, tz)
    start, end = day_bounds(local_date(instant, tz), tz)
    assert start <= instant < end


def test_clocks_set_back_across_midnight() -> None:
    """St. John's, 2009-11-01 00:01 NDT became 2009-10-31 23:01 NST: 00:00-00:01 happened
    twice. Local dates go Nov, Oct, Nov; the month's bound is midnight's first occurrence."""
    tz = zone("America/St_Johns")
    assert Month(2009, 10).end(tz) == utc(2009, 11, 1, 2, 30)
    assert Month.of(utc(2009, 11, 1, 2, 30, 59), tz) == Month(2009, 11)
    assert Month.of(utc(2009, 11, 1, 2, 31), tz) == Month(2009, 10)
    assert Month.of(utc(2009, 11, 1, 3, 30), tz) == Month(2009, 11)
    start, end = day_bounds(date(2009, 11, 1), tz)
    assert (start, end - start) == (utc(2009, 11, 1, 2, 30), timedelta(hours=25))


# --- instants and days -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda tz: local_date(datetime(2024, 3, 1), tz),
        lambda tz: Month.of(datetime(2024, 3, 1), tz),
        lambda tz: Month(2024, 3).contains(datetime(2024, 3, 1), tz),
    ],
)
def test_naive_datetimes_are_refused(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="naive"):
        call(zone("UTC"))


def test_non_datetimes_are_refused() -> None:
    with pytest.raises(TypeError):
        local_date(date(2024, 3, 1), zone("UTC"))  # type: ignore[arg-type]


def test_local_date() -> None:
    assert local_date(utc(2024, 3, 9, 23, 59), zone("Asia/Tokyo")) == date(2024, 3, 10)
    assert local_date(utc(2024, 3, 10, 4, 59), zone("America/New_York")) == date(2024, 3, 9)
    # Apia jumped from 2011-12-29 23:59:59 (-10:00) to 2011-12-31 00:00 (+14:00).
    apia = zone("Pacific/Apia")
    assert local_date(utc(2011, 12, 30, 9, 59, 59, 999999), apia) == date(2011, 12, 29)
    assert local_date(utc(2011, 12, 30, 10), apia) == date(2011, 12, 31)


@pytest.mark.parametrize(
    ("name", "day", "start", "length"),
    [
        ("UTC", date(2024, 3, 10), utc(2024, 3, 10), timedelta(hours=24)),
        ("America/New_York", date(2024, 3, 10), utc(2024, 3, 10, 5), 23 * HOUR),
        ("America/New_York", date(2024, 11, 3), utc(2024, 11, 3, 4), 25 * HOUR),
        ("Europe/Berlin", date(2024, 3, 31), utc(2024, 3, 30, 23), 23 * HOUR),
        ("Europe/Berlin", date(2024, 10, 27), utc(2024, 10, 26, 22), 25 * HOUR),
        ("Australia/Lord_Howe", date(2024, 4, 7), utc(2024, 4, 6, 13), 24.5 * HOUR),
        ("Australia/Lord_Howe", date(2024, 10, 6), utc(2024, 10, 5, 13, 30), 23.5 * HOUR),
        ("America/St_Johns", date(2024, 3, 10), utc(2024, 3, 10, 3, 30), 23 * HOUR),
        ("America/St_Johns", date(2024, 11, 3), utc(2024, 11, 3, 2, 30), 25 * HOUR),
        ("Asia/Kathmandu", date(2024, 6, 1), utc(2024, 5, 31, 18, 15), 24 * HOUR),
        ("Asia/Kathmandu", date(1986, 1, 1), utc(1985, 12, 31, 18, 30), 23.75 * HOUR),
        # Midnight skipped: the day starts at the transition, at 01:00.
        ("America/Santiago", date(2024, 9, 8), utc(2024, 9, 8, 4), 23 * HOUR),
        # Clocks jumped from 23:30 to 00:30: Mar 30 ends and Mar 31 starts at the jump.
        ("America/Toronto", date(1919, 3, 30), utc(1919, 3, 30, 5), 23.5 * HOUR),
        ("America/Toronto", date(1919, 3, 31), utc(1919, 3, 31, 4, 30), 23.5 * HOUR),
        ("Pacific/Apia", date(2011, 12, 29), utc(2011, 12, 29, 10), 24 * HOUR),
        ("Pacific/Apia", date(2011, 12, 30), utc(2011, 12, 30, 10), timedelta(0)),
        ("Pacific/Apia", date(2011, 12, 31), utc(2011, 12, 30, 10), 24 * HOUR),
        # -0:44:30 until 1972-01-07 00:00, then GMT: 00:00-00:44:30 never happened.
        (
            "Africa/Monrovia",
            date(1972, 1, 7),
            utc(1972, 1, 7, 0, 44, 30),
            timedelta(hours=23, minutes=15, seconds=30),
        ),
    ],
)
def test_day_bounds(name: str, day: date, start: datetime, length: timedelta) -> None:
    tz = zone(name)
    got_start, got_end = day_bounds(day, tz)
    assert (got_start, got_end - got_start) == (start, length)
    assert got_start.tzinfo is UTC
    if length:
        assert local_date(got_start, tz) == day and local_date(got_end - US, tz) == day
    assert local_date(got_start - US, tz) < day
    assert local_date(got_end, tz) > day


# --- weeks, windows, epoch days --------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "label", "monday"),
    [
        (date(2024, 2, 29), "2024-W09", date(2024, 2, 26)),
        (date(2024, 3, 3), "2024-W09", date(2024, 2, 26)),  # Sunday
        (date(2024, 3, 4), "2024-W10", date(2024, 3, 4)),  # Monday
        (date(2024, 12, 30), "2025-W01", date(2024, 12, 30)),
        (date(2025, 1, 1), "2025-W01", date(2024, 12, 30)),
        (date(2021, 1, 3), "2020-W53", date(2020, 12, 28)),
        (date(2027, 1, 1), "2026-W53", date(2026, 12, 28)),
        (date(2026, 1, 1), "2026-W01", date(2025, 12, 29)),
        (date(2008, 12, 29), "2009-W01", date(2008, 12, 29)),
    ],
)
def test_iso_weeks(day: date, label: str, monday: date) -> None:
    assert iso_week_label(day) == label
    assert week_start(day) == monday


@given(dates.filter(lambda d: date(1, 1, 7) < d))
def test_week_start_property(day: date) -> None:
    monday = week_start(day)
    assert monday.weekday() == 0
    assert timedelta(0) <= day - monday <= timedelta(days=6)
    assert iso_week_label(monday) == iso_week_label(day)


def test_rolling_window() -> None:
    assert rolling_window(date(2024, 3, 1)) == (date(2024, 2, 1), date(2024, 3, 1))  # leap
    assert rolling_window(date(2023, 3, 1)) == (date(2023, 1, 31), date(2023, 3, 1))
    assert rolling_window(date(2024, 3, 1), 7) == (date(2024, 2, 24), date(2024, 3, 1))
    assert rolling_window(date(2024, 3, 1), 1) == (date(2024, 3, 1), date(2024, 3, 1))


@pytest.mark.parametrize("days", [0, -3, True, 2.0])
def test_rolling_window_needs_a_positive_number_of_days(days: int) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        rolling_window(date(2024, 3, 1), days)
    assert problem_of(excinfo).field == "days"


def test_epoch_days() -> None:
    assert epoch_day(date(1970, 1, 1)) == 0
    assert epoch_day(date(1969, 12, 31)) == -1
    assert epoch_day(date(2000, 3, 1)) == 11017
    assert from_epoch_day(19_783) == date(2024, 3, 1)


@given(dates)
def test_epoch_day_round_trip(day: date) -> None:
    assert from_epoch_day(epoch_day(day)) == day
    assert epoch_day(day) == (day - date(1970, 1, 1)).days


def test_months_between() -> None:
    assert months_between(Month(2023, 11), Month(2024, 2)) == [
        Month(2023, 11),
        Month(2023, 12),
        Month(2024, 1),
        Month(2024, 2),
    ]
    assert months_between(Month(2024, 2), Month(2024, 2)) == [Month(2024, 2)]
    assert months_between(Month(2024, 3), Month(2024, 2)) == []


# --- series labels ---------------------------------------------------------------------------


def test_period_label() -> None:
    day = date(2024, 3, 1)
    assert period_label(day, "day") == "2024-03-01"
    assert period_label(day, "week") == "2024-W09"
    assert period_label(day, "month") == "2024-03"
    assert period_of(day, "week") == Period("2024-W09", date(2024, 2, 26), date(2024, 3, 3))
    assert period_of(day, "month") == ("2024-03", date(2024, 3, 1), date(2024, 3, 31))


@pytest.mark.parametrize(
    "call",
    [
        lambda: period_label(date(2024, 3, 1), "year"),
        lambda: period_of(date(2024, 3, 1), "Month"),
        lambda: periods_in_range(date(2024, 3, 1), date(2024, 3, 2), "hour"),
        lambda: periods_in_range(date(2024, 3, 2), date(2024, 3, 1), "hour"),
    ],
)
def test_unknown_unit(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as excinfo:
        call()
    problem = problem_of(excinfo)
    assert problem.field == "unit"
    assert "expected one of day, week, month" in problem.message


def test_periods_in_range_are_whole_periods() -> None:
    wed, next_wed = date(2024, 3, 6), date(2024, 3, 13)
    assert periods_in_range(wed, next_wed, "week") == [
        ("2024-W10", date(2024, 3, 4), date(2024, 3, 10)),
        ("2024-W11", date(2024, 3, 11), date(2024, 3, 17)),
    ]
    assert periods_in_range(date(2023, 12, 15), date(2024, 2, 10), "month") == [
        ("2023-12", date(2023, 12, 1), date(2023, 12, 31)),
        ("2024-01", date(2024, 1, 1), date(2024, 1, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
    ]
    assert [p.label for p in periods_in_range(date(2024, 2, 28), date(2024, 3, 1), "day")] == [
        "2024-02-28",
        "2024-02-29",
        "2024-03-01",
    ]
    assert periods_in_range(date(2024, 3, 2), date(2024, 3, 1), "day") == []


@given(
    start=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)),
    length=st.integers(0, 400),
    unit=st.sampled_from(["day", "week", "month"]),
)
def test_periods_in_range_tile_the_range(start: date, length: int, unit: str) -> None:
    end = start + timedelta(days=length)
    periods = periods_in_range(start, end, unit)
    assert periods[0].first <= start <= periods[0].last
    assert periods[-1].first <= end <= periods[-1].last
    for a, b in pairwise(periods):
        assert b.first == a.last + timedelta(days=1)
    for p in periods:
        assert p == period_of(p.first, unit) == period_of(p.last, unit)
        assert p.label == period_label(p.last, unit)
