"""Activity levels on a date: thresholds, precedence, population, movement."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maumeter.core.levels import (
    LEVELS,
    LevelRules,
    activity_levels,
    classify,
    level_movement,
    movers,
)

DAY = date(2024, 6, 30)


def ago(*days: int) -> set[date]:
    return {DAY - timedelta(days=n) for n in days}


def test_default_levels() -> None:
    activity = {
        "power": ago(*range(0, 24, 2)),  # 12 of the last 28 days, seen today
        "steady": ago(1, 8, 15) | ago(30, 37),  # 3 recent vs 2 before
        "slipping": ago(3) | ago(*range(28, 56, 7)),  # 1 recent vs 4 before: halved
        "unseen": ago(20, 21, 22),  # nothing in the last 14 days
        "gone": ago(40),  # nothing in 28 days, still in the 90-day population
        "left": ago(95),  # outside the population
        "future": {DAY + timedelta(days=1)},  # after the date: ignored
    }
    report = activity_levels(activity, DAY)
    assert dict(report.levels) == {
        "power": "highly_active",
        "steady": "active",
        "slipping": "at_risk",
        "unseen": "at_risk",
        "gone": "dormant",
    }
    assert report.counts == {"highly_active": 1, "active": 1, "at_risk": 2, "dormant": 1}
    assert report.members("at_risk") == {"slipping", "unseen"}
    assert report.to_dict()["day"] == "2024-06-30"


def test_at_risk_beats_highly_active() -> None:
    # 12 recent days, but 26 the 28 days before: more than halved.
    declining = ago(*range(12)) | ago(*range(28, 54))
    # 14 recent days, none in the last 14: unseen for two weeks.
    quiet = ago(*range(14, 28))
    report = activity_levels({"declining": declining, "quiet": quiet}, DAY)
    assert dict(report.levels) == {"declining": "at_risk", "quiet": "at_risk"}
    assert classify(12, 24, True, LevelRules()) == "highly_active"  # exactly half: not a decline


def test_configurable_thresholds() -> None:
    rules = LevelRules(window=7, highly_active_days=3, unseen_days=3, population_days=30)
    report = activity_levels(
        {"a": ago(0, 1, 2), "b": ago(5), "c": ago(10), "d": ago(40)}, DAY, rules
    )
    assert dict(report.levels) == {"a": "highly_active", "b": "at_risk", "c": "dormant"}
    with pytest.raises(ValueError):
        LevelRules(window=0)
    with pytest.raises(ValueError):
        LevelRules(decline_ratio=2)
    with pytest.raises(ValueError):
        LevelRules(population_days=10)


def test_movement_since_a_previous_date() -> None:
    activity = {
        "ann": ago(*range(0, 24, 2)) | ago(30),
        "bob": ago(50),
        "new": ago(0),
    }
    before = activity_levels(activity, DAY - timedelta(days=28))
    now = activity_levels(activity, DAY)
    assert level_movement(before, now) == {
        ("active", "highly_active"): 1,  # ann: one day, 2 days before the previous date
        ("at_risk", "dormant"): 1,  # bob: unseen for 22 days then, 50 now
        ("absent", "active"): 1,  # new
    }
    assert movers(before, now, "absent", "active") == {"new"}
    assert movers(before, now, "dormant", "active") == frozenset()


@given(
    st.dictionaries(
        st.text("abcdef", min_size=1, max_size=2),
        st.frozensets(st.integers(-5, 120).map(lambda n: DAY - timedelta(days=n)), max_size=40),
        max_size=10,
    )
)
def test_every_person_of_the_last_90_days_has_exactly_one_level(activity) -> None:
    report = activity_levels(activity, DAY)
    population = {
        p for p, ds in activity.items() if any(DAY - timedelta(days=89) <= d <= DAY for d in ds)
    }
    assert set(report.levels) == population
    assert sum(report.counts.values()) == len(population)
    assert set().union(*(report.members(level) for level in LEVELS)) == population
    for person, level in report.levels.items():
        recent = sum(1 for d in activity[person] if DAY - timedelta(days=27) <= d <= DAY)
        assert (level == "dormant") == (recent == 0)
        if level == "highly_active":
            assert recent >= 12
