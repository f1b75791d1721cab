"""Lifecycle per interval: new, returning, resurrecting, dormant, against a naive count."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from maumeter.core.intervals import interval_index, interval_period
from maumeter.core.lifecycle import lifecycle
from maumeter.core.months import period_of

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
RANGE = st.tuples(st.integers(0, 130), st.integers(0, 130))


def active(activity: dict[str, frozenset[date]], first: date, last: date) -> set[str]:
    return {p for p, dates in activity.items() if any(first <= d <= last for d in dates)}


def test_monthly_example() -> None:
    activity = {
        "ann": {D(2024, 1, 5), D(2024, 2, 3), D(2024, 3, 9)},  # new, returning, returning
        "bob": {D(2024, 1, 20), D(2024, 3, 1)},  # new, dormant, resurrecting
        "cat": {D(2024, 2, 29)},  # new in Feb, dormant in Mar
        "dan": {D(2023, 12, 31), D(2024, 1, 1)},  # before the range: returning in Jan
        "eve": set(),  # never active: nowhere
    }
    rows = [r.to_dict() for r in lifecycle(activity, D(2024, 1, 1), D(2024, 3, 31), "month")]
    assert rows == [
        {"period": "2024-01", "new": 2, "returning": 1, "resurrecting": 0, "dormant": 0},
        {"period": "2024-02", "new": 1, "returning": 1, "resurrecting": 0, "dormant": 2},
        {"period": "2024-03", "new": 0, "returning": 1, "resurrecting": 1, "dormant": 1},
    ]


def test_weeks_follow_the_week_start() -> None:
    # Sunday 2024-03-03 then Monday 2024-03-04: one Sunday week, two Monday weeks.
    activity = {"ann": {D(2024, 3, 3), D(2024, 3, 4)}}
    monday = lifecycle(activity, D(2024, 2, 26), D(2024, 3, 10), "week")
    sunday = lifecycle(activity, D(2024, 2, 26), D(2024, 3, 10), "week", "sunday")
    assert [(r.period.label, r.new, r.returning) for r in monday] == [
        ("2024-W09", 1, 0),
        ("2024-W10", 0, 1),
    ]
    # ...the range's last day, Sunday 03-10, opens a third Sunday week.
    assert [r.period.first for r in sunday] == [D(2024, 2, 25), D(2024, 3, 3), D(2024, 3, 10)]
    assert [(r.new, r.returning, r.dormant) for r in sunday] == [(0, 0, 0), (1, 0, 0), (0, 0, 1)]


def test_empty_range_and_empty_intervals() -> None:
    assert lifecycle({"a": {D(2024, 1, 1)}}, D(2024, 2, 1), D(2024, 1, 1), "day") == []
    rows = lifecycle({"a": {D(2024, 1, 1)}}, D(2024, 1, 1), D(2024, 1, 4), "day")
    assert [(r.new, r.dormant, r.active) for r in rows] == [
        (1, 0, 1),
        (0, 1, 0),
        (0, 0, 0),
        (0, 0, 0),
    ]


@given(ACTIVITY, UNIT_WEEK, RANGE)
def test_identities_and_naive_reference(activity, unit_week, bounds) -> None:
    unit, week_start = unit_week
    start, end = (BASE + timedelta(days=min(bounds)), BASE + timedelta(days=max(bounds)))
    rows = lifecycle(activity, start, end, unit, week_start)
    assert rows, "a non-empty range has at least one interval"
    for row in rows:
        period = row.period
        prev = interval_period(
            interval_index(period.first - timedelta(days=1), unit, week_start), unit, week_start
        )
        now = active(activity, period.first, period.last)
        before = active(activity, prev.first, prev.last)
        ever = active(activity, date.min, prev.last)
        assert row.new + row.returning + row.resurrecting == len(now)
        assert row.returning + row.dormant == len(before)
        assert row.new == len(now - ever)
        assert row.returning == len(now & before)
        assert row.resurrecting == len((now & ever) - before)
        assert row.dormant == len(before - now) >= 0
        if unit != "week" or week_start == "monday":
            assert period == period_of(period.first, unit)
