"""Analytics intervals as integers: days, Monday or Sunday weeks, months."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maumeter.core.errors import InvalidInput
from maumeter.core.intervals import interval_index, interval_period, interval_range
from maumeter.core.months import period_of, periods_in_range

DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
UNIT_WEEK = st.sampled_from(
    [("day", "monday"), ("week", "monday"), ("week", "sunday"), ("month", "monday")]
)


@given(DATES, UNIT_WEEK)
def test_index_and_period_round_trip(d: date, unit_week: tuple[str, str]) -> None:
    unit, week_start = unit_week
    i = interval_index(d, unit, week_start)
    period = interval_period(i, unit, week_start)
    assert period.first <= d <= period.last
    assert interval_index(period.first, unit, week_start) == i
    assert interval_index(period.last + timedelta(days=1), unit, week_start) == i + 1


@given(DATES, st.sampled_from(["day", "week", "month"]))
def test_monday_intervals_are_the_months_module_periods(d: date, unit: str) -> None:
    assert interval_period(interval_index(d, unit), unit) == period_of(d, unit)


def test_sunday_weeks_run_sunday_to_saturday_with_the_iso_label_of_their_monday() -> None:
    sunday = date(2024, 3, 3)
    for d in (sunday, date(2024, 3, 9)):
        period = interval_period(interval_index(d, "week", "sunday"), "week", "sunday")
        assert (period.label, period.first, period.last) == ("2024-W10", sunday, date(2024, 3, 9))
    # Sunday 2024-12-29 starts the week of Monday 2024-12-30, ISO week 2025-W01.
    period = interval_period(interval_index(date(2024, 12, 29), "week", "sunday"), "week", "sunday")
    assert period.label == "2025-W01"
    assert interval_index(date(2024, 3, 3), "week", "monday") == interval_index(
        date(2024, 3, 2), "week", "monday"
    )


@given(DATES, st.integers(0, 200), st.sampled_from(["day", "week", "month"]))
def test_range_matches_periods_in_range(start: date, days: int, unit: str) -> None:
    end = start + timedelta(days=days)
    got = [interval_period(i, unit) for i in interval_range(start, end, unit)]
    assert got == periods_in_range(start, end, unit)


def test_unknown_unit_or_week_start_is_an_input_error() -> None:
    with pytest.raises(InvalidInput):
        interval_range(date(2024, 1, 1), date(2024, 2, 1), "year")
    with pytest.raises(InvalidInput):
        interval_range(date(2024, 1, 1), date(2024, 2, 1), "week", "saturday")
    with pytest.raises(InvalidInput):
        interval_index(date(2024, 1, 1), "quarter")
    assert not interval_range(date(2024, 2, 1), date(2024, 1, 1), "day")
