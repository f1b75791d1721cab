"""Stickiness: DAU/MAU per day and per month, and how many days (or weeks) persons come back.

**DAU/MAU of a day** is the persons active that day over the persons active in that day's
*calendar* month — the billing MAU, the whole month, not month-to-date and not a rolling 30
days. For a month still running, the days to come simply have no activity yet, so the caller
gets month-to-date without asking. The ratio is always between 0 and 1; a day whose month has
no active person has ratio 0.0 (nobody to be sticky).

**Per month** the ratio is the mean of the daily ratios over the month's days inside the range;
since MAU is one number per month, that equals mean DAU / MAU.

**Frequency histogram**: for a range and a unit (day or week), ``counts[k]`` is the number of
persons active on exactly ``k`` distinct days (weeks) of the range, for ``k`` from 1 to the
number of days (weeks) the range touches. Only activity dated inside ``[start, end]`` counts,
so a partial first or last week counts as a week if a person was active in its part of the
range. Persons not active in the range are not in the histogram (k = 0 has no bucket).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from maumeter.core.errors import InvalidInput
from maumeter.core.intervals import Activity, interval_index, interval_range
from maumeter.core.months import Month

__all__ = [
    "DailyStickiness",
    "Frequency",
    "MonthlyStickiness",
    "daily_stickiness",
    "frequency",
    "monthly_stickiness",
]


@dataclass(frozen=True, slots=True)
class DailyStickiness:
    day: date
    dau: int
    mau: int

    @property
    def ratio(self) -> float:
        return self.dau / self.mau if self.mau else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "dau": self.dau, "mau": self.mau, "ratio": self.ratio}


@dataclass(frozen=True, slots=True)
class MonthlyStickiness:
    """Mean daily DAU/MAU over ``days`` days of ``month`` (those inside the range)."""

    month: Month
    days: int
    mau: int
    ratio: float

    def to_dict(self) -> dict[str, Any]:
        return {"month": str(self.month), "days": self.days, "mau": self.mau, "ratio": self.ratio}


@dataclass(frozen=True, slots=True)
class Frequency:
    """``counts[k - 1]`` persons were active on exactly ``k`` distinct days or weeks."""

    unit: str
    counts: tuple[int, ...]

    def persons(self) -> int:
        return sum(self.counts)

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "counts": {str(k): n for k, n in enumerate(self.counts, 1)}}


def daily_stickiness(activity: Activity, start: date, end: date) -> list[DailyStickiness]:
    """One row per day of ``[start, end]``; MAU counts the whole calendar month of each day."""
    if start > end:
        return []
    first, last = Month.of_date(start).first_day(), Month.of_date(end).last_day()
    dau: Counter[date] = Counter()
    mau: Counter[int] = Counter()
    for dates in activity.values():
        months = set()
        for d in dates:
            if first <= d <= last:
                months.add(d.year * 12 + d.month - 1)
                if start <= d <= end:
                    dau[d] += 1
        mau.update(months)
    rows = []
    d = start
    while d <= end:
        rows.append(DailyStickiness(d, dau[d], mau[d.year * 12 + d.month - 1]))
        d += timedelta(days=1)
    return rows


def monthly_stickiness(daily: list[DailyStickiness]) -> list[MonthlyStickiness]:
    """Average the rows of :func:`daily_stickiness` per calendar month, in order."""
    groups: dict[Month, list[DailyStickiness]] = {}
    for row in daily:
        groups.setdefault(Month.of_date(row.day), []).append(row)
    return [
        MonthlyStickiness(month, len(rows), rows[0].mau, sum(r.ratio for r in rows) / len(rows))
        for month, rows in sorted(groups.items())
    ]


def frequency(
    activity: Activity, start: date, end: date, unit: str = "day", week_start: str = "monday"
) -> Frequency:
    """The histogram of persons by number of distinct active days (``unit="day"``) or weeks."""
    if unit not in ("day", "week"):
        raise InvalidInput.field("interval", f"frequency counts days or weeks, not {unit!r}")
    buckets = len(interval_range(start, end, unit, week_start))
    counts = [0] * buckets
    for dates in activity.values():
        k = len({interval_index(d, unit, week_start) for d in dates if start <= d <= end})
        if k:
            counts[k - 1] += 1
    return Frequency(unit, tuple(counts))
