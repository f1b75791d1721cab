"""STL decomposition: a known weekly and yearly pattern, strength, profile, short histories."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from maumeter.analytics.seasonality import decompose, seasonal_strength
from maumeter.core.errors import InvalidInput
from maumeter.core.months import Month

MONDAY = date(2024, 3, 4)
# DAU by weekday: a busy Tuesday, a quiet Sunday
WEEK = {0: 120, 1: 260, 2: 150, 3: 140, 4: 90, 5: -200, 6: -260}


def days(n: int, first: date = MONDAY) -> list[str]:
    return [(first + timedelta(days=i)).isoformat() for i in range(n)]


def daily(n: int, first: date = MONDAY) -> list[float]:
    """A rising trend, the weekly pattern and a little deterministic noise."""
    return [
        1_000 + 4 * i + WEEK[(first + timedelta(days=i)).weekday()] + 15 * math.sin(i * 2.7)
        for i in range(n)
    ]


def test_a_weekly_pattern_is_recovered() -> None:
    first = MONDAY + timedelta(days=3)  # a Thursday: positions follow the calendar, not the start
    d = decompose(daily(63, first), days(63, first), 7)
    assert d.available and d.reason is None
    assert [label for label, _ in d.profile] == [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ]
    assert (d.peak, d.trough) == ("Tuesday", "Sunday")
    assert d.strength is not None and d.strength > 0.9
    profile = dict(d.profile)
    mean = sum(WEEK.values()) / 7
    for weekday, effect in WEEK.items():  # within 15 % of the weekly swing
        assert profile[list(profile)[weekday]] == pytest.approx(effect - mean, abs=0.15 * 520)
    # the parts add up to the series (up to the rounding to 2 decimals)
    for o, t, s, r in zip(d.observed, d.trend, d.seasonal, d.residual, strict=True):
        assert t + s + r == pytest.approx(o, abs=0.02)
    assert d.trend[-1] - d.trend[0] == pytest.approx(4 * 62, rel=0.1)


def test_a_yearly_pattern_on_months() -> None:
    labels = [str(Month.from_index(Month(2021, 1).index + i)) for i in range(36)]
    values = [5_000 + 1_000 * math.cos(2 * math.pi * (i - 6) / 12) for i in range(36)]
    d = decompose(values, labels, 12)
    assert d.profile[0][0] == "January" and len(d.profile) == 12
    assert (d.peak, d.trough) == ("July", "January")


def test_two_full_seasons_are_needed() -> None:
    short = decompose(daily(13), days(13), 7)
    assert not short.available
    assert short.reason == "not enough history: 2 full seasons (14 days) needed, 13 given"
    assert short.trend == short.seasonal == short.residual == () and short.peak is None
    assert len(short.observed) == 13
    assert decompose(daily(14), days(14), 7).available
    months = decompose(
        [1.0] * 20,
        [f"2024-{m:02d}" for m in range(1, 13)] + [f"2025-{m:02d}" for m in range(1, 9)],
        12,
    )
    assert months.reason == "not enough history: 2 full seasons (24 months) needed, 20 given"
    other = decompose([1.0, 2.0, 3.0], ["a", "b", "c"], 2)
    assert other.reason == "not enough history: 2 full seasons (4 points) needed, 3 given"


def test_no_season_no_peak() -> None:
    flat = decompose([50.0] * 28, days(28), 7)
    assert flat.available and flat.strength == 0.0
    assert flat.peak is None and flat.trough is None
    assert all(v == 0.0 for v in flat.seasonal)  # no "-0.0"


def test_other_labels_name_positions_by_their_first_occurrence() -> None:
    labels = [f"sprint {i}" for i in range(12)]
    d = decompose([10.0, 30.0, 20.0] * 4, labels, 3)
    assert [label for label, _ in d.profile] == ["sprint 0", "sprint 1", "sprint 2"]
    assert d.peak == "sprint 1" and d.trough == "sprint 0"


def test_seasonal_strength() -> None:
    assert seasonal_strength([1, -1, 1, -1], [0, 0, 0, 0]) == 1.0
    assert seasonal_strength([0, 0, 0, 0], [1, -1, 1, -1]) == 0.0
    assert seasonal_strength([0, 0], [0, 0]) == 0.0
    assert 0 < seasonal_strength([2, -2, 2, -2], [1, -1, -1, 1]) < 1


def test_to_dict() -> None:
    d = decompose(daily(14), days(14), 7).to_dict()
    assert set(d) == {
        "available",
        "reason",
        "period",
        "labels",
        "observed",
        "trend",
        "seasonal",
        "residual",
        "strength",
        "profile",
        "peak",
        "trough",
    }
    assert d["profile"][0] == {"position": "Monday", "seasonal": d["profile"][0]["seasonal"]}
    assert len(d["trend"]) == len(d["labels"]) == 14


def test_bad_input_is_refused() -> None:
    with pytest.raises(InvalidInput) as e:
        decompose([1.0, float("nan")], ["a"], 1)
    assert [p.field for p in e.value.problems] == ["period", "values[1]", "labels"]
    gap = days(20)
    del gap[9]
    with pytest.raises(InvalidInput) as e:
        decompose(daily(19), gap, 7)
    assert e.value.problems[0].field == "labels[9]"
    with pytest.raises(InvalidInput, match="labels"):
        decompose([1.0, 2.0], ["2024-02-30", "2024-03-01"], 7)
