"""Month-end projection from accrual, its interval, the linear fallback and the breach day."""

from __future__ import annotations

from datetime import date
from itertools import accumulate, pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maumeter.core.accrual import Projection, breach_day, percentile, project
from maumeter.core.months import Month

APRIL = Month(2024, 4)  # 30 days
MARCH = Month(2024, 3)  # 31 days
FEBRUARY = Month(2024, 2)  # 29 days


def concave(final: int, days: int) -> list[int]:
    """Half of the month's MAU by a third of the month, then linear: a typical accrual."""
    third = days // 3
    return [
        final * k // (2 * third)
        if k <= third
        else final // 2 + (final - final // 2) * (k - third) // (days - third)
        for k in range(1, days + 1)
    ]


def test_accrual_projection_uses_the_share_reached_by_the_same_day() -> None:
    history = [concave(1000, 30), concave(4000, 30), concave(2000, 30)]
    p = project(APRIL, concave(3000, 30)[:10], history)
    assert p.method == "accrual" and p.history == 3
    assert (p.day, p.mau) == (10, 1500)
    assert p.expected == 3000 == p.low == p.high  # every month had half by day 10


def test_linear_would_overshoot_where_accrual_does_not() -> None:
    current = concave(3000, 30)[:10]
    assert project(APRIL, current, []).expected == 4500
    assert project(APRIL, current, [concave(900, 30)] * 3).expected == 3000


def test_months_of_different_lengths_are_aligned_by_fraction() -> None:
    feb = [k * 10 for k in range(1, 30)]  # linear over 29 days
    p = project(MARCH, [k * 7 for k in range(1, 16)], [feb, feb, feb])  # day 15 of 31
    assert p.expected == round(105 / (15 / 31))


def test_interval_from_the_spread_of_earlier_months() -> None:
    # by day 10 of 30 these months had reached 40 %, 45 %, 50 %, 55 %, 60 % of their MAU
    history = [[share * k // 10 for k in range(1, 11)] + [100] * 20 for share in range(40, 61, 5)]
    p = project(APRIL, [50] * 10, history)
    assert p.history == 5
    assert p.expected == 100  # 50 / 0.5
    assert p.low == 50 * 100 // 58  # 90th percentile share: 58 %
    assert p.high == -(-50 * 100 // 42)  # 10th percentile share: 42 %, rounded up
    assert p.low < p.expected < p.high


def test_short_history_widens_the_interval_to_the_linear_one() -> None:
    p = project(APRIL, [100] * 10, [concave(900, 30)])
    assert p.method == "accrual" and p.history == 1
    assert p.low == 100 and p.high == 100 + 300 and p.expected == 200


def test_no_history_falls_back_to_linear_with_a_wide_interval() -> None:
    p = project(APRIL, list(range(10, 101, 10)), [])
    assert (p.method, p.expected, p.low, p.high) == ("linear", 300, 100, 400)
    assert project(APRIL, [5], [[0] * 30, [0] * 9 + [7] * 21]).method == "linear"  # no usable month


def test_the_last_day_is_exact() -> None:
    for history in ([], [concave(700, 31)] * 4):
        p = project(APRIL, concave(555, 30), history)
        assert p.expected == p.low == p.high == 555


def test_zero_so_far_projects_zero() -> None:
    p = project(APRIL, [0, 0, 0], [concave(100, 30)] * 3)
    assert (p.expected, p.low, p.high) == (0, 0, 0)
    assert breach_day(p, 10) is None


def test_projection_to_dict() -> None:
    p = project(APRIL, [100] * 10, [])
    assert p.to_dict() == {
        "month": "2024-04",
        "day": 10,
        "mau": 100,
        "expected": 300,
        "low": 100,
        "high": 400,
        "method": "linear",
        "history": 0,
    }


@pytest.mark.parametrize(
    ("current", "earlier"),
    [
        ([], []),
        ([1] * 31, []),
        ([-1], []),
        ([True], []),
        ([1], [[]]),
        ([1], [[1, 2.5]]),
    ],
)
def test_bad_curves_are_refused(current: list[int], earlier: list[list[int]]) -> None:
    with pytest.raises(ValueError):
        project(APRIL, current, earlier)


def test_percentile() -> None:
    assert percentile([4, 1, 3, 2, 5], 0.5) == 3
    assert percentile([1, 2], 0.1) == pytest.approx(1.1)
    assert percentile([7], 0.9) == 7
    with pytest.raises(ValueError):
        percentile([], 0.5)


# --- breach day ------------------------------------------------------------------------------


def test_breach_day_follows_the_linear_shape() -> None:
    p = project(APRIL, [10 * k for k in range(1, 11)], [])
    assert breach_day(p, 200) == date(2024, 4, 20)
    assert breach_day(p, 300) == date(2024, 4, 30)
    assert breach_day(p, 301) is None
    assert breach_day(p, None) is None


def test_breach_day_follows_the_accrual_shape() -> None:
    history = [concave(900, 30)] * 3  # half by day 10, then 1/40 of the month per day
    p = project(APRIL, concave(3000, 30)[:5], history)
    assert p.expected == 3000
    assert breach_day(p, 1500) == date(2024, 4, 10)
    assert breach_day(p, 2250) == date(2024, 4, 20)
    assert breach_day(p, 3001) is None


def test_breach_day_in_the_past_comes_from_the_curve() -> None:
    current = [10 * k for k in range(1, 11)]
    p = project(APRIL, current, [])
    assert breach_day(p, 35, current) == date(2024, 4, 4)
    assert breach_day(p, 100) == date(2024, 4, 10)  # reached today, no curve given


# --- properties ------------------------------------------------------------------------------

increments = st.lists(st.integers(0, 500), min_size=28, max_size=31)
curves = increments.map(lambda xs: list(accumulate(xs)))


@given(
    st.sampled_from([FEBRUARY, MARCH, APRIL, Month(2023, 2)]),
    st.data(),
    st.lists(curves, max_size=6),
    st.integers(0, 100_000),
)
def test_projection_properties(
    month: Month, data: st.DataObject, earlier: list[list[int]], cap: int
) -> None:
    days = month.last_day().day
    today = data.draw(st.integers(1, days))
    current = data.draw(curves)[:today]
    p = project(month, current, earlier)
    assert p.mau == current[-1]
    assert p.mau <= p.low <= p.expected <= p.high
    assert len(p.shape) == days and p.shape[-1] == pytest.approx(1.0)
    if p.day == days:
        assert p.expected == p.low == p.high == p.mau
    breach = breach_day(p, cap, current)
    if p.mau >= cap:
        assert breach is not None and breach.day <= p.day
    elif breach is None:
        assert p.expected <= cap
    else:
        assert p.day < breach.day <= days and p.expected >= cap - 1
    days_of_breach = [breach_day(p, c) for c in (cap, cap + 1, cap + 50)]
    reached = [d for d in days_of_breach if d is not None]
    assert all(a <= b for a, b in pairwise(reached))  # a higher cap is never reached sooner
    assert days_of_breach[0] is not None or all(d is None for d in days_of_breach)


@given(st.lists(curves.filter(lambda c: c[-1] > 0), min_size=1, max_size=6), st.integers(1, 28))
def test_a_month_like_its_history_projects_exactly(earlier: list[list[int]], today: int) -> None:
    """When every earlier month accrued the same way, the month-end is recovered."""
    shape = earlier[0]
    same = [shape] * len(earlier)
    month = {28: Month(2023, 2), 29: FEBRUARY, 30: APRIL, 31: MARCH}[len(shape)]
    p = project(month, shape[:today], same)
    if shape[today - 1] > 0:
        assert p.method == "accrual"
        assert p.expected == shape[-1]
    assert isinstance(p, Projection)
