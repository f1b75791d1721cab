"""Stickiness: DAU/MAU per day and month, and the active-days histogram."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maumeter.core.errors import InvalidInput
from maumeter.core.months import Month
from maumeter.core.stickiness import daily_stickiness, frequency, monthly_stickiness

D = date
BASE = date(2024, 1, 20)
ACTIVITY = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=3),
    st.frozensets(st.dates(min_value=BASE, max_value=BASE + timedelta(days=60)), max_size=20),
    max_size=15,
)


def test_dau_over_the_whole_calendar_month() -> None:
    activity = {
        "ann": {D(2024, 2, 1), D(2024, 2, 2)},
        "bob": {D(2024, 2, 1), D(2024, 2, 20)},  # MAU includes days after the range
        "cat": {D(2024, 1, 31), D(2024, 3, 1)},  # other months: not February's MAU
    }
    rows = daily_stickiness(activity, D(2024, 1, 31), D(2024, 2, 2))
    assert [(r.day.day, r.dau, r.mau, r.ratio) for r in rows] == [
        (31, 1, 1, 1.0),
        (1, 2, 2, 1.0),
        (2, 1, 2, 0.5),
    ]
    months = monthly_stickiness(rows)
    assert [(m.month, m.days, m.mau, m.ratio) for m in months] == [
        (Month(2024, 1), 1, 1, 1.0),
        (Month(2024, 2), 2, 2, 0.75),
    ]
    assert daily_stickiness({}, D(2024, 1, 1), D(2024, 1, 1))[0].ratio == 0.0
    assert daily_stickiness(activity, D(2024, 2, 2), D(2024, 2, 1)) == []


def test_frequency_histogram_of_days_and_weeks() -> None:
    activity = {
        "ann": {D(2024, 3, 4), D(2024, 3, 5), D(2024, 3, 11)},
        "bob": {D(2024, 3, 4)},
        "cat": {D(2024, 2, 1)},  # outside the range: not in the histogram
    }
    days = frequency(activity, D(2024, 3, 4), D(2024, 3, 17))
    assert days.counts == (1, 0, 1) + (0,) * 11
    assert days.persons() == 2
    weeks = frequency(activity, D(2024, 3, 4), D(2024, 3, 17), "week")
    assert weeks.to_dict() == {"unit": "week", "counts": {"1": 1, "2": 1}}
    # Sunday weeks: 03-03..09 and 03-10..16, plus Sunday 03-17 opens a third.
    assert frequency(activity, D(2024, 3, 4), D(2024, 3, 17), "week", "sunday").counts == (1, 1, 0)
    with pytest.raises(InvalidInput):
        frequency(activity, D(2024, 3, 4), D(2024, 3, 17), "month")


@given(ACTIVITY, st.integers(0, 60), st.integers(0, 60))
def test_against_naive(activity, a, b) -> None:
    start, end = BASE + timedelta(days=min(a, b)), BASE + timedelta(days=max(a, b))
    rows = daily_stickiness(activity, start, end)
    assert len(rows) == (end - start).days + 1
    for row in rows:
        month = Month.of_date(row.day)
        assert row.dau == sum(1 for ds in activity.values() if row.day in ds)
        assert row.mau == sum(
            1 for ds in activity.values() if any(Month.of_date(d) == month for d in ds)
        )
        assert 0.0 <= row.ratio <= 1.0
    for m in monthly_stickiness(rows):
        in_month = [r for r in rows if Month.of_date(r.day) == m.month]
        assert m.ratio == pytest.approx(
            sum(r.dau for r in in_month) / len(in_month) / m.mau if m.mau else 0.0
        )
    hist = frequency(activity, start, end)
    assert len(hist.counts) == (end - start).days + 1
    for k, n in enumerate(hist.counts, 1):
        assert n == sum(
            1 for ds in activity.values() if len({d for d in ds if start <= d <= end}) == k
        )
