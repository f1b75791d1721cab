"""Month-over-month, year-over-year and compound monthly growth of consecutive months."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maumeter.core.errors import InvalidInput
from maumeter.core.growth import cmgr, growth
from maumeter.core.months import Month

JAN = Month(2023, 1)


def run(values: list[int], start: Month = JAN) -> list[tuple[Month, int]]:
    return [(Month.from_index(start.index + i), v) for i, v in enumerate(values)]


def test_rates_of_a_small_series() -> None:
    g = growth(run([100, 110, 0, 50]))
    assert [m.mom for m in g.months] == [None, pytest.approx(0.1), -1.0, None]  # from 0: none
    assert all(m.yoy is None for m in g.months)
    assert g.cmgr == pytest.approx((50 / 100) ** (1 / 3) - 1)


def test_year_over_year_needs_the_same_month_a_year_earlier() -> None:
    values = [100 + i for i in range(14)]
    g = growth(run(values))
    assert [m.yoy for m in g.months[:12]] == [None] * 12
    assert g.months[12].month == Month(2024, 1)
    assert g.months[12].yoy == pytest.approx(112 / 100 - 1)
    assert g.months[13].yoy == pytest.approx(113 / 101 - 1)


def test_cmgr_starts_at_the_first_month_with_mau() -> None:
    assert cmgr([0, 0, 100, 200, 400]) == pytest.approx(1.0)  # doubles every month from launch
    assert cmgr([0, 0, 0]) is None
    assert cmgr([0, 5]) is None  # one month with MAU: no rate
    assert cmgr([7]) is None and cmgr([]) is None
    assert cmgr([100, 50, 0]) == -1.0  # a decline to nothing


def test_to_dict_is_json_ready() -> None:
    g = growth(run([10, 20]))
    assert g.to_dict() == {
        "months": [
            {"month": "2023-01", "mau": 10, "mom": None, "yoy": None},
            {"month": "2023-02", "mau": 20, "mom": 1.0, "yoy": None},
        ],
        "cmgr": 1.0,
    }
    assert growth([]).to_dict() == {"months": [], "cmgr": None}


def test_gaps_and_bad_counts_are_refused_with_their_positions() -> None:
    monthly = [(Month(2024, 1), 10), (Month(2024, 3), -1), (Month(2024, 4), True), ("x", 1)]
    with pytest.raises(InvalidInput) as e:
        growth(monthly)  # type: ignore[arg-type]
    fields = [p.field for p in e.value.problems]
    assert fields == ["monthly[1]", "monthly[1]", "monthly[2]", "monthly[3]"]
    assert "expected 2024-02" in str(e.value)
    with pytest.raises(InvalidInput):
        growth("2024-01")  # type: ignore[arg-type]


@given(
    st.lists(st.integers(min_value=0, max_value=10**9), max_size=40),
    st.integers(min_value=2000 * 12, max_value=2100 * 12),
)
def test_growth_matches_a_naive_recompute(values: list[int], start: int) -> None:
    g = growth(run(values, Month.from_index(start)))
    assert len(g.months) == len(values)
    for i, row in enumerate(g.months):
        assert row.month == Month.from_index(start + i) and row.mau == values[i]
        prev = values[i - 1] if i else 0
        assert row.mom == (None if prev == 0 else values[i] / prev - 1)
        year = values[i - 12] if i >= 12 else 0
        assert row.yoy == (None if year == 0 else values[i] / year - 1)
    nonzero = [i for i, v in enumerate(values) if v]
    if not nonzero or nonzero[0] == len(values) - 1:
        assert g.cmgr is None
    else:
        first, n = values[nonzero[0]], len(values) - nonzero[0]
        assert g.cmgr is not None
        # compounding the rate n - 1 times leads from the first month with MAU to the last
        assert math.isclose(first * (1 + g.cmgr) ** (n - 1), values[-1], rel_tol=1e-9, abs_tol=1e-6)
