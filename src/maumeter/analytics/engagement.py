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
    tally_now: tuple[int, ...]  # persons per code (the last one: absent)
    tally_then: tuple[int, ...]

    @property
    def counts(self) -> dict[str, int]:
        return {level: self.tally_now[i] for i, level in enumerate(LEVELS)}

    @property
    def previous_counts(self) -> dict[str, int]:
        return {level: self.tally_then[i] for i, level in enumerate(LEVELS)}

    @property
    def population(self) -> int:
        return sum(self.tally_now[:ABSENT_CODE])

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


def _code(name: str, field_name: str) -> int:
    if name not in _NAMES:
        raise InvalidInput.field(field_name, f"expected one of {', '.join(_NAMES)}, got {name!r}")
    return _NAMES.index(name)


class _Window:
    """The persons of consecutive days laid end to end, so any run of days is one slice."""

    def __init__(self, days: Days, first: int, last: int) -> None:
        arrays = [days.array(d) for d in range(first, last + 1)]
        self.first = first
        self.flat = np.concatenate(arrays) if arrays else np.empty(0, dtype=np.uint32)
        self.ends = np.cumsum([0, *(len(a) for a in arrays)])

    def span(self, first: int, last: int) -> np.ndarray:
        """Every (person, day) of days ``first..last`` (a person once per active day)."""
        return self.flat[self.ends[first - self.first] : self.ends[last - self.first + 1]]


def classify(days: Days, day: date, rules: LevelRules, window: _Window | None = None) -> np.ndarray:
    """A level code per person root (absent outside the population window).

    Counts of active days are ``bincount``s over slices of the days laid end to end: a few
    vectorised calls per date instead of one update per day."""
    d = epoch_day(day)
    size = days.population()
    reach = max(rules.population_days, 2 * rules.window)
    window = window or _Window(days, d - reach + 1, d)
    present = np.zeros(size, dtype=bool)
    present[window.span(d - rules.population_days + 1, d)] = True
    roots = np.flatnonzero(present)
    recent = np.bincount(window.span(d - rules.window + 1, d), minlength=size)[roots]
    before = np.bincount(window.span(d - 2 * rules.window + 1, d - rules.window), minlength=size)[
        roots
    ]
    lately = np.zeros(size, dtype=bool)
    lately[window.span(d - min(rules.unseen_days, rules.window) + 1, d)] = True
    found = np.full(len(roots), LEVELS.index("active"), dtype=np.int8)
    # precedence: dormant > at risk > highly active > active (later assignments win)
    found[recent >= rules.highly_active_days] = LEVELS.index("highly_active")
    found[(recent < before * rules.decline_ratio) | ~lately[roots]] = LEVELS.index("at_risk")
    found[recent == 0] = LEVELS.index("dormant")
    codes = np.full(size, ABSENT_CODE, dtype=np.int8)
    codes[roots] = found
    return codes


def levels(days: Days, day: date, rules: LevelRules | None = None) -> Levels:
    """Levels on ``day`` and one window earlier (the movement's "previous period")."""
    rules = rules or LevelRules()
    previous = day - timedelta(days=rules.window)
    d = epoch_day(day)
    window = _Window(days, d - rules.window - max(rules.population_days, 2 * rules.window) + 1, d)
    now = classify(days, day, rules, window)
    then = classify(days, previous, rules, window)
    return Levels(day, previous, rules, now, then, _tally(now), _tally(then))


def _tally(codes: np.ndarray) -> tuple[int, ...]:
    return tuple(int(n) for n in np.bincount(codes, minlength=ABSENT_CODE + 1))
