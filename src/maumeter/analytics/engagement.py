"""Stickiness, visit frequency and activity levels over the daily index.

The definitions are those of :mod:`maumeter.core.stickiness` and :mod:`maumeter.core.levels`
(pure references, which the tests hold these to); here they run as per-person day counters in
numpy, filled from each day's person array, so a 90-day classification of a million persons
costs a few dozen vectorised updates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from pyroaring import BitMap

from maumeter.analytics.daily import Days
from maumeter.core.errors import InvalidInput
from maumeter.core.intervals import interval_index, interval_range
from maumeter.core.levels import ABSENT, LEVELS, LevelRules
from maumeter.core.months import Month, epoch_day, from_epoch_day
from maumeter.core.stickiness import (
    DailyStickiness,
    Frequency,
    monthly_stickiness,
)

__all__ = [
    "ABSENT_CODE",
    "Levels",
    "classify",
    "daily_stickiness",
    "frequency",
    "levels",
    "monthly_stickiness",
]


def daily_stickiness(days: Days, start: date, end: date) -> list[DailyStickiness]:
    """DAU over the calendar month's MAU, for each day of ``[start, end]``."""
    if start > end:
        return []
    mau: dict[Month, int] = {}
    rows = []
    first, last = epoch_day(start), epoch_day(end)
    for d in range(first, last + 1):
        day = from_epoch_day(d)
        month = Month.of_date(day)
        if month not in mau:
            mau[month] = len(days.union(epoch_day(month.first_day()), epoch_day(month.last_day())))
        rows.append(DailyStickiness(day, len(days.day(d)), mau[month]))
    return rows


def frequency(
    days: Days, start: date, end: date, unit: str = "day", week_start: str = "monday"
) -> Frequency:
    """Persons by their number of distinct active days (or weeks) within ``[start, end]``."""
    if unit not in ("day", "week"):
        raise InvalidInput.field("interval", f"frequency counts days or weeks, not {unit!r}")
    buckets = len(interval_range(start, end, unit, week_start))
    if not buckets:
        return Frequency(unit, ())
    counter = np.zeros(days.population() + 1, dtype=np.int32)
    if unit == "day":
        for d in range(epoch_day(start), epoch_day(end) + 1):
            counter[days.array(d)] += 1
    else:
        weeks: dict[int, list[BitMap]] = {}
        for d in range(epoch_day(start), epoch_day(end) + 1):
            week = interval_index(from_epoch_day(d), "week", week_start)
            weeks.setdefault(week, []).append(days.day(d))
        for parts in weeks.values():
            members = BitMap.union(*parts)
            counter[np.frombuffer(members.to_array(), dtype=np.uint32)] += 1
    histogram = np.bincount(counter, minlength=buckets + 1)[1 : buckets + 1]
    return Frequency(unit, tuple(int(n) for n in histogram))


ABSENT_CODE = len(LEVELS)
_NAMES = (*LEVELS, ABSENT)


@dataclass(frozen=True, slots=True)
class Levels:
    """Activity levels on ``day`` and on ``previous`` (one window earlier), with the movement.

    ``now`` and ``then`` hold a level code per person root (an index into
    :data:`~maumeter.core.levels.LEVELS`, or :data:`ABSENT_CODE` outside the population), so
    counts, movements and lists are array operations with no recomputation.
    """

    day: date
    previous: date
    rules: LevelRules
    now: np.ndarray
    then: np.ndarray

    @property
    def counts(self) -> dict[str, int]:
        return _count(self.now)

    @property
    def previous_counts(self) -> dict[str, int]:
        return _count(self.then)

    @property
    def population(self) -> int:
        return int(np.count_nonzero(self.now != ABSENT_CODE))

    def members(self, level: str) -> np.ndarray:
        """The roots at ``level`` on ``day``, ascending (a level, not "absent")."""
        code = _code(level, "level")
        if code == ABSENT_CODE:
            raise InvalidInput.field("level", "absent is a movement's end: give previous too")
        return np.flatnonzero(self.now == code)

    def movement(self) -> dict[tuple[str, str], int]:
        """``(level then, level now) -> persons``; only pairs with someone in them."""
        pair = self.then.astype(np.int16) * (ABSENT_CODE + 1) + self.now
        counts = np.bincount(pair, minlength=(ABSENT_CODE + 1) ** 2)
        return {
            (_NAMES[k // (ABSENT_CODE + 1)], _NAMES[k % (ABSENT_CODE + 1)]): int(n)
            for k, n in enumerate(counts)
            if n and k != ABSENT_CODE * (ABSENT_CODE + 1) + ABSENT_CODE
        }

    def movers(self, then: str, now: str) -> np.ndarray:
        """The roots behind one movement cell, ascending."""
        a, b = _code(then, "from"), _code(now, "to")
        if a == b == ABSENT_CODE:
            return np.empty(0, dtype=np.int64)
        return np.flatnonzero((self.then == a) & (self.now == b))

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "previous_day": self.previous.isoformat(),
            "rules": {
                "window": self.rules.window,
                "highly_active_days": self.rules.highly_active_days,
                "decline_ratio": self.rules.decline_ratio,
                "unseen_days": self.rules.unseen_days,
                "population_days": self.rules.population_days,
            },
            "population": self.population,
            "counts": self.counts,
            "previous_counts": self.previous_counts,
            "movement": [
                {"from": a, "to": b, "persons": n} for (a, b), n in self.movement().items()
            ],
        }


def _count(codes: np.ndarray) -> dict[str, int]:
    found = np.bincount(codes, minlength=ABSENT_CODE + 1)
    return {level: int(found[i]) for i, level in enumerate(LEVELS)}


def _code(name: str, field_name: str) -> int:
    if name not in _NAMES:
        raise InvalidInput.field(field_name, f"expected one of {', '.join(_NAMES)}, got {name!r}")
    return _NAMES.index(name)


def classify(days: Days, day: date, rules: LevelRules) -> np.ndarray:
    """A level code per person root (absent outside the population window)."""
    d = epoch_day(day)
    size = days.population()
    recent = np.zeros(size, dtype=np.int32)
    before = np.zeros(size, dtype=np.int32)
    lately = np.zeros(size, dtype=bool)
    present = np.zeros(size, dtype=bool)
    for k in range(rules.population_days):
        ids = days.array(d - k)
        if not len(ids):
            continue
        present[ids] = True
        if k < rules.window:
            recent[ids] += 1
            if k < rules.unseen_days:
                lately[ids] = True
        elif k < 2 * rules.window:
            before[ids] += 1
    if 2 * rules.window > rules.population_days:  # "before" reaches past the population
        for k in range(rules.population_days, 2 * rules.window):
            before[days.array(d - k)] += 1
    codes = np.full(size, ABSENT_CODE, dtype=np.int8)
    dormant = present & (recent == 0)
    at_risk = present & ~dormant & ((recent < before * rules.decline_ratio) | ~lately)
    highly = present & ~dormant & ~at_risk & (recent >= rules.highly_active_days)
    active = present & ~dormant & ~at_risk & ~highly
    for i, mask in enumerate((highly, active, at_risk, dormant)):
        codes[mask] = i
    return codes


def levels(days: Days, day: date, rules: LevelRules | None = None) -> Levels:
    """Levels on ``day`` and one window earlier (the movement's "previous period")."""
    rules = rules or LevelRules()
    previous = day - timedelta(days=rules.window)
    return Levels(day, previous, rules, classify(days, day, rules), classify(days, previous, rules))
