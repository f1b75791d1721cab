"""Activity levels (the Velaris view): highly active, active, at risk or dormant on a date.

For a date ``d`` (inclusive: "as of the end of d") and default :class:`LevelRules`:

- the **population** is every person active at least once in the last 90 days ``[d-89, d]``;
- ``recent`` = distinct active days in the last 28 days ``[d-27, d]``,
  ``before`` = distinct active days in the 28 days before that ``[d-55, d-28]``;
- **dormant** — ``recent == 0``;
- **at risk** — ``recent > 0`` and either ``recent < before / 2`` (activity more than halved
  against the previous 28 days) or no activity in the last 14 days ``[d-13, d]``;
- **highly active** — ``recent >= 12``;
- **active** — everyone else in the population: seen lately, steady, but not highly active.
  The issue names three levels; without this fourth a moderate, steady person (say 5 days out
  of 28, both periods) would have to be mislabelled.

**Precedence** when a person meets two definitions: dormant > at risk > highly active > active.
Dormant excludes the others by construction. At risk beats highly active because the level
exists to trigger action: a person on 12 of the last 28 days who was on 26 of the 28 before,
or who has not been seen for two weeks, is sliding, and a CS team wants to see them in the at
risk list now rather than once their 28-day count has caught up.

Movement between two dates pairs each person's level then and now; a person outside the
population on one of the dates is ``"absent"`` there (joined or left the 90-day window).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from maumeter.core.intervals import Activity

__all__ = [
    "ABSENT",
    "LEVELS",
    "Level",
    "LevelReport",
    "LevelRules",
    "activity_levels",
    "classify",
    "level_movement",
    "movers",
]

Level = Literal["highly_active", "active", "at_risk", "dormant"]
LEVELS: tuple[Level, ...] = ("highly_active", "active", "at_risk", "dormant")
ABSENT = "absent"


@dataclass(frozen=True, slots=True)
class LevelRules:
    """Thresholds, each configurable per org; the defaults are the issue's."""

    window: int = 28  # days of "recent" activity, and of the "before" window
    highly_active_days: int = 12  # recent active days for highly active
    decline_ratio: float = 0.5  # at risk when recent < before * decline_ratio
    unseen_days: int = 14  # at risk when no activity in this many latest days
    population_days: int = 90  # who is classified at all

    def __post_init__(self) -> None:
        for name in ("window", "highly_active_days", "unseen_days", "population_days"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not 0 <= self.decline_ratio <= 1:
            raise ValueError(f"decline_ratio must be within [0, 1], got {self.decline_ratio!r}")
        if self.population_days < self.window:
            raise ValueError("population_days must cover the window")


def classify(recent: int, before: int, seen_lately: bool, rules: LevelRules) -> Level:
    """The level from the three facts the rules look at, applying the precedence above."""
    if recent == 0:
        return "dormant"
    if recent < before * rules.decline_ratio or not seen_lately:
        return "at_risk"
    if recent >= rules.highly_active_days:
        return "highly_active"
    return "active"


@dataclass(frozen=True, slots=True)
class LevelReport:
    """Every person of the population on ``day`` with their level."""

    day: date
    rules: LevelRules
    levels: Mapping[str, Level]
    _members: dict[str, frozenset[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        groups: dict[str, set[str]] = {level: set() for level in LEVELS}
        for person, level in self.levels.items():
            groups[level].add(person)
        object.__setattr__(self, "_members", {k: frozenset(v) for k, v in groups.items()})

    @property
    def counts(self) -> dict[str, int]:
        """Persons per level, every level present (0 when empty)."""
        return {level: len(self._members[level]) for level in LEVELS}

    def members(self, level: str) -> frozenset[str]:
        return self._members[level]

    def to_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "counts": self.counts}


def activity_levels(activity: Activity, day: date, rules: LevelRules | None = None) -> LevelReport:
    """Classify every person active in the ``population_days`` ending on ``day``.

    Activity after ``day`` is ignored, so a report for a past date is the one that date had.
    """
    rules = rules or LevelRules()
    population_from = day - timedelta(days=rules.population_days - 1)
    recent_from = day - timedelta(days=rules.window - 1)
    before_from = recent_from - timedelta(days=rules.window)
    seen_from = day - timedelta(days=rules.unseen_days - 1)
    levels: dict[str, Level] = {}
    for person, dates in activity.items():
        recent = before = 0
        in_population = seen_lately = False
        for d in set(dates):
            if d > day:
                continue
            if d >= population_from:
                in_population = True
            if d >= recent_from:
                recent += 1
                seen_lately = seen_lately or d >= seen_from
            elif d >= before_from:
                before += 1
        if in_population:
            levels[person] = classify(recent, before, seen_lately, rules)
    return LevelReport(day, rules, levels)


def level_movement(previous: LevelReport, current: LevelReport) -> dict[tuple[str, str], int]:
    """``(level then, level now) -> persons``, ``"absent"`` outside a population; only pairs
    with at least one person, unchanged pairs included (a Sankey needs them)."""
    persons = previous.levels.keys() | current.levels.keys()
    return dict(
        Counter((previous.levels.get(p, ABSENT), current.levels.get(p, ABSENT)) for p in persons)
    )


def movers(previous: LevelReport, current: LevelReport, then: str, now: str) -> frozenset[str]:
    """The persons behind one cell of :func:`level_movement`."""
    persons = previous.levels.keys() | current.levels.keys()
    return frozenset(
        p
        for p in persons
        if previous.levels.get(p, ABSENT) == then and current.levels.get(p, ABSENT) == now
    )
