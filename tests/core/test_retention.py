"""Retention cohorts by first interval, against a naive count."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maumeter.core.errors import InvalidInput
from maumeter.core.intervals import interval_index, interval_period
from maumeter.core.retention import retention

D = date
BASE = date(2024, 1, 1)
ACTIVITY = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=3),
    st.frozensets(st.dates(min_value=BASE, max_value=BASE + timedelta(days=130)), max_size=20),
    max_size=15,
)
UNIT_WEEK = st.sampled_from(
    [("day", "monday"), ("week", "monday"), ("week", "sunday"), ("month", "monday")]
)


def test_monthly_cohorts() -> None:
    activity = {
        "ann": {D(2024, 1, 5), D(2024, 3, 9)},
        "bob": {D(2024, 1, 20), D(2024, 2, 1)},
        "cat": {D(2024, 2, 29), D(2024, 3, 1)},
        "old": {D(2023, 11, 1), D(2024, 1, 2)},  # first seen before the range: no cohort here
    }
    cohorts = retention(activity, D(2024, 1, 1), D(2024, 4, 30), "month")
    assert [c.to_dict() for c in cohorts] == [
        {"cohort": "2024-01", "size": 2, "retained": [2, 1, 1, 0], "shares": [1.0, 0.5, 0.5, 0.0]},
        {"cohort": "2024-02", "size": 1, "retained": [1, 1, 0], "shares": [1.0, 1.0, 0.0]},
        {"cohort": "2024-03", "size": 0, "retained": [0, 0], "shares": [None, None]},
        {"cohort": "2024-04", "size": 0, "retained": [0], "shares": [None]},
    ]
    capped = retention(activity, D(2024, 1, 1), D(2024, 4, 30), "month", horizon=1)
    assert [c.retained for c in capped] == [(2, 1), (1, 1), (0, 0), (0,)]


def test_invalid_horizon_and_empty_range() -> None:
    with pytest.raises(InvalidInput):
        retention({}, D(2024, 1, 1), D(2024, 2, 1), "month", horizon=-1)
    assert retention({"a": {D(2024, 1, 1)}}, D(2024, 2, 1), D(2024, 1, 1)) == []


@given(ACTIVITY, UNIT_WEEK, st.integers(0, 130))
def test_first_interval_is_everyone_and_matches_naive(activity, unit_week, span) -> None:
    unit, week_start = unit_week
    start, end = BASE + timedelta(days=10), BASE + timedelta(days=10 + span)
    cohorts = retention(activity, start, end, unit, week_start)
    last = interval_index(end, unit, week_start)
    first = interval_index(start, unit, week_start)
    assert sum(c.size for c in cohorts) == sum(
        1
        for ds in activity.values()
        if ds and first <= interval_index(min(ds), unit, week_start) <= last
    )
    for cohort in cohorts:
        c = interval_index(cohort.period.first, unit, week_start)
        members = {
            p for p, ds in activity.items() if ds and interval_index(min(ds), unit, week_start) == c
        }
        assert cohort.size == len(members)
        assert len(cohort.retained) == last - c + 1
        if cohort.size:
            assert cohort.shares[0] == 1.0
            assert all(0.0 <= s <= 1.0 for s in cohort.shares)
        for k, n in enumerate(cohort.retained):
            period = interval_period(c + k, unit, week_start)
            assert n == sum(
                1 for p in members if any(period.first <= d <= period.last for d in activity[p])
            )
